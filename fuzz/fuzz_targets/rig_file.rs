//! The rig file parser: never panics; an accepted rig builds its plant or is refused by name,
//! and its TOML text parses back to the same rig.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rig) = sim::Rig::from_toml_str(text, "fuzz") else {
        return;
    };
    if rig.build().is_ok() {
        let back = sim::Rig::from_toml_str(&rig.to_toml(), "fuzz").expect("own TOML parses");
        assert_eq!(back.to_toml(), rig.to_toml());
    }
});
