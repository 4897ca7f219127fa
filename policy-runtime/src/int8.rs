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
#[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
use crate::pairs::Words;
use crate::policy::DerivedBounds;
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
use crate::rows::RowBytes;
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
/// the same work for every input. The hidden layers take two bytes per weight on the
/// Cortex-M4/M33 and the host (two rows' weights per 32-bit word, so that one 64-bit
/// multiply-accumulate does two multiply-adds) and one byte per weight on the Cortex-M0:
/// `size_of` 9,852 B and 5,564 B for 3-64-64-1. Every target gives the same actions.
#[derive(Clone, Debug)]
pub struct Int8Policy<const OBS: usize, const H1: usize, const H2: usize, const ACT: usize> {
    // The hidden layers' weights are stored as [`Hidden`] says; the output layer's as `u8`,
    // offset by [`BIAS`] (+128 on the M0, 0 elsewhere).
    offset: [f32; OBS],
    scale: [f32; OBS],
    inv_s0: f32,
    w1: Hidden<OBS, H1>,
    b1: [i32; H1],
    m1: [i32; H1],
    s1: [u8; H1],
    w2: Hidden<H1, H2>,
    b2: [i32; H2],
    m2: [i32; H2],
    s2: [u8; H2],
    w3: [[u8; H2]; ACT],
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
        let (mut m1, mut s1, mut m2, mut s2) = (m1, s1, m2, s2);
        normalise_requant(&mut m1, &mut s1);
        normalise_requant(&mut m2, &mut s2);
        Self {
            offset: obs_offset,
            scale: obs_scale,
            inv_s0: input_inv_scale,
            w1: stored_hidden(&w1),
            b1,
            m1,
            s1,
            w2: stored_hidden(&w2),
            b2,
            m2,
            s2,
            w3: biased(&w3),
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
            w1: Hidden::ZERO,
            b1: [0; H1],
            m1: [0; H1],
            s1: [1; H1],
            w2: Hidden::ZERO,
            b2: [0; H2],
            m2: [0; H2],
            s2: [1; H2],
            w3: [[BIAS; H2]; ACT],
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
        fill_hidden(&mut self.w1, h1.weights);
        fill_i32(&mut self.b1, h1.bias);
        fill_i32(&mut self.m1, h1.multiplier);
        fill_u8(&mut self.s1, h1.shift);
        fill_hidden(&mut self.w2, h2.weights);
        fill_i32(&mut self.b2, h2.bias);
        fill_i32(&mut self.m2, h2.multiplier);
        fill_u8(&mut self.s2, h2.shift);
        normalise_requant(&mut self.m1, &mut self.s1);
        normalise_requant(&mut self.m2, &mut self.s2);
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
        hidden(&self.w1, &self.b1, &self.m1, &self.s1, &x, &mut h1);
        let mut h2 = [0i8; H2];
        hidden(&self.w2, &self.b2, &self.m2, &self.s2, &h1, &mut h2);
        let h2_sum = h2.iter().fold(0i32, |s, &v| s.wrapping_add(i32::from(v)));
        let mut action = [0.0f32; ACT];
        for ((((a, (row, &b)), &deq), (&mid, &half)), (&low, &high)) in action
            .iter_mut()
            .zip(self.w3.iter().zip(&self.b3))
            .zip(&self.deq3)
            .zip(self.mid.iter().zip(&self.half))
            .zip(self.low.iter().zip(&self.high))
        {
            let z = deq * dot(row, &h2, corrected(b, h2_sum)) as f32;
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
fn dot<const IN: usize>(w: &[u8; IN], x: &[i8; IN], bias: i32) -> i32 {
    let mut acc = bias;
    for (&w, &x) in w.iter().zip(x) {
        acc = acc.wrapping_add(weight(w) * i32::from(x));
    }
    acc
}

/// Armv6-M (the Cortex-M0), recognised as the Arm target without 32-bit atomics (it has no
/// LDREX/STREX; rustc exposes no Thumb-2 target feature to `cfg`). The `cfg` attributes below
/// spell out the same condition.
const ARMV6M: bool = cfg!(all(target_arch = "arm", not(target_has_atomic = "32")));

/// How the hidden layers' weights are stored and summed, per core: on the Cortex-M0 one byte
/// per weight, a row at a time ([`crate::rows`]); elsewhere pair-packed words, two
/// multiply-adds per 64-bit multiply-accumulate (`SMLAL` on a Cortex-M4/M33), for twice the
/// bytes ([`crate::pairs`]). Both give the plain definition's sums.
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
type Hidden<const I: usize, const O: usize> = RowBytes<I, O>;
/// How the hidden layers' weights are stored and summed (see the Armv6-M definition).
#[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
type Hidden<const I: usize, const O: usize> = Words<I, O>;

/// A hidden layer's stored weights from the file's `[out][in]` int8 weights (`const`, for
/// [`Int8Policy::from_raw`]).
// `o < O`, `i < I` bound every index (const fns cannot use iterators).
#[allow(clippy::indexing_slicing)]
const fn stored_hidden<const I: usize, const O: usize>(w: &[[i8; I]; O]) -> Hidden<I, O> {
    let mut out = Hidden::ZERO;
    let mut o = 0;
    while o < O {
        let mut i = 0;
        while i < I {
            out.add(o, i, w[o][i]);
            i += 1;
        }
        o += 1;
    }
    out
}

/// Fills a hidden layer's stored weights from the file's row-major int8 bytes.
fn fill_hidden<const I: usize, const O: usize>(dst: &mut Hidden<I, O>, src: Bytes<'_>) {
    *dst = Hidden::ZERO;
    for (k, &b) in src.0.iter().enumerate().take(I.saturating_mul(O)) {
        dst.add(k / I.max(1), k % I.max(1), b as i8);
    }
}

/// One hidden layer: int32 accumulators, requantised to int8 with zero point −128 (the lower
/// clamp is the ReLU).
#[inline(always)]
fn hidden<const IN: usize, const OUT: usize>(
    w: &Hidden<IN, OUT>,
    b: &[i32; OUT],
    m: &[i32; OUT],
    s: &[u8; OUT],
    x: &[i8; IN],
    out: &mut [i8; OUT],
) {
    let mut acc = [0i32; OUT];
    w.accumulate(b, x, &mut acc);
    requantize_all(&acc, m, s, out);
}

/// Requantises the accumulators to int8 with the zero point (the lower clamp is the ReLU).
/// `m`, `s` are normalised ([`normalise_requant`]).
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
            requantize_hidden_high_word(acc, m, s)
        };
    }
}

/// Use [`requantize_hidden_narrow`] (32-bit operations only): on Armv6-M, which has no 64-bit
/// multiply (`i64` products and shifts are library calls there, about 100 instructions per
/// output). Both functions give the same bits for every input (a test checks it).
const NARROW_REQUANTIZE: bool = ARMV6M;

/// Rescales each channel's `(m, s)` to `(m·2^k, s + k)` with the largest `k` that keeps
/// `m·2^k < 2^31` and `s + k <= 62`. `round(acc·m / 2^s)` is unchanged for every `acc`
/// (numerator and denominator both gain the factor `2^k`, the rounding term too), and every
/// channel whose scale `m / 2^s` is below `1/4` ends with a shift of at least 33, the case
/// [`requantize_hidden_high_word`] does in a few 32-bit operations. A zero multiplier gets
/// the shift 62. Runs at load time (and in `const` for [`Int8Policy::from_raw`]).
// `i < N` bounds every index (const fns cannot use iterators).
#[allow(clippy::indexing_slicing)]
const fn normalise_requant<const N: usize>(m: &mut [i32; N], s: &mut [u8; N]) {
    let mut i = 0;
    while i < N {
        let (mi, si) = (m[i], s[i]);
        // Callers pass validated values (0 <= m, 1 <= s <= 62); anything else is left as is.
        if mi >= 0 && si >= 1 && si <= 62 {
            let room = if mi == 0 { 62 } else { mi.leading_zeros() - 1 };
            let k = if room < (62 - si) as u32 {
                room
            } else {
                (62 - si) as u32
            };
            m[i] = if mi == 0 { 0 } else { mi << k };
            s[i] = si + k as u8;
        }
        i += 1;
    }
}

/// [`requantize_hidden`] for a normalised channel ([`normalise_requant`]), exactly: with
/// `shift >= 33`, only the product's high word `hi = floor(acc·m / 2^32)` matters, and
/// `floor((acc·m + 2^(s−1)) / 2^s) = (hi + 2^(s−33)) >> (s − 32)` (the low word, below
/// `2^32`, cannot carry into a division by `2^s >= 2^33`; `|hi| < 2^30`, so the sum fits in
/// 32 bits). With `t = s − 33` that is `((hi >> t) + 1) >> 1` (both are `floor` divisions by
/// powers of two: `floor((hi + 2^t) / 2^(t+1)) = floor((floor(hi / 2^t) + 1) / 2)`), which
/// needs no rounding constant: on a Cortex-M4 one `SMMUL` and about five more instructions per
/// unit (nine with the constant; the 64-bit rounding shift takes about 45). A shift below 33
/// (a channel scale of `1/4` or more) takes the 64-bit form; which form a unit takes depends
/// on the weights only, so the work per inference stays the same for every input.
#[inline(always)]
fn requantize_hidden_high_word(acc: i32, m: i32, shift: u8) -> i8 {
    if shift < 33 {
        return requantize_hidden(acc, m, shift);
    }
    let hi = (i64::from(acc).wrapping_mul(i64::from(m)) >> 32) as i32;
    // `shift <= 62` after normalisation, so `t <= 29`; the wrapping shift only keeps the
    // path panic-free.
    let t = u32::from(shift).wrapping_sub(33);
    let r = hi.wrapping_shr(t).wrapping_add(1) >> 1;
    (r.clamp(0, 255) - 128) as i8
}

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

/// Fills the output layer's biased weights ([`biased`]) from the file's int8 bytes.
fn fill_i8<const I: usize, const O: usize>(dst: &mut [[u8; I]; O], src: Bytes<'_>) {
    for (d, &s) in dst.as_flattened_mut().iter_mut().zip(src.0) {
        *d = s ^ BIAS;
    }
}

/// The output layer's weights on the Cortex-M0 are stored as `w + 128`, like its hidden
/// layers' (see [`crate::rows`] for why); elsewhere as they are (the bias is 0), where `LDRSB`
/// costs nothing extra. Integer sums are exact: the result is the same either way.
const BIASED: bool = ARMV6M;

/// What a stored weight is offset by ([`BIASED`]).
const BIAS: u8 = if BIASED { 0x80 } else { 0 };

/// A stored weight's value ([`BIASED`]: `w + 128`; otherwise `w`).
#[inline(always)]
fn weight(stored: u8) -> i32 {
    if BIASED {
        i32::from(stored)
    } else {
        i32::from(stored as i8)
    }
}

/// [`BIAS`]ed copies of the output layer's int8 weights (`const`, for
/// [`Int8Policy::from_raw`]).
// `i < O`, `j < I` bound every index (const fns cannot use iterators).
#[allow(clippy::indexing_slicing)]
const fn biased<const I: usize, const O: usize>(w: &[[i8; I]; O]) -> [[u8; I]; O] {
    let mut out = [[BIAS; I]; O];
    let mut i = 0;
    while i < O {
        let mut j = 0;
        while j < I {
            out[i][j] = (w[i][j] as u8) ^ BIAS;
            j += 1;
        }
        i += 1;
    }
    out
}

/// `bias − BIAS·Σ x`: a row's bias corrected for the [`BIAS`] of its stored weights (wrapping,
/// like the sums).
#[inline(always)]
fn corrected(bias: i32, x_sum: i32) -> i32 {
    bias.wrapping_sub(x_sum.wrapping_mul(i32::from(BIAS)))
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
#[allow(clippy::indexing_slicing)]
mod tests {

    /// Accumulators at the edges of the ranges the requantisation splits at.
    const EDGE_ACCS: [i32; 17] = [
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

    /// Multipliers at the edges (16-bit halves, the normalised range `2^30..2^31`).
    const EDGE_MS: [i32; 10] = [
        0,
        1,
        2,
        3,
        1 << 15,
        (1 << 16) + 1,
        (1 << 29) + 7,
        1 << 30,
        (1 << 30) + 12_345,
        i32::MAX,
    ];

    /// `n` random `(acc, m, x)` triples (xorshift64 from `seed`; accumulators and multipliers
    /// of every magnitude, `m >= 0`), `x` for a shift.
    fn random_inputs(seed: u64, n: usize) -> impl Iterator<Item = (i32, i32, u64)> {
        let mut x = seed;
        (0..n).map(move |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let acc = (x >> 8) as i32 >> ((x & 31) as u32);
            let m = ((x >> 40) as i32 & i32::MAX) >> ((x >> 35) & 31);
            (acc, m, x)
        })
    }

    /// The 32-bit requantisation of the M0 gives the 64-bit one's bits: edge values of the
    /// accumulator and the multiplier against every shift (out-of-range ones too), then
    /// random inputs.
    #[test]
    fn narrow_requantisation_matches_the_64_bit_one() {
        let check = |acc: i32, m: i32, shift: u8| {
            assert_eq!(
                requantize_hidden_narrow(acc, m, shift),
                requantize_hidden(acc, m, shift),
                "acc {acc}, m {m}, shift {shift}"
            );
        };
        for &acc in &EDGE_ACCS {
            for &m in &EDGE_MS {
                for shift in 0..=70u8 {
                    check(acc, m, shift);
                }
            }
        }
        for (acc, m, x) in random_inputs(0x9E37_79B9_7F4A_7C15, 200_000) {
            check(acc, m, (x % 63) as u8);
        }
    }

    /// After [`normalise_requant`], the high-word requantisation (the Cortex-M4/M33's) and
    /// the M0's 32-bit one give the original `(m, s)`'s 64-bit result: edge values of the
    /// accumulator and the multiplier against every valid shift, then random inputs.
    #[test]
    fn normalised_requantisation_matches_the_file_s() {
        let check = |acc: i32, m: i32, shift: u8| {
            let (mut mn, mut sn) = ([m], [shift]);
            normalise_requant(&mut mn, &mut sn);
            let want = requantize_hidden(acc, m, shift);
            assert_eq!(
                requantize_hidden_high_word(acc, mn[0], sn[0]),
                want,
                "acc {acc}, m {m}, shift {shift}"
            );
            assert_eq!(
                requantize_hidden_narrow(acc, mn[0], sn[0]),
                want,
                "narrow: acc {acc}, m {m}, shift {shift}"
            );
            assert!(mn[0] >= 0 && (1..=62).contains(&sn[0]));
        };
        for &acc in &EDGE_ACCS {
            for &m in &EDGE_MS {
                for shift in 1..=62u8 {
                    check(acc, m, shift);
                }
            }
        }
        for (acc, m, x) in random_inputs(0x2545_F491_4F6C_DD1D, 300_000) {
            check(acc, m, 1 + (x % 62) as u8);
        }
    }

    use super::*;

    /// The one-row path (the Cortex-M0's) and the pair-packed one (every other target's)
    /// give the activations of the plain definition: signed weights, `bias + Σ w·x` in int32,
    /// the file's `(m, s)` in 64 bits (so the stored weight bias, its correction, the packing
    /// and the normalised requantisation change nothing).
    #[test]
    fn both_layer_forms_agree_with_the_definition() {
        let mut state = 0x1234_5678u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let mut inside = 0;
        for _ in 0..400 {
            let mut w = [[0i8; 13]; 10];
            for v in w.as_flattened_mut() {
                *v = next() as u8 as i8;
            }
            let b: [i32; 10] = core::array::from_fn(|_| (next() % 20_001) as i32 - 10_000);
            let m: [i32; 10] =
                core::array::from_fn(|_| (next() % (1 << 31)) as i32 >> (next() % 8));
            let s: [u8; 10] = core::array::from_fn(|_| 26 + (next() % 24) as u8);
            let x: [i8; 13] = core::array::from_fn(|_| next() as u8 as i8);
            let want: [i8; 10] = core::array::from_fn(|r| {
                let acc = w[r].iter().zip(&x).fold(b[r], |a, (&w, &x)| {
                    a.wrapping_add(i32::from(w) * i32::from(x))
                });
                requantize_hidden(acc, m[r], s[r])
            });
            let (mut mn, mut sn) = (m, s);
            normalise_requant(&mut mn, &mut sn);
            let layer = |acc: &[i32; 10]| {
                let mut out = [0i8; 10];
                requantize_all(acc, &mn, &sn, &mut out);
                out
            };
            let (mut rows, mut pairs) = (crate::rows::RowBytes::ZERO, crate::pairs::Words::ZERO);
            for (o, row) in w.iter().enumerate() {
                for (i, &v) in row.iter().enumerate() {
                    rows.add(o, i, v);
                    pairs.add(o, i, v);
                }
            }
            let (mut acc_rows, mut acc_pairs) = ([0i32; 10], [0i32; 10]);
            rows.accumulate(&b, &x, &mut acc_rows);
            pairs.accumulate(&b, &x, &mut acc_pairs);
            let (one, packed) = (layer(&acc_rows), layer(&acc_pairs));
            assert_eq!(one, want);
            assert_eq!(packed, want);
            let mut this_target = [0i8; 10];
            hidden(&stored_hidden(&w), &b, &mn, &sn, &x, &mut this_target);
            assert_eq!(this_target, want);
            inside += one.iter().filter(|&&v| v != -128 && v != 127).count();
        }
        assert!(inside > 400, "only {inside} activations off the clamps");
    }
}
