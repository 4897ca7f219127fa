//! The in-memory weight layout used by inference.
//!
//! A layer's weights are kept in an array of the same type as the row-major `[out][in]`
//! input, `[[f32; IN]; OUT]`, but (for layers with at least [`DOT_MAX_OUT`] outputs) in a
//! different order: outputs are grouped in blocks of [`BLOCK`] (the last block may be
//! narrower); each block stores its weights input-major, `[in][k]`, so that inference runs
//! one accumulator per output of the block over the inputs — an axpy the compiler
//! vectorises, with the accumulators in registers. Layers with fewer outputs (the actor's
//! last layer) stay row-major and are computed as dot products.
//!
//! The order of the additions for any one output depends only on the layer's shape, never
//! on [`BLOCK`] (see `inference`), so results are bit-identical on every target while the
//! block width is tuned per target.

/// A weight matrix aligned to a 64-byte cache line, so that wide vector loads (a 512-bit
/// load is a whole line) never straddle two lines. Measured on AVX-512 (back-to-back
/// 3-64-64-1, boxed policy): 236 cycles per inference aligned; 236 to 324 cycles unaligned,
/// depending on where the allocator placed the policy. Costs < 64 bytes per matrix.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Aligned<T>(pub(crate) T);

/// Layers with fewer outputs than this are computed as dot products (row-major weights).
pub(crate) const DOT_MAX_OUT: usize = 8;

/// Outputs computed together. Cortex-M4F has 32 single-precision registers: 8
/// accumulators plus the loaded weights fit.
#[cfg(target_arch = "arm")]
pub(crate) const BLOCK: usize = 8;
/// Outputs computed together: 64 accumulators = 4 of the 32 zmm registers.
#[cfg(all(not(target_arch = "arm"), target_feature = "avx512f"))]
pub(crate) const BLOCK: usize = 64;
/// Outputs computed together: 32 accumulators = 4 of the 16 ymm registers.
#[cfg(all(
    not(target_arch = "arm"),
    not(target_feature = "avx512f"),
    target_feature = "avx"
))]
pub(crate) const BLOCK: usize = 32;
/// Outputs computed together: 32 accumulators = 8 of the 16 xmm registers.
#[cfg(all(
    not(target_arch = "arm"),
    not(target_feature = "avx512f"),
    not(target_feature = "avx")
))]
pub(crate) const BLOCK: usize = 32;

/// Position (in the flattened `[[f32; in_dim]; out_dim]`) of the weight from input `i` to
/// output `o`.
pub(crate) const fn index(o: usize, i: usize, in_dim: usize, out_dim: usize) -> usize {
    if out_dim < DOT_MAX_OUT {
        return o * in_dim + i;
    }
    let start = o / BLOCK * BLOCK;
    let width = if out_dim - start < BLOCK {
        out_dim - start
    } else {
        BLOCK
    };
    start * in_dim + i * width + (o - start)
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
            (9, 7),
            (2, 8),
            (3, 100),
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
