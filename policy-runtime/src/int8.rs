//! [`Int8Policy`]: the actor with int8 weights and activations, int32 accumulators.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable
)]

use crate::format::{self, Bytes, F32Iter, Int8View, LoadError};
use crate::output::{Output, Status};
use crate::policy::DerivedBounds;
use crate::shape::Shape;

/// A DDPG actor `OBS`-`H1`-`H2`-`ACT` quantised to int8 (the `PLQ8` weight file of
/// `FORMAT.md`): int8 weights per output channel, int8 activations, int32 accumulators,
/// requantisation by an integer multiplier and a rounding shift per channel (the
/// TFLite-Micro / CMSIS-NN scheme).
///
/// What stays f32: the observation normalisation and its rounding to int8 (`OBS` values),
/// the output layer's dequantisation, tanh and the action scaling (`ACT` values). Every
/// multiply-add of the three layers is integer, so the result is the same on every target,
/// and the f32 steps are those of [`Policy`](crate::Policy) (no fused multiply-add).
///
/// All storage is inline; [`Int8Policy::act`] allocates nothing, has no panic path and does
/// the same work for every input.
#[derive(Clone, Debug)]
pub struct Int8Policy<const OBS: usize, const H1: usize, const H2: usize, const ACT: usize> {
    offset: [f32; OBS],
    scale: [f32; OBS],
    inv_s0: f32,
    w1: [[i8; OBS]; H1],
    b1: [i32; H1],
    m1: [i32; H1],
    s1: [u8; H1],
    w2: [[i8; H1]; H2],
    b2: [i32; H2],
    m2: [i32; H2],
    s2: [u8; H2],
    w3: [[i8; H2]; ACT],
    b3: [i32; ACT],
    deq3: [f32; ACT],
    low: [f32; ACT],
    high: [f32; ACT],
    mid: [f32; ACT],
    half: [f32; ACT],
    safe_action: [f32; ACT],
    /// The safe action as the caller asked for it (zero by default), before clamping: kept
    /// across loads, so each file's bounds clamp it afresh.
    safe_request: [f32; ACT],
}

/// The zero point of the int8 hidden activations (ReLU outputs `>= 0` use the full range).
pub const HIDDEN_ZERO_POINT: i32 = -128;

/// `round(acc · m / 2^shift)`, halves rounded up, in 64 bits (no overflow for any `acc`,
/// `0 <= m < 2^31`, `1 <= shift <= 62`; the loader checks those ranges).
#[inline(always)]
pub fn requantize(acc: i32, m: i32, shift: u8) -> i64 {
    let s = u32::from(shift).clamp(1, 62);
    let round = 1i64 << (s - 1);
    (i64::from(acc)
        .wrapping_mul(i64::from(m))
        .wrapping_add(round))
        >> s
}

/// `v` rounded to the nearest integer (halves away from zero), saturated to `±127`.
#[inline(always)]
pub fn quantize_input(v: f32) -> i8 {
    let r = if v >= 0.0 { v + 0.5 } else { v - 0.5 };
    // `as` saturates (and maps NaN to 0); the clamp keeps the int8 range symmetric.
    (r as i32).clamp(-127, 127) as i8
}

impl<const OBS: usize, const H1: usize, const H2: usize, const ACT: usize>
    Int8Policy<OBS, H1, H2, ACT>
{
    /// The dimensions of this policy type.
    pub const SHAPE: Shape = Shape {
        obs: OBS,
        hidden1: H1,
        hidden2: H2,
        act: ACT,
    };

    /// Builds a policy from the arrays of an int8 weight file (weights row-major
    /// `[out][in]`), exactly as [`Int8Policy::load`] would: `const`, so a firmware build
    /// script can put the policy in a `static` (flash).
    ///
    /// # Panics
    /// If a value breaks a rule of the format (non-finite or non-positive scale, negative
    /// multiplier, shift outside `1..=62`, `low >= high`); in a `static` this is a compile
    /// error. The build script validates the file with [`format::decode_int8`] first.
    #[allow(clippy::too_many_arguments, clippy::panic, clippy::indexing_slicing)]
    pub const fn from_raw(
        obs_offset: [f32; OBS],
        obs_scale: [f32; OBS],
        input_inv_scale: f32,
        w1: [[i8; OBS]; H1],
        b1: [i32; H1],
        m1: [i32; H1],
        s1: [u8; H1],
        w2: [[i8; H1]; H2],
        b2: [i32; H2],
        m2: [i32; H2],
        s2: [u8; H2],
        w3: [[i8; H2]; ACT],
        b3: [i32; ACT],
        out_scale: [f32; ACT],
        low: [f32; ACT],
        high: [f32; ACT],
    ) -> Self {
        let ok = input_inv_scale.is_finite()
            && input_inv_scale > 0.0
            && all_finite(&obs_offset)
            && all_finite(&obs_scale)
            && requant_ok(&m1, &s1)
            && requant_ok(&m2, &s2)
            && positive(&out_scale)
            && bounds_ok(&low, &high);
        if !ok {
            panic!("Int8Policy::from_raw: a value breaks the int8 format's rules");
        }
        let DerivedBounds {
            mid,
            half,
            safe_action,
        } = DerivedBounds::of(&low, &high, [0.0; ACT]);
        Self {
            offset: obs_offset,
            scale: obs_scale,
            inv_s0: input_inv_scale,
            w1,
            b1,
            m1,
            s1,
            w2,
            b2,
            m2,
            s2,
            w3,
            b3,
            deq3: out_scale,
            low,
            high,
            mid,
            half,
            safe_action,
            safe_request: [0.0; ACT],
        }
    }

    /// A zero policy (only as a starting point for [`Int8Policy::load`]).
    pub const fn blank() -> Self {
        Self {
            offset: [0.0; OBS],
            scale: [1.0; OBS],
            inv_s0: 1.0,
            w1: [[0; OBS]; H1],
            b1: [0; H1],
            m1: [0; H1],
            s1: [1; H1],
            w2: [[0; H1]; H2],
            b2: [0; H2],
            m2: [0; H2],
            s2: [1; H2],
            w3: [[0; H2]; ACT],
            b3: [0; ACT],
            deq3: [1.0; ACT],
            low: [-1.0; ACT],
            high: [1.0; ACT],
            mid: [0.0; ACT],
            half: [1.0; ACT],
            safe_action: [0.0; ACT],
            safe_request: [0.0; ACT],
        }
    }

    /// Decodes and validates an int8 weight file ([`format::decode_int8`]) into a new policy;
    /// [`LoadError::ShapeMismatch`] if its dimensions are not `OBS-H1-H2-ACT`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoadError> {
        let mut p = Self::blank();
        p.load(bytes)?;
        Ok(p)
    }

    /// Replaces this policy by the file's (validated first: on error `self` is unchanged).
    pub fn load(&mut self, bytes: &[u8]) -> Result<(), LoadError> {
        self.load_view(&format::decode_int8(bytes)?)
    }

    /// [`Int8Policy::load`] from an already decoded file.
    pub fn load_view(&mut self, view: &Int8View<'_>) -> Result<(), LoadError> {
        if view.shape() != Self::SHAPE {
            return Err(LoadError::ShapeMismatch {
                expected: Self::SHAPE,
                found: view.shape(),
            });
        }
        let f = view.file();
        fill(&mut self.offset, f.obs_offset.iter());
        fill(&mut self.scale, f.obs_scale.iter());
        self.inv_s0 = f.input_inv_scale;
        let [h1, h2] = &f.hidden;
        fill_i8(&mut self.w1, h1.weights);
        fill_i32(&mut self.b1, h1.bias);
        fill_i32(&mut self.m1, h1.multiplier);
        fill_u8(&mut self.s1, h1.shift);
        fill_i8(&mut self.w2, h2.weights);
        fill_i32(&mut self.b2, h2.bias);
        fill_i32(&mut self.m2, h2.multiplier);
        fill_u8(&mut self.s2, h2.shift);
        fill_i8(&mut self.w3, f.output.weights);
        fill_i32(&mut self.b3, f.output.bias);
        fill(&mut self.deq3, f.output.scale.iter());
        fill(&mut self.low, f.action_low.iter());
        fill(&mut self.high, f.action_high.iter());
        self.update_bounds(self.safe_request);
        Ok(())
    }

    /// Recomputes the derived bound values and sets the (clamped) safe action.
    const fn update_bounds(&mut self, safe: [f32; ACT]) {
        self.safe_request = safe;
        let b = DerivedBounds::of(&self.low, &self.high, safe);
        self.mid = b.mid;
        self.half = b.half;
        self.safe_action = b.safe_action;
    }

    /// Sets the action returned when the observation is not finite, as
    /// [`Policy::with_safe_action`](crate::Policy::with_safe_action) does: each element is
    /// clamped into `[low, high]` (a non-finite element counts as zero), and it is kept,
    /// clamped again, across later [`Int8Policy::load`]s. The default is zero clamped into the
    /// bounds.
    #[must_use]
    pub const fn with_safe_action(mut self, action: [f32; ACT]) -> Self {
        self.update_bounds(action);
        self
    }

    /// In-place form of [`Int8Policy::with_safe_action`].
    pub const fn set_safe_action(&mut self, action: [f32; ACT]) {
        self.update_bounds(action);
    }

    /// Computes the action for one observation, like [`Policy::act`](crate::Policy::act):
    /// a non-finite observation gives the safe action with
    /// [`Status::NonFiniteObservation`]; the action is always finite and within bounds.
    pub fn act(&self, obs: &[f32; OBS]) -> Output<ACT> {
        if !obs.iter().all(|x| x.is_finite()) {
            return Output {
                action: self.safe_action,
                status: Status::NonFiniteObservation,
            };
        }
        let mut x = [0i8; OBS];
        for (((q, &o), &off), &sc) in x.iter_mut().zip(obs).zip(&self.offset).zip(&self.scale) {
            *q = quantize_input((o - off) * sc * self.inv_s0);
        }
        let mut h1 = [0i8; H1];
        hidden::<OBS, H1, FOUR_ROWS>(&self.w1, &self.b1, &self.m1, &self.s1, &x, &mut h1);
        let mut h2 = [0i8; H2];
        hidden::<H1, H2, FOUR_ROWS>(&self.w2, &self.b2, &self.m2, &self.s2, &h1, &mut h2);
        let mut action = [0.0f32; ACT];
        for ((((a, (row, &b)), &deq), (&mid, &half)), (&low, &high)) in action
            .iter_mut()
            .zip(self.w3.iter().zip(&self.b3))
            .zip(&self.deq3)
            .zip(self.mid.iter().zip(&self.half))
            .zip(self.low.iter().zip(&self.high))
        {
            let z = deq * dot(row, &h2, b) as f32;
            *a = (mid + half * crate::inference::tanh(z)).max(low).min(high);
        }
        Output {
            action,
            status: Status::Ok,
        }
    }

    /// The action returned for a non-finite observation (by default zero clamped into the
    /// bounds; see [`Int8Policy::with_safe_action`]).
    pub const fn safe_action(&self) -> [f32; ACT] {
        self.safe_action
    }

    /// Lower action bounds.
    pub const fn low(&self) -> [f32; ACT] {
        self.low
    }

    /// Upper action bounds.
    pub const fn high(&self) -> [f32; ACT] {
        self.high
    }
}

/// `bias + Σ w·x` in int32 (wrapping: a validated file cannot overflow it in practice, and
/// wrapping keeps the path panic-free).
#[inline(always)]
fn dot<const IN: usize>(w: &[i8; IN], x: &[i8; IN], bias: i32) -> i32 {
    let mut acc = bias;
    for (&w, &x) in w.iter().zip(x) {
        acc = acc.wrapping_add(i32::from(w) * i32::from(x));
    }
    acc
}

/// One hidden layer: int32 accumulators, requantised to int8 with zero point −128 (the
/// lower clamp is the ReLU). The input is widened to `i32` once, and four output rows share
/// each input load (about 2.25 instructions per multiply-add on a Cortex-M4 instead of 3+).
/// Integer sums are exact, so the blocking changes no result.
#[inline(always)]
fn hidden<const IN: usize, const OUT: usize, const ROWS4: bool>(
    w: &[[i8; IN]; OUT],
    b: &[i32; OUT],
    m: &[i32; OUT],
    s: &[u8; OUT],
    x: &[i8; IN],
    out: &mut [i8; OUT],
) {
    let mut xw = [0i32; IN];
    for (d, &v) in xw.iter_mut().zip(x) {
        *d = i32::from(v);
    }
    let mut acc = [0i32; OUT];
    if !ROWS4 {
        for ((row, &bias), a) in w.iter().zip(b).zip(acc.iter_mut()) {
            *a = dot_widened(row, &xw, bias);
        }
        requantize_all(&acc, m, s, out);
        return;
    }
    let blocks = w
        .chunks_exact(4)
        .zip(b.chunks_exact(4))
        .zip(acc.chunks_exact_mut(4));
    for ((rows, bias), a) in blocks {
        if let ([r0, r1, r2, r3], [b0, b1, b2, b3], [a0, a1, a2, a3]) = (rows, bias, a) {
            let (mut s0, mut s1, mut s2, mut s3) = (*b0, *b1, *b2, *b3);
            for ((((&x, &w0), &w1), &w2), &w3) in xw.iter().zip(r0).zip(r1).zip(r2).zip(r3) {
                s0 = s0.wrapping_add(i32::from(w0).wrapping_mul(x));
                s1 = s1.wrapping_add(i32::from(w1).wrapping_mul(x));
                s2 = s2.wrapping_add(i32::from(w2).wrapping_mul(x));
                s3 = s3.wrapping_add(i32::from(w3).wrapping_mul(x));
            }
            (*a0, *a1, *a2, *a3) = (s0, s1, s2, s3);
        }
    }
    let done = OUT - OUT % 4;
    let tail = w.iter().zip(b).zip(acc.iter_mut()).skip(done);
    for ((row, &bias), a) in tail {
        *a = dot(row, x, bias);
    }
    requantize_all(&acc, m, s, out);
}

/// Four output rows per pass over the input (Thumb-2 has the registers for four accumulators
/// and four row pointers); the Cortex-M0's eight low registers do not, so there one row at a
/// time ([`dot_widened`]) needs fewer instructions (10.0 instead of 12.1 per multiply-add).
/// Armv6-M is recognised as the Arm target without 32-bit atomics (it has no LDREX/STREX;
/// rustc exposes no Thumb-2 target feature to `cfg`). Integer sums are exact, so both orders
/// give the same result.
const FOUR_ROWS: bool = !cfg!(all(target_arch = "arm", not(target_has_atomic = "32")));

/// `bias + Σ w·x` over an input already widened to `i32`, four products per step.
#[inline(always)]
fn dot_widened<const IN: usize>(w: &[i8; IN], x: &[i32; IN], bias: i32) -> i32 {
    let mut acc = bias;
    let (w4, x4) = (w.chunks_exact(4), x.chunks_exact(4));
    let (w_rest, x_rest) = (w4.remainder(), x4.remainder());
    for (w, x) in w4.zip(x4) {
        if let ([w0, w1, w2, w3], [x0, x1, x2, x3]) = (w, x) {
            acc = acc
                .wrapping_add(i32::from(*w0).wrapping_mul(*x0))
                .wrapping_add(i32::from(*w1).wrapping_mul(*x1))
                .wrapping_add(i32::from(*w2).wrapping_mul(*x2))
                .wrapping_add(i32::from(*w3).wrapping_mul(*x3));
        }
    }
    for (&w, &x) in w_rest.iter().zip(x_rest) {
        acc = acc.wrapping_add(i32::from(w).wrapping_mul(x));
    }
    acc
}

/// Requantises the accumulators to int8 with the zero point (the lower clamp is the ReLU).
#[inline(always)]
fn requantize_all<const OUT: usize>(
    acc: &[i32; OUT],
    m: &[i32; OUT],
    s: &[u8; OUT],
    out: &mut [i8; OUT],
) {
    for (((o, &acc), &m), &s) in out.iter_mut().zip(acc).zip(m).zip(s) {
        *o = if NARROW_REQUANTIZE {
            requantize_hidden_narrow(acc, m, s)
        } else {
            requantize_hidden(acc, m, s)
        };
    }
}

/// Use [`requantize_hidden_narrow`] (32-bit operations only): on Armv6-M, which has no 64-bit
/// multiply (`i64` products and shifts are library calls there, about 100 instructions per
/// output). Both functions give the same bits for every input (a test checks it).
const NARROW_REQUANTIZE: bool = !FOUR_ROWS;

/// A hidden unit's int8 output: `clamp(requantize(acc, m, shift) + HIDDEN_ZERO_POINT, −128,
/// 127)`, in 64 bits.
#[inline(always)]
fn requantize_hidden(acc: i32, m: i32, shift: u8) -> i8 {
    let q = requantize(acc, m, shift) + i64::from(HIDDEN_ZERO_POINT);
    q.clamp(-128, 127) as i8
}

/// [`requantize_hidden`] in 32-bit operations, exactly.
///
/// With the zero point −128 the output is `min(max(r, 0), 255) − 128` for
/// `r = (acc·m + 2^(s−1)) >> s`. For `acc ≤ 0` (and `m ≥ 0`, as the loader checks) the
/// product is `≤ 0`, so `r ≤ 0` and the output is −128. Otherwise the product
/// `P = acc·m < 2^62` is formed from 16-bit halves as a `(hi, lo)` pair of `u32`, the rounding
/// term added with carry, and the shift taken on the pair, saturating at 255.
#[inline(always)]
fn requantize_hidden_narrow(acc: i32, m: i32, shift: u8) -> i8 {
    const _: () = assert!(HIDDEN_ZERO_POINT == -128);
    let s = u32::from(shift).clamp(1, 62);
    if acc <= 0 || m <= 0 {
        return -128;
    }
    let (a, b) = (acc as u32, m as u32);
    let (a1, a0, b1, b0) = (a >> 16, a & 0xFFFF, b >> 16, b & 0xFFFF);
    // a1, b1 < 2^15: the middle products are < 2^31 each, their sum < 2^32.
    let mid = a1 * b0 + a0 * b1;
    let (lo, carry) = (a0 * b0).overflowing_add(mid << 16);
    let hi = a1 * b1 + (mid >> 16) + u32::from(carry);
    // t = P + 2^(s − 1) < 2^63.
    let (round_hi, round_lo) = if s <= 32 {
        (0, 1u32 << (s - 1))
    } else {
        (1u32 << (s - 33), 0)
    };
    let (tl, carry) = lo.overflowing_add(round_lo);
    let th = hi + round_hi + u32::from(carry);
    let r = if s >= 32 {
        th >> (s - 32)
    } else if th >> s != 0 {
        u32::MAX // ≥ 2^32: saturates below
    } else {
        (th << (32 - s)) | (tl >> s)
    };
    (r.min(255) as i32 - 128) as i8
}

fn fill<const N: usize>(dst: &mut [f32; N], src: F32Iter<'_>) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

fn fill_i8<const I: usize, const O: usize>(dst: &mut [[i8; I]; O], src: Bytes<'_>) {
    for (d, &s) in dst.as_flattened_mut().iter_mut().zip(src.0) {
        *d = s as i8;
    }
}

fn fill_u8<const N: usize>(dst: &mut [u8; N], src: Bytes<'_>) {
    for (d, &s) in dst.iter_mut().zip(src.0) {
        *d = s;
    }
}

fn fill_i32<const N: usize>(dst: &mut [i32; N], src: Bytes<'_>) {
    for (d, c) in dst.iter_mut().zip(src.0.chunks_exact(4)) {
        if let &[b0, b1, b2, b3] = c {
            *d = i32::from_le_bytes([b0, b1, b2, b3]);
        }
    }
}

// `i < N` bounds every index (const fns cannot use iterators).
#[allow(clippy::indexing_slicing)]
const fn all_finite<const N: usize>(v: &[f32; N]) -> bool {
    let mut i = 0;
    while i < N {
        if !v[i].is_finite() {
            return false;
        }
        i += 1;
    }
    true
}

// `i < N` bounds every index (const fns cannot use iterators).
#[allow(clippy::indexing_slicing)]
const fn positive<const N: usize>(v: &[f32; N]) -> bool {
    let mut i = 0;
    while i < N {
        if !(v[i].is_finite() && v[i] > 0.0) {
            return false;
        }
        i += 1;
    }
    true
}

// `i < N` bounds every index (const fns cannot use iterators).
#[allow(clippy::indexing_slicing)]
const fn requant_ok<const N: usize>(m: &[i32; N], s: &[u8; N]) -> bool {
    let mut i = 0;
    while i < N {
        if m[i] < 0 || s[i] < 1 || s[i] > 62 {
            return false;
        }
        i += 1;
    }
    true
}

// `i < N` bounds every index (const fns cannot use iterators).
#[allow(clippy::indexing_slicing)]
const fn bounds_ok<const N: usize>(low: &[f32; N], high: &[f32; N]) -> bool {
    let mut i = 0;
    while i < N {
        if !(low[i].is_finite() && high[i].is_finite() && low[i] < high[i]) {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {

    /// The 32-bit requantisation of the M0 gives the 64-bit one's bits: edge values of the
    /// accumulator and the multiplier against every shift, then random inputs.
    #[test]
    fn narrow_requantisation_matches_the_64_bit_one() {
        let accs = [
            i32::MIN,
            i32::MIN + 1,
            -1_000_000,
            -1,
            0,
            1,
            2,
            127,
            255,
            256,
            1 << 15,
            (1 << 16) - 1,
            1 << 16,
            1 << 24,
            1_000_000_007,
            i32::MAX - 1,
            i32::MAX,
        ];
        let ms = [
            0,
            1,
            2,
            1 << 15,
            (1 << 16) + 1,
            1 << 30,
            (1 << 30) + 12_345,
            i32::MAX,
        ];
        for &acc in &accs {
            for &m in &ms {
                for shift in 0..=70u8 {
                    assert_eq!(
                        requantize_hidden_narrow(acc, m, shift),
                        requantize_hidden(acc, m, shift),
                        "acc {acc}, m {m}, shift {shift}"
                    );
                }
            }
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let acc = (x >> 8) as i32 >> ((x & 31) as u32);
            let m = ((x >> 40) as i32 & i32::MAX) >> ((x >> 35) & 15);
            let shift = (x % 63) as u8;
            assert_eq!(
                requantize_hidden_narrow(acc, m, shift),
                requantize_hidden(acc, m, shift),
                "acc {acc}, m {m}, shift {shift}"
            );
        }
    }
    use super::*;

    /// The one-row path (the Cortex-M0's) and the four-row path give the same activations.
    #[test]
    fn both_row_orders_agree() {
        let mut state = 0x1234_5678u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..50 {
            let mut w = [[0i8; 13]; 10];
            for v in w.as_flattened_mut() {
                *v = (next() % 255) as i8;
            }
            let b: [i32; 10] = core::array::from_fn(|_| (next() % 20_001) as i32 - 10_000);
            let m: [i32; 10] = core::array::from_fn(|_| (1 << 30) + (next() % (1 << 30)) as i32);
            let s: [u8; 10] = core::array::from_fn(|_| 36 + (next() % 4) as u8);
            let x: [i8; 13] = core::array::from_fn(|_| (next() % 255) as i8);
            let (mut one, mut four) = ([0i8; 10], [0i8; 10]);
            hidden::<13, 10, false>(&w, &b, &m, &s, &x, &mut one);
            hidden::<13, 10, true>(&w, &b, &m, &s, &x, &mut four);
            assert_eq!(one, four);
            assert!(one.iter().any(|&v| v != -128 && v != 127), "{one:?}");
        }
    }
}
