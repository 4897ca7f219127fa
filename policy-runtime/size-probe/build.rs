//! Links the probe with `Reset` as its entry point (no runtime crate, no linker script:
//! unused code is discarded from there, so the sizes are those of the inference path).
fn main() {
    println!("cargo:rustc-link-arg-bins=--entry=Reset");
}
