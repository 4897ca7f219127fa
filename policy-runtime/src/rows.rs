//! The Cortex-M0's int8 hidden layers: one byte per weight, summed a row at a time.
//!
//! A weight `w` is stored as `w + 128` (`0..=255`, the bit pattern of `w` with its top bit
//! flipped): `Σ w·x = Σ (w + 128)·x − 128·Σ x`, and the correction `128·Σ x` is one sum per
//! layer, shared by every row. Thumb-1 `LDRB` takes an immediate offset, `LDRSB` only a
//! register one, so a signed weight would cost the M0 an extra register or load per
//! multiply-add (5 instead of 4 instructions). The input is widened to `i32` once per layer;
//! one row per pass, since the M0's eight low registers hold no more (four rows per pass took
//! 12.1 instructions per multiply-add against 10.0) and Armv6-M has no 64-bit multiply for the
//! other cores' pair-packed layers ([`crate::pairs`]). Integer sums are exact: the result is
//! the plain definition's.

/// The stored form of weight 0.
const OFFSET: u8 = 0x80;

/// A layer's stored weights, `[out][in]`, each `w + 128`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowBytes<const IN: usize, const OUT: usize>([[u8; IN]; OUT]);

impl<const IN: usize, const OUT: usize> RowBytes<IN, OUT> {
    /// All weights zero.
    pub(crate) const ZERO: Self = Self([[OFFSET; IN]; OUT]);

    /// Sets weight `w` of output `o`, input `i` (each position once, starting from
    /// [`RowBytes::ZERO`], as for the pair-packed form). Out-of-range positions are ignored.
    // The index is checked against the array's length first (const fns cannot use `get`).
    #[allow(clippy::indexing_slicing)]
    pub(crate) const fn add(&mut self, o: usize, i: usize, w: i8) {
        if o < OUT && i < IN {
            self.0[o][i] = (w as u8) ^ OFFSET;
        }
    }

    /// `acc[o] = bias[o] + Σ_i w[o][i] · x[i]` for every output (wrapping in `i32`, like the
    /// plain definition; the sums themselves are exact).
    #[inline(always)]
    pub(crate) fn accumulate(&self, bias: &[i32; OUT], x: &[i8; IN], acc: &mut [i32; OUT]) {
        let mut xw = [0i32; IN];
        let mut x_sum = 0i32;
        for (d, &v) in xw.iter_mut().zip(x) {
            *d = i32::from(v);
            x_sum = x_sum.wrapping_add(*d);
        }
        let correction = x_sum.wrapping_mul(i32::from(OFFSET));
        for ((row, &b), a) in self.0.iter().zip(bias).zip(acc.iter_mut()) {
            *a = dot_widened(row, &xw, b.wrapping_sub(correction));
        }
    }
}

/// `bias + Σ stored·x` over an input already widened to `i32`, four products per step.
#[inline(always)]
fn dot_widened<const IN: usize>(w: &[u8; IN], x: &[i32; IN], bias: i32) -> i32 {
    let mut acc = bias;
    let (w4, x4) = (w.chunks_exact(4), x.chunks_exact(4));
    let (w_rest, x_rest) = (w4.remainder(), x4.remainder());
    let term = |w: u8, x: i32| i32::from(w).wrapping_mul(x);
    for (w, x) in w4.zip(x4) {
        if let (&[w0, w1, w2, w3], &[x0, x1, x2, x3]) = (w, x) {
            acc = acc
                .wrapping_add(term(w0, x0))
                .wrapping_add(term(w1, x1))
                .wrapping_add(term(w2, x2))
                .wrapping_add(term(w3, x3));
        }
    }
    for (&w, &x) in w_rest.iter().zip(x_rest) {
        acc = acc.wrapping_add(term(w, x));
    }
    acc
}
