//! Pair-packed int8 weights: two output rows' weights in one 32-bit word, so that one
//! 32 × 32 → 64-bit multiply-accumulate (`SMLAL` on Armv7E-M and Armv8-M mainline) does two
//! int8 multiply-adds, with no `unsafe`, no intrinsic and no special compiler option.
//!
//! ## The arithmetic
//!
//! For output rows `a` (even) and `b = a + 1` and input `j`, the stored word is
//!
//! ```text
//! W[j] = w[a][j] · 2^K + w[b][j]          (an i32: |W| ≤ 128·2^23 + 128 < 2^31)
//! ```
//!
//! and one 64-bit sum over the inputs gives both rows at once:
//!
//! ```text
//! S = Σ_j W[j] · x[j] = A · 2^K + B,      A = Σ_j w[a][j]·x[j],  B = Σ_j w[b][j]·x[j]
//! ```
//!
//! exactly (no rounding, no overflow: `|A|, |B| ≤ IN · 2^14`, `|S| < 2^45`). With
//! `|B| < 2^(K−1)`, `B` is the low `K` bits of `S` sign-extended, and `A = (S − B) / 2^K`.
//! That holds for every weight and input in `−128..=127` when `IN · 2^14 < 2^(K−1)`: with
//! `K = 23`, for layers of up to [`MAX_INPUTS`] inputs. Wider layers are stored one weight
//! per `u16` and summed row by row.
//!
//! The sums are the same integers as the plain definition's, so the activations are
//! bit-identical to it (unit test `pair_packed_sums_are_the_plain_ones`). The cost: two
//! bytes per weight instead of one.
//!
//! ## The layout
//!
//! A layer `[[u16; IN]; OUT]` (two `u16` halves per 32-bit word, little-endian, aligned to 4
//! by [`Words`]) holds:
//! - blocks of [`BLOCK_ROWS`] rows (`BLOCK_ROWS / 2` row pairs), each stored input-major: for
//!   each input `j`, the pairs' words in order (so the block's inner loop reads consecutive
//!   words, which the compiler loads two at a time with `LDRD`);
//! - then the remaining rows (fewer than a block, or every row of a wider layer), row-major,
//!   one weight per `u16` (its `i16` bits).
//!
//! Each block takes `BLOCK_ROWS · IN` halves, so the remaining rows start where a row-major
//! layout's would.

/// Rows summed together: two pairs, two 64-bit accumulators (four core registers), one
/// input load shared by four multiply-adds. Eight rows (four accumulators) measured worse on
/// a Cortex-M4: the compiler spills (13,444 instructions per 3-64-64-1 inference against
/// 12,219 for four rows, both with a plain input loop), and two rows took 14,650.
pub(crate) const BLOCK_ROWS: usize = 4;
/// The bit position of the even row's lane.
const K: u32 = 23;
/// The widest layer that is pair-packed (`IN · 2^14 < 2^(K − 1)`).
pub(crate) const MAX_INPUTS: usize = 128;

/// A layer's stored weights, aligned for word (and `LDRD`) loads.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(4))]
pub(crate) struct Words<const IN: usize, const OUT: usize>(pub(crate) [[u16; IN]; OUT]);

/// Blocks of [`BLOCK_ROWS`] pair-packed rows in a layer `IN`-`OUT`.
const fn blocks(inputs: usize, outputs: usize) -> usize {
    if inputs > MAX_INPUTS {
        0
    } else {
        outputs / BLOCK_ROWS
    }
}

impl<const IN: usize, const OUT: usize> Words<IN, OUT> {
    /// All weights zero.
    pub(crate) const ZERO: Self = Self([[0; IN]; OUT]);

    /// Adds weight `w` of output `o`, input `i` into the stored words (every stored value
    /// is a sum of its weights' contributions, so a layer is built by adding each weight once
    /// into [`Words::ZERO`], in any order). Out-of-range positions are ignored.
    // The index is checked against the array's length first (const fns cannot use `get`).
    #[allow(clippy::indexing_slicing)]
    pub(crate) const fn add(&mut self, o: usize, i: usize, w: i8) {
        if o >= OUT || i >= IN {
            return;
        }
        let packed = blocks(IN, OUT) * BLOCK_ROWS;
        if o >= packed {
            // Row-major, one weight per half.
            self.0[o][i] = w as i16 as u16;
            return;
        }
        let (block, row) = (o / BLOCK_ROWS, o % BLOCK_ROWS);
        let word = (block * IN + i) * (BLOCK_ROWS / 2) + row / 2;
        let add = if row % 2 == 0 {
            (w as i32) << K
        } else {
            w as i32
        };
        let (lo, hi) = (2 * word, 2 * word + 1);
        let old = (self.0[lo / IN][lo % IN] as u32) | ((self.0[hi / IN][hi % IN] as u32) << 16);
        let new = old.wrapping_add(add as u32);
        self.0[lo / IN][lo % IN] = new as u16;
        self.0[hi / IN][hi % IN] = (new >> 16) as u16;
    }

    /// `acc[o] = bias[o] + Σ_i w[o][i] · x[i]` for every output (wrapping in `i32`, like the
    /// plain definition; the sums themselves are exact).
    #[inline(always)]
    pub(crate) fn accumulate(&self, bias: &[i32; OUT], x: &[i8; IN], acc: &mut [i32; OUT]) {
        if IN == 0 {
            // No inputs: the sums are the biases (and `chunks_exact` below needs IN > 0).
            *acc = *bias;
            return;
        }
        let flat = self.0.as_flattened();
        let packed = blocks(IN, OUT) * BLOCK_ROWS;
        let (Some((w_blocks, w_rest)), Some((a_blocks, a_rest)), Some((b_blocks, b_rest))) = (
            flat.split_at_checked(packed.saturating_mul(IN)),
            acc.split_at_mut_checked(packed),
            bias.split_at_checked(packed),
        ) else {
            return;
        };
        let blocks = w_blocks
            .chunks_exact(BLOCK_ROWS.saturating_mul(IN))
            .zip(a_blocks.chunks_exact_mut(BLOCK_ROWS))
            .zip(b_blocks.chunks_exact(BLOCK_ROWS));
        for ((w, a), b) in blocks {
            block(w, x, b, a);
        }
        for ((row, a), &b) in w_rest.chunks_exact(IN).zip(a_rest).zip(b_rest) {
            *a = row.iter().zip(x).fold(b, |s, (&w, &x)| {
                s.wrapping_add(i32::from(w as i16) * i32::from(x))
            });
        }
    }
}

/// One block: `w` is `[IN][BLOCK_ROWS / 2]` words (as `u16` halves), `bias` and `acc` the
/// block's [`BLOCK_ROWS`] rows.
///
/// Two inputs per step, four 64-bit multiply-accumulates. The step count goes through
/// [`core::hint::black_box`] so that the optimiser does not unroll the loop further: on a
/// Cortex-M4 the fully scheduled unrolled body runs out of the 13 free core registers and
/// spills (measured: 12,208 instructions per 3-64-64-1 inference against 11,565).
#[inline(always)]
fn block(w: &[u16], x: &[i8], bias: &[i32], acc: &mut [i32]) {
    const _: () = assert!(BLOCK_ROWS == 4);
    const HALVES: usize = BLOCK_ROWS; // per input: BLOCK_ROWS / 2 words
    let mut s = [0i64; BLOCK_ROWS / 2];
    let (x2, w2) = (x.chunks_exact(2), w.chunks_exact(2 * HALVES));
    let (x_rest, w_rest) = (x2.remainder(), w2.remainder());
    let steps = core::hint::black_box(x.len() / 2);
    for (x, h) in x2.zip(w2).take(steps) {
        if let (&[x0, x1], &[a0, a1, b0, b1, c0, c1, d0, d1]) = (x, h) {
            mac(&mut s, x0, &[a0, a1, b0, b1]);
            mac(&mut s, x1, &[c0, c1, d0, d1]);
        }
    }
    if let (&[x0], h) = (x_rest, w_rest) {
        mac(&mut s, x0, h);
    }
    for ((s, a), b) in s
        .iter()
        .zip(acc.chunks_exact_mut(2))
        .zip(bias.chunks_exact(2))
    {
        if let ([even, odd], [b_even, b_odd]) = (a, b) {
            // The odd row: the low K bits, sign-extended; the even row: the rest.
            let low = ((*s as i32) << (32 - K)) >> (32 - K);
            let high = (s.wrapping_sub(i64::from(low)) >> K) as i32;
            *even = b_even.wrapping_add(high);
            *odd = b_odd.wrapping_add(low);
        }
    }
}

/// `s[q] += W_q · x` for the two words `W_q` of one input (four `u16` halves).
#[inline(always)]
fn mac(s: &mut [i64; BLOCK_ROWS / 2], x: i8, h: &[u16]) {
    if let &[a0, a1, b0, b1] = h {
        let word = |lo: u16, hi: u16| i64::from((u32::from(lo) | (u32::from(hi) << 16)) as i32);
        let x = i64::from(x);
        let [s0, s1] = s;
        *s0 = s0.wrapping_add(word(a0, a1).wrapping_mul(x));
        *s1 = s1.wrapping_add(word(b0, b1).wrapping_mul(x));
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn layer<const IN: usize, const OUT: usize>(w: &[[i8; IN]; OUT]) -> Words<IN, OUT> {
        let mut p = Words::<IN, OUT>::ZERO;
        for (o, row) in w.iter().enumerate() {
            for (i, &v) in row.iter().enumerate() {
                p.add(o, i, v);
            }
        }
        p
    }

    fn check<const IN: usize, const OUT: usize>(next: &mut impl FnMut() -> u32, extreme: bool) {
        let mut w = [[0i8; IN]; OUT];
        let mut x = [0i8; IN];
        for v in w.as_flattened_mut() {
            *v = if extreme { -128 } else { next() as u8 as i8 };
        }
        for v in &mut x {
            *v = if extreme { -128 } else { next() as u8 as i8 };
        }
        let b: [i32; OUT] = core::array::from_fn(|_| next() as i32);
        let want: [i32; OUT] = core::array::from_fn(|r| {
            w[r].iter().zip(&x).fold(b[r], |a, (&w, &x)| {
                a.wrapping_add(i32::from(w) * i32::from(x))
            })
        });
        let mut got = [0i32; OUT];
        layer(&w).accumulate(&b, &x, &mut got);
        assert_eq!(got, want, "{IN}-{OUT}, extreme {extreme}");
    }

    /// Every shape the runtime uses, odd and narrow ones, and the widest packed layer at the
    /// extreme values (all weights and inputs −128: the lanes' largest sums), against the
    /// plain `bias + Σ w·x` in wrapping `i32`; a block built in another weight order stores
    /// the same words.
    #[test]
    fn pair_packed_sums_are_the_plain_ones() {
        let mut state = 0x9E37_79B9u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..50 {
            check::<3, 64>(&mut next, false);
            check::<4, 64>(&mut next, false);
            check::<64, 64>(&mut next, false);
            check::<128, 128>(&mut next, false);
            check::<13, 10>(&mut next, false);
            check::<5, 7>(&mut next, false);
            check::<256, 9>(&mut next, false);
        }
        check::<0, 8>(&mut next, false);
        check::<128, 16>(&mut next, true);
        check::<64, 64>(&mut next, true);
        check::<256, 9>(&mut next, true);

        let mut w = [[0i8; 6]; 17];
        for v in w.as_flattened_mut() {
            *v = next() as u8 as i8;
        }
        let mut reversed = Words::<6, 17>::ZERO;
        for o in (0..17).rev() {
            for i in (0..6).rev() {
                reversed.add(o, i, w[o][i]);
            }
        }
        assert_eq!(reversed.0, layer(&w).0);
    }
}
