//! [`Policy`]: the actor network with its weights in fixed-size arrays.

use core::fmt;

use crate::format;
use crate::format::{Field, LoadError};
use crate::layout::{self, Aligned};
use crate::shape::Shape;

/// A DDPG actor `OBS`-`H1`-`H2`-`ACT`: optional observation normalisation
/// `(x - offset) * scale`, Linear → ReLU → Linear → ReLU → Linear → tanh, then scaling
/// from `[-1, 1]` to `[low, high]` per action dimension.
///
/// All storage is inline (fixed-size arrays, no heap): `size_of::<Policy<..>>()` is the
/// whole memory of the weights. Build it
/// - at compile time with [`Policy::from_raw`] in a `static` (weights in flash), or
/// - at run time from a weight file with [`Policy::from_bytes`] / [`Policy::load`].
///
/// Run it with [`Policy::act`]. Internally the weights are stored re-ordered for fast
/// inference; every constructor takes and validates the file's row-major `[out][in]` order.
#[derive(Clone)]
pub struct Policy<const OBS: usize, const H1: usize, const H2: usize, const ACT: usize> {
    pub(crate) offset: [f32; OBS],
    pub(crate) scale: [f32; OBS],
    pub(crate) w1: Aligned<[[f32; OBS]; H1]>,
    pub(crate) b1: [f32; H1],
    pub(crate) w2: Aligned<[[f32; H1]; H2]>,
    pub(crate) b2: [f32; H2],
    pub(crate) w3: Aligned<[[f32; H2]; ACT]>,
    pub(crate) b3: [f32; ACT],
    pub(crate) low: [f32; ACT],
    pub(crate) high: [f32; ACT],
    /// `(low + high) / 2`, computed without overflow.
    pub(crate) mid: [f32; ACT],
    /// `(high - low) / 2`, computed without overflow.
    pub(crate) half: [f32; ACT],
    pub(crate) safe_action: [f32; ACT],
    /// The safe action as the caller asked for it (zero by default), before clamping: kept
    /// across loads, so each file's bounds clamp it afresh.
    pub(crate) safe_request: [f32; ACT],
}

/// Clamps `a` into `[low, high]`; a non-finite `a` counts as zero.
pub(crate) const fn clamp_safe(a: f32, low: f32, high: f32) -> f32 {
    let a = if a.is_finite() { a } else { 0.0 };
    if a < low {
        low
    } else if a > high {
        high
    } else {
        a
    }
}

/// What both precisions derive from the action bounds: the centre and half-range of the tanh
/// mapping `mid + half·tanh(z)`, and the safe action clamped into the bounds.
pub(crate) struct DerivedBounds<const ACT: usize> {
    pub(crate) mid: [f32; ACT],
    pub(crate) half: [f32; ACT],
    pub(crate) safe_action: [f32; ACT],
}

impl<const ACT: usize> DerivedBounds<ACT> {
    /// The derived values of `[low, high]`, with `safe` clamped into it ([`clamp_safe`]).
    pub(crate) const fn of(low: &[f32; ACT], high: &[f32; ACT], safe: [f32; ACT]) -> Self {
        let mut b = Self {
            mid: [0.0; ACT],
            half: [0.0; ACT],
            safe_action: [0.0; ACT],
        };
        let mut d = 0;
        while d < ACT {
            b.mid[d] = 0.5 * low[d] + 0.5 * high[d];
            b.half[d] = 0.5 * high[d] - 0.5 * low[d];
            b.safe_action[d] = clamp_safe(safe[d], low[d], high[d]);
            d += 1;
        }
        b
    }
}

impl<const OBS: usize, const H1: usize, const H2: usize, const ACT: usize>
    Policy<OBS, H1, H2, ACT>
{
    /// The dimensions of this policy type.
    pub const SHAPE: Shape = Shape {
        obs: OBS,
        hidden1: H1,
        hidden2: H2,
        act: ACT,
    };

    /// Compile-time check that no dimension is zero.
    const NONZERO_DIMS: () = assert!(
        OBS > 0 && H1 > 0 && H2 > 0 && ACT > 0,
        "Policy dimensions must all be > 0"
    );

    /// Builds a policy from row-major `[out][in]` weights, exactly as stored in the file.
    ///
    /// `const`, so it can initialise a `static`: the weights (re-ordered at compile time)
    /// then live in flash. A firmware build script can generate the call from a validated
    /// weight file, writing every value as `f32::from_bits(0x…)`.
    ///
    /// # Panics
    /// If a value is not finite or a bound pair has `low >= high` (in a `static`, this is a
    /// compile error). Use [`Policy::try_from_raw`] to get the error instead.
    #[allow(clippy::too_many_arguments)]
    pub const fn from_raw(
        obs_offset: [f32; OBS],
        obs_scale: [f32; OBS],
        w1: [[f32; OBS]; H1],
        b1: [f32; H1],
        w2: [[f32; H1]; H2],
        b2: [f32; H2],
        w3: [[f32; H2]; ACT],
        b3: [f32; ACT],
        low: [f32; ACT],
        high: [f32; ACT],
    ) -> Self {
        match Self::try_from_raw(obs_offset, obs_scale, w1, b1, w2, b2, w3, b3, low, high) {
            Ok(policy) => policy,
            Err(_) => {
                panic!("Policy::from_raw: a value is not finite or an action bound has low >= high")
            }
        }
    }

    /// Like [`Policy::from_raw`], but returns the problem instead of panicking.
    #[allow(clippy::too_many_arguments)]
    pub const fn try_from_raw(
        obs_offset: [f32; OBS],
        obs_scale: [f32; OBS],
        w1: [[f32; OBS]; H1],
        b1: [f32; H1],
        w2: [[f32; H1]; H2],
        b2: [f32; H2],
        w3: [[f32; H2]; ACT],
        b3: [f32; ACT],
        low: [f32; ACT],
        high: [f32; ACT],
    ) -> Result<Self, LoadError> {
        let () = Self::NONZERO_DIMS;
        if let Some(index) = first_non_finite_2d(&w1) {
            return Err(nonfinite(Field::Weights(0), index));
        }
        if let Some(index) = first_non_finite_2d(&w2) {
            return Err(nonfinite(Field::Weights(1), index));
        }
        if let Some(index) = first_non_finite_2d(&w3) {
            return Err(nonfinite(Field::Weights(2), index));
        }
        let arrays: [(&[f32], Field); 7] = [
            (&obs_offset, Field::ObsOffset),
            (&obs_scale, Field::ObsScale),
            (&b1, Field::Bias(0)),
            (&b2, Field::Bias(1)),
            (&b3, Field::Bias(2)),
            (&low, Field::ActionLow),
            (&high, Field::ActionHigh),
        ];
        let mut a = 0;
        while a < arrays.len() {
            if let Some(index) = first_non_finite(arrays[a].0) {
                return Err(nonfinite(arrays[a].1, index));
            }
            a += 1;
        }
        let mut d = 0;
        while d < ACT {
            if low[d] >= high[d] {
                return Err(LoadError::InvalidBounds {
                    index: d,
                    low: low[d],
                    high: high[d],
                });
            }
            d += 1;
        }
        let mut policy = Self {
            offset: obs_offset,
            scale: obs_scale,
            w1: Aligned(layout::from_row_major(&w1)),
            b1,
            w2: Aligned(layout::from_row_major(&w2)),
            b2,
            w3: Aligned(layout::from_row_major(&w3)),
            b3,
            low,
            high,
            mid: [0.0; ACT],
            half: [0.0; ACT],
            safe_action: [0.0; ACT],
            safe_request: [0.0; ACT],
        };
        policy.update_bounds([0.0; ACT]);
        Ok(policy)
    }

    /// Decodes and validates a weight file (see [`format::decode`]) into a new policy.
    ///
    /// Returns [`LoadError::ShapeMismatch`] if the file's dimensions are not
    /// `OBS-H1-H2-ACT`. The policy is returned by value: for large networks on a small stack
    /// prefer [`Policy::load`] into an existing one.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoadError> {
        let mut policy = Self::blank();
        policy.load(bytes)?;
        Ok(policy)
    }

    /// Replaces this policy's weights, normalisation and bounds by the weight file's.
    ///
    /// The file is fully validated first: on error `self` is unchanged. The configured safe
    /// action is kept, clamped into the new bounds.
    pub fn load(&mut self, bytes: &[u8]) -> Result<(), LoadError> {
        self.load_view(&format::decode(bytes)?)
    }

    /// [`Policy::load`] from an already decoded (and therefore validated) file.
    pub fn load_view(&mut self, view: &format::PolicyView<'_>) -> Result<(), LoadError> {
        let () = Self::NONZERO_DIMS;
        if view.shape() != Self::SHAPE {
            return Err(LoadError::ShapeMismatch {
                expected: Self::SHAPE,
                found: view.shape(),
            });
        }
        fill(&mut self.offset, view.obs_offset());
        fill(&mut self.scale, view.obs_scale());
        let [l1, l2, l3] = view.layers();
        fill_weights(&mut self.w1.0, l1.weights());
        fill(&mut self.b1, l1.bias());
        fill_weights(&mut self.w2.0, l2.weights());
        fill(&mut self.b2, l2.bias());
        fill_weights(&mut self.w3.0, l3.weights());
        fill(&mut self.b3, l3.bias());
        fill(&mut self.low, view.action_low());
        fill(&mut self.high, view.action_high());
        self.update_bounds(self.safe_request);
        Ok(())
    }

    /// Sets the action returned when the observation (or the output) is not finite.
    ///
    /// Each element is clamped into `[low, high]`; a non-finite element counts as zero.
    /// The default is zero clamped into the bounds. The request is kept across later loads
    /// and clamped into each new file's bounds.
    #[must_use]
    pub const fn with_safe_action(mut self, action: [f32; ACT]) -> Self {
        self.update_bounds(action);
        self
    }

    /// In-place form of [`Policy::with_safe_action`].
    pub const fn set_safe_action(&mut self, action: [f32; ACT]) {
        self.update_bounds(action);
    }

    /// The action returned when the observation or output is not finite.
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

    /// Observation offsets of the normalisation (zeros if the file had none).
    pub const fn obs_offset(&self) -> [f32; OBS] {
        self.offset
    }

    /// Observation scales of the normalisation (ones if the file had none).
    pub const fn obs_scale(&self) -> [f32; OBS] {
        self.scale
    }

    /// The weight of layer `layer` (0, 1, 2) from input `input` to output `out`, as in the
    /// row-major file; `None` if out of range.
    pub fn weight(&self, layer: usize, out: usize, input: usize) -> Option<f32> {
        let (flat, in_dim, out_dim) = match layer {
            0 => (self.w1.0.as_flattened(), OBS, H1),
            1 => (self.w2.0.as_flattened(), H1, H2),
            2 => (self.w3.0.as_flattened(), H2, ACT),
            _ => return None,
        };
        if out >= out_dim || input >= in_dim {
            return None;
        }
        flat.get(layout::index(out, input, in_dim, out_dim))
            .copied()
    }

    /// The bias of layer `layer` (0, 1, 2) for output `out`.
    pub fn bias(&self, layer: usize, out: usize) -> Option<f32> {
        match layer {
            0 => self.b1.get(out).copied(),
            1 => self.b2.get(out).copied(),
            2 => self.b3.get(out).copied(),
            _ => None,
        }
    }

    /// Recomputes the derived bound values and sets the (clamped) safe action.
    const fn update_bounds(&mut self, safe: [f32; ACT]) {
        self.safe_request = safe;
        let b = DerivedBounds::of(&self.low, &self.high, safe);
        self.mid = b.mid;
        self.half = b.half;
        self.safe_action = b.safe_action;
    }

    /// A zero policy (only as a starting point for [`Policy::load`]).
    pub const fn blank() -> Self {
        Self {
            offset: [0.0; OBS],
            scale: [1.0; OBS],
            w1: Aligned([[0.0; OBS]; H1]),
            b1: [0.0; H1],
            w2: Aligned([[0.0; H1]; H2]),
            b2: [0.0; H2],
            w3: Aligned([[0.0; H2]; ACT]),
            b3: [0.0; ACT],
            low: [-1.0; ACT],
            high: [1.0; ACT],
            mid: [0.0; ACT],
            half: [1.0; ACT],
            safe_action: [0.0; ACT],
            safe_request: [0.0; ACT],
        }
    }
}

const fn first_non_finite(values: &[f32]) -> Option<usize> {
    let mut i = 0;
    while i < values.len() {
        if !values[i].is_finite() {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Row-major index of the first non-finite value of a matrix.
const fn first_non_finite_2d<const IN: usize, const OUT: usize>(
    values: &[[f32; IN]; OUT],
) -> Option<usize> {
    let mut o = 0;
    while o < OUT {
        if let Some(i) = first_non_finite(&values[o]) {
            return Some(o * IN + i);
        }
        o += 1;
    }
    None
}

const fn nonfinite(field: Field, index: usize) -> LoadError {
    LoadError::NonFiniteWeight { field, index }
}

fn fill(dst: &mut [f32], src: impl Iterator<Item = f32>) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// Writes row-major `[out][in]` values into the inference layout.
fn fill_weights<const IN: usize, const OUT: usize>(
    dst: &mut [[f32; IN]; OUT],
    src: impl Iterator<Item = f32>,
) {
    let flat = dst.as_flattened_mut();
    for (n, v) in src.enumerate() {
        if let Some(d) = flat.get_mut(layout::index(n / IN, n % IN, IN, OUT)) {
            *d = v;
        }
    }
}

impl<const OBS: usize, const H1: usize, const H2: usize, const ACT: usize> fmt::Debug
    for Policy<OBS, H1, H2, ACT>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("shape", &Self::SHAPE)
            .field("low", &self.low)
            .field("high", &self.high)
            .field("safe_action", &self.safe_action)
            .finish_non_exhaustive()
    }
}
