//! The forward pass: no allocation, no panic path, constant work.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable
)]

use crate::layout::{BLOCK, DOT_MAX_OUT};
use crate::output::{Output, Status};
use crate::policy::Policy;

/// Independent partial sums of a dot product (for layers with fewer than `BLOCK` outputs).
/// Fixed for every target so that results are bit-identical across targets.
const LANES: usize = 16;

impl<const OBS: usize, const H1: usize, const H2: usize, const ACT: usize>
    Policy<OBS, H1, H2, ACT>
{
    /// Computes the action for one observation.
    ///
    /// If an observation element is NaN or infinite, returns the safe action with
    /// [`Status::NonFiniteObservation`]; if the network's output is NaN (possible only for
    /// extreme finite observations), the safe action with [`Status::NonFiniteOutput`]. The
    /// action is always finite and inside `[low, high]`.
    ///
    /// Activations live on the stack (`OBS + H1 + H2 + ACT` values); nothing is allocated.
    #[inline]
    pub fn act(&self, obs: &[f32; OBS]) -> Output<ACT> {
        if !obs.iter().all(|x| x.is_finite()) {
            return self.safe(Status::NonFiniteObservation);
        }
        let mut x = [0.0f32; OBS];
        for (((x, &o), &off), &sc) in x.iter_mut().zip(obs).zip(&self.offset).zip(&self.scale) {
            *x = (o - off) * sc;
        }
        let mut h1 = [0.0f32; H1];
        dense::<OBS, H1, true>(&self.w1.0, &self.b1, &x, &mut h1);
        let mut h2 = [0.0f32; H2];
        dense::<H1, H2, true>(&self.w2.0, &self.b2, &h1, &mut h2);
        let mut y = [0.0f32; ACT];
        dense::<H2, ACT, false>(&self.w3.0, &self.b3, &h2, &mut y);

        let mut action = [0.0f32; ACT];
        let mut finite = true;
        for ((((a, &y), &mid), &half), (&low, &high)) in action
            .iter_mut()
            .zip(&y)
            .zip(&self.mid)
            .zip(&self.half)
            .zip(self.low.iter().zip(&self.high))
        {
            let v = mid + half * tanh(y);
            finite &= !v.is_nan();
            *a = v.max(low).min(high);
        }
        if finite {
            Output {
                action,
                status: Status::Ok,
            }
        } else {
            self.safe(Status::NonFiniteOutput)
        }
    }

    fn safe(&self, status: Status) -> Output<ACT> {
        Output {
            action: self.safe_action,
            status,
        }
    }
}

/// `out = act(W x + b)` with `W` in the layout of [`crate::layout`], `act` ReLU if `RELU`.
///
/// Summation order, for every output and every target: with at least [`DOT_MAX_OUT`]
/// outputs, `bias + w_0·x_0 + w_1·x_1 + ...` in increasing input order (the `BLOCK`
/// outputs of a block are independent chains the CPU runs in parallel); otherwise the
/// [`dot`] order.
#[inline(always)]
fn dense<const IN: usize, const OUT: usize, const RELU: bool>(
    w: &[[f32; IN]; OUT],
    b: &[f32; OUT],
    x: &[f32; IN],
    out: &mut [f32; OUT],
) {
    let w = w.as_flattened();
    if OUT < DOT_MAX_OUT {
        for ((row, &bias), o) in w.chunks_exact(IN).zip(b).zip(out.iter_mut()) {
            *o = activate::<RELU>(bias + dot(row, x));
        }
        return;
    }
    let full = OUT / BLOCK;
    let split = (full * BLOCK).min(OUT);
    let (Some((w_full, w_tail)), Some((b_full, b_tail)), Some((o_full, o_tail))) = (
        w.split_at_checked(split.saturating_mul(IN)),
        b.split_at_checked(split),
        out.split_at_mut_checked(split),
    ) else {
        return;
    };
    for ((wb, bb), ob) in w_full
        .chunks_exact(BLOCK.saturating_mul(IN))
        .zip(b_full.chunks_exact(BLOCK))
        .zip(o_full.chunks_exact_mut(BLOCK))
    {
        block::<RELU>(wb, BLOCK, x, bb, ob);
    }
    if !o_tail.is_empty() {
        block::<RELU>(w_tail, o_tail.len(), x, b_tail, o_tail);
    }
}

/// One block of `width <= BLOCK` outputs; `w` is `[in][width]`.
#[inline(always)]
fn block<const RELU: bool>(w: &[f32], width: usize, x: &[f32], bias: &[f32], out: &mut [f32]) {
    let mut acc = [0.0f32; BLOCK];
    for (a, &b) in acc.iter_mut().zip(bias) {
        *a = b;
    }
    for (&xi, w_row) in x.iter().zip(w.chunks_exact(width)) {
        for (a, &wv) in acc.iter_mut().zip(w_row) {
            *a += xi * wv;
        }
    }
    for (o, a) in out.iter_mut().zip(acc) {
        *o = activate::<RELU>(a);
    }
}

/// `tanh(y) = 1 - 2 / (e + 1)` with `e = exp(2y) = 2^t`, `t = 2y·log2(e)`, in f32 only.
///
/// `2^t = 2^k · 2^f` with `k = round(t)` and `f = t - k` in `[-0.5, 0.5]`: `2^k` is built in
/// the exponent bits, `2^f = 1 + f·q(f)` with `q` a degree-5 polynomial (Chebyshev fit;
/// 3.9e-9 absolute error for `2^f` on the interval, below f32 rounding) evaluated in Estrin's
/// scheme (short dependency chain). Only f32 additions, multiplications, one division and
/// integer bit operations: no call, no table, no branch, no f64 (which a Cortex-M4F would
/// emulate in software), the same time for every input and the same bits on every IEEE-754
/// target.
///
/// Maximum absolute error 1.9e-7 against f64 `tanh` over every 7th f32 with
/// `2^-30 <= |y| <= 12` (the unit test below re-checks a bound of 2.5e-7 on every 997th;
/// `libm::tanhf`: 8.4e-8). Near 0 the error is absolute, not relative, as for any
/// `1 - 2/(e + 1)` form; that is what an action needs.
/// `y` is first limited to ±10, where the formula rounds to exactly ±1. NaN stays NaN.
#[inline(always)]
pub(crate) fn tanh(y: f32) -> f32 {
    // 2^f = 1 + f·q(f): coefficients of q on [-0.5, 0.5], constant term first. The exact
    // leading 1 makes tanh(0) exactly 0.
    const Q: [f32; 6] = [
        core::f32::consts::LN_2, // the fitted value rounds to ln 2
        0.240_226_5,
        0.055_503_57,
        0.009_618_083,
        0.001_339_086_3,
        0.000_154_531_63,
    ];
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer (|t| < 2^22).
    const ROUND: f32 = 12_582_912.0;
    // `clamp` returns NaN for NaN; NaN then runs through and comes out NaN.
    let t = y.clamp(-10.0, 10.0) * (2.0 * core::f32::consts::LOG2_E);
    let k = (t + ROUND) - ROUND;
    let f = t - k;
    let f2 = f * f;
    let f4 = f2 * f2;
    let q = (Q[0] + Q[1] * f) + f2 * (Q[2] + Q[3] * f) + f4 * (Q[4] + Q[5] * f);
    let p = 1.0 + f * q;
    // |k| <= 29: the biased exponent k + 127 is in 98..=156 (a NaN `k` casts to 0).
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    1.0 - 2.0 / (p * scale + 1.0)
}

#[inline(always)]
fn activate<const RELU: bool>(v: f32) -> f32 {
    // `v > 0.0` is false for NaN, so ReLU maps NaN to 0.
    if !RELU || v > 0.0 { v } else { 0.0 }
}

/// Dot product with [`LANES`] independent partial sums (lane `j` sums the products
/// `i ≡ j mod LANES` of the whole chunks, in increasing `i`), then a fixed pairwise
/// reduction (lane `j` += lane `j + LANES/2`, halving until one is left), then the remaining
/// products in order.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (ca, cb) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(ca).zip(cb) {
            *s += x * y;
        }
    }
    let mut sum = reduce(acc);
    for (&x, &y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

/// The pairwise reduction of [`dot`]'s lanes: lane `j` += lane `j + LANES/2`, halving until
/// one is left.
///
/// Out of line on x86-64 on purpose: inlined, the compiler sees one addition tree over
/// every product, cannot vectorise a tree it may not reassociate, and computes all lanes as
/// scalars (about 190 scalar instructions for a 64-input dot product instead of 8 vector
/// ones). Inlined on Cortex-M, which has no vector unit (saves the call and a stack copy).
/// The order of the additions is the same either way.
#[cfg_attr(target_arch = "arm", inline(always))]
#[cfg_attr(not(target_arch = "arm"), inline(never))]
fn reduce(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        if let Some((lo, hi)) = acc.split_at_mut_checked(width) {
            for (l, &h) in lo.iter_mut().zip(hi.iter()) {
                *l += h;
            }
        }
    }
    let [sum, ..] = acc;
    sum
}

#[cfg(test)]
mod tests {
    extern crate std;

    #[test]
    fn tanh_error_is_below_2_5e_7() {
        let mut worst = 0.0f64;
        let (lo, hi) = (2.0f32.powi(-30).to_bits(), 12.0f32.to_bits());
        for bits in (lo..=hi).step_by(997) {
            for y in [f32::from_bits(bits), -f32::from_bits(bits)] {
                let e = (f64::from(super::tanh(y)) - std::primitive::f64::tanh(f64::from(y))).abs();
                worst = worst.max(e);
            }
        }
        assert!(worst <= 2.5e-7, "max abs error {worst:e}");
        // Limiting to ±10 changes nothing: the formula is already exactly ±1 at ±10.
        for y in [9.5f32, 10.0, 10.5, 20.0, 88.0, 1e10, f32::MAX] {
            assert_eq!(super::tanh(y), 1.0);
            assert_eq!(super::tanh(-y), -1.0);
        }
        // Odd and monotonic on a fine grid.
        let mut last = -1.0f32;
        for i in -12_000..=12_000 {
            let y = i as f32 * 1e-3;
            let t = super::tanh(y);
            assert!(t >= last, "not monotonic at {y}");
            assert!((t + super::tanh(-y)).abs() <= 2.5e-7, "not odd at {y}");
            last = t;
        }
        assert_eq!(super::tanh(f32::INFINITY), 1.0);
        assert_eq!(super::tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(super::tanh(100.0), 1.0);
        assert_eq!(super::tanh(0.0), 0.0);
        assert!(super::tanh(f32::NAN).is_nan());
    }
}
