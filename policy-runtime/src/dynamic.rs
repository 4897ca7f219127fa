//! Policies whose shape is chosen at run time from the weight file (feature `alloc`): what a
//! host (trainer evaluation, HIL reference) does with a weight file. One decode, one list of
//! supported shapes, and exactly the arithmetic of [`Policy`] (each shape *is* a `Policy`), so
//! a host's actions are bit-identical to a board's.

use alloc::boxed::Box;
use core::fmt;

use crate::format::{self, Int8View, PolicyView, Precision};
use crate::{Int8Policy, LoadError, Policy, Shape, Status};

/// A slice passed to [`DynPolicy::act`] has the wrong length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthMismatch {
    /// `"observation"` or `"action"`.
    pub what: &'static str,
    /// The policy's dimension.
    pub expected: usize,
    /// The slice's length.
    pub found: usize,
}

impl fmt::Display for LengthMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of length {} given to a policy that takes {}",
            self.what, self.found, self.expected
        )
    }
}

impl core::error::Error for LengthMismatch {}

/// One compiled-in shape, erased.
trait Erased: Send + Sync {
    fn act_slices(&self, obs: &[f32], action: &mut [f32]) -> Status;
}

/// `Erased` for a policy type with an `act(&[f32; O]) -> Output<A>`.
macro_rules! erased {
    ($ty:ident) => {
        impl<const O: usize, const H1: usize, const H2: usize, const A: usize> Erased
            for $ty<O, H1, H2, A>
        {
            fn act_slices(&self, obs: &[f32], action: &mut [f32]) -> Status {
                let mut o = [0.0f32; O];
                o.copy_from_slice(obs);
                let out = self.act(&o);
                action.copy_from_slice(&out.action);
                out.status
            }
        }
    };
}

erased!(Policy);
erased!(Int8Policy);

macro_rules! shapes {
    ($(($o:literal, $h1:literal, $h2:literal, $a:literal)),* $(,)?) => {
        /// The shapes [`DynPolicy`] can load (each is compiled as a [`Policy`]).
        const SHAPES: &[Shape] = &[$(Shape { obs: $o, hidden1: $h1, hidden2: $h2, act: $a }),*];

        fn boxed(view: &PolicyView<'_>) -> Option<Result<Box<dyn Erased>, LoadError>> {
            let s = view.shape();
            $(
                if (s.obs, s.hidden1, s.hidden2, s.act) == ($o, $h1, $h2, $a) {
                    let mut p = Box::new(Policy::<$o, $h1, $h2, $a>::blank());
                    return Some(p.load_view(view).map(|()| p as Box<dyn Erased>));
                }
            )*
            None
        }

        fn boxed_int8(view: &Int8View<'_>) -> Option<Result<Box<dyn Erased>, LoadError>> {
            let s = view.shape();
            $(
                if (s.obs, s.hidden1, s.hidden2, s.act) == ($o, $h1, $h2, $a) {
                    let mut p = Box::new(Int8Policy::<$o, $h1, $h2, $a>::blank());
                    return Some(p.load_view(view).map(|()| p as Box<dyn Erased>));
                }
            )*
            None
        }
    };
}

shapes! {
    (3, 16, 16, 1),
    (3, 32, 32, 1),
    (3, 64, 64, 1),
    (3, 128, 128, 1),
    (3, 256, 256, 1),
    (3, 400, 300, 1),
    // With the previous action as a fourth input (`sim::feedback`).
    (4, 32, 32, 1),
    (4, 64, 64, 1),
    (4, 128, 128, 1),
}

/// A policy of any of [`DynPolicy::SUPPORTED_SHAPES`], loaded from a weight file.
pub struct DynPolicy {
    shape: Shape,
    precision: Precision,
    inner: Box<dyn Erased>,
}

impl fmt::Debug for DynPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynPolicy")
            .field("shape", &self.shape)
            .field("precision", &self.precision)
            .finish_non_exhaustive()
    }
}

impl DynPolicy {
    /// The shapes that can be loaded.
    pub const SUPPORTED_SHAPES: &'static [Shape] = SHAPES;

    /// Decodes and validates `bytes` (once) and loads them into the policy of their shape;
    /// [`LoadError::UnsupportedShape`] for a valid file of another shape.
    ///
    /// Takes f32 (`PLCY`) and int8 (`PLQ8`) files alike; [`DynPolicy::precision`] says which.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoadError> {
        if format::precision_of(bytes) == Some(Precision::Int8) {
            let view = format::decode_int8(bytes)?;
            let shape = view.shape();
            let inner = boxed_int8(&view).ok_or(LoadError::UnsupportedShape { found: shape })??;
            return Ok(Self {
                shape,
                precision: Precision::Int8,
                inner,
            });
        }
        let view = format::decode(bytes)?;
        let shape = view.shape();
        let inner = boxed(&view).ok_or(LoadError::UnsupportedShape { found: shape })??;
        Ok(Self {
            shape,
            precision: Precision::F32,
            inner,
        })
    }

    /// The number format of the loaded network.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The network's dimensions.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Writes the action for `obs` into `action` (exactly [`Policy::act`]); the status says
    /// whether it is the network's output or the safe action.
    pub fn act(&self, obs: &[f32], action: &mut [f32]) -> Result<Status, LengthMismatch> {
        let check = |what, expected, found| {
            (expected == found).then_some(()).ok_or(LengthMismatch {
                what,
                expected,
                found,
            })
        };
        check("observation", self.shape.obs, obs.len())?;
        check("action", self.shape.act, action.len())?;
        Ok(self.inner.act_slices(obs, action))
    }
}
