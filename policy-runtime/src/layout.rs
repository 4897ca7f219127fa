//! The in-memory weight layout used by inference.
//!
//! A layer's weights are kept in an array of the same type as the row-major `[out][in]`
//! input, `[[f32; IN]; OUT]`, but in a different order: outputs are grouped in blocks of
//! [`BLOCK`]; each full block stores its `IN x BLOCK` weights input-major (`[in][k]`), so
//! inference runs `BLOCK` independent accumulators over the inputs (an axpy the compiler
//! vectorises, with the accumulators in registers). The remaining `OUT % BLOCK` outputs keep
//! plain row-major rows and are computed as dot products (see `inference`).
//!
//! The order of the additions for any one output is the same for every `BLOCK`, so the
//! result does not depend on it: it is tuned per target.

/// Outputs computed together. Cortex-M4F has 32 single-precision registers: 8 accumulators
/// leave room for the loaded weights. x86-64 has 16 vector registers: 8 independent vector
/// accumulators hide the addition latency.
#[cfg(target_arch = "arm")]
pub(crate) const BLOCK: usize = 8;
/// Outputs computed together (see the ARM variant).
#[cfg(all(not(target_arch = "arm"), target_feature = "avx512f"))]
pub(crate) const BLOCK: usize = 64;
/// Outputs computed together (see the ARM variant).
#[cfg(all(
    not(target_arch = "arm"),
    not(target_feature = "avx512f"),
    target_feature = "avx"
))]
pub(crate) const BLOCK: usize = 32;
/// Outputs computed together (see the ARM variant).
#[cfg(all(
    not(target_arch = "arm"),
    not(target_feature = "avx512f"),
    not(target_feature = "avx")
))]
pub(crate) const BLOCK: usize = 32;

/// Position (in the flattened `[[f32; in_dim]; out_dim]`) of the weight from input `i` to
/// output `o`.
pub(crate) const fn index(o: usize, i: usize, in_dim: usize, out_dim: usize) -> usize {
    let blocked = out_dim / BLOCK * BLOCK;
    if o < blocked {
        (o / BLOCK) * BLOCK * in_dim + i * BLOCK + o % BLOCK
    } else {
        // The tail rows stay row-major, which is exactly this position.
        o * in_dim + i
    }
}

/// Re-lays a row-major `[out][in]` weight matrix out for inference (at compile time when
/// called from a `const` context).
pub(crate) const fn from_row_major<const IN: usize, const OUT: usize>(
    w: &[[f32; IN]; OUT],
) -> [[f32; IN]; OUT] {
    let mut out = [[0.0f32; IN]; OUT];
    let mut o = 0;
    while o < OUT {
        let mut i = 0;
        while i < IN {
            let p = index(o, i, IN, OUT);
            out[p / IN][p % IN] = w[o][i];
            i += 1;
        }
        o += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_a_permutation() {
        for (in_dim, out_dim) in [
            (3, 64),
            (64, 64),
            (64, 1),
            (5, BLOCK + 3),
            (1, 1),
            (7, 2 * BLOCK),
        ] {
            let mut seen = [false; 4096];
            for o in 0..out_dim {
                for i in 0..in_dim {
                    let p = index(o, i, in_dim, out_dim);
                    assert!(p < in_dim * out_dim);
                    assert!(!seen[p], "position {p} used twice");
                    seen[p] = true;
                }
            }
        }
    }
}
