//! Loading exported weight files through `policy-runtime` (the size is chosen at run time from
//! the file among the compiled-in sizes), as [`Controller`]s for the quality evaluation.

use crate::error::TrainError;
use crate::quality::Controller;
use policy_runtime::{Policy, format};

/// A policy loaded through `policy-runtime`, with its dimensions chosen at run time from
/// the file among the compiled-in sizes.
pub trait RuntimeActor: Send + Sync {
    /// Writes the action for `obs` into `action`.
    fn act_into(&self, obs: &[f32], action: &mut [f32]);
    /// `(obs, hidden1, hidden2, act)`.
    fn dims(&self) -> (usize, usize, usize, usize);
}

impl<const O: usize, const H1: usize, const H2: usize, const A: usize> RuntimeActor
    for Policy<O, H1, H2, A>
{
    fn act_into(&self, obs: &[f32], action: &mut [f32]) {
        let mut o = [0.0f32; O];
        o.copy_from_slice(obs);
        action.copy_from_slice(&self.act(&o).action);
    }

    fn dims(&self) -> (usize, usize, usize, usize) {
        (O, H1, H2, A)
    }
}

impl Controller for Box<dyn RuntimeActor> {
    fn act(&self, obs: &[f32], action: &mut [f32]) {
        self.act_into(obs, action);
    }
}

macro_rules! supported_sizes {
    ($($o:literal, $h1:literal, $h2:literal, $a:literal;)*) => {
        /// Network sizes `(obs, hidden1, hidden2, act)` that `eval` can load.
        pub const SUPPORTED_SIZES: &[(usize, usize, usize, usize)] = &[$(($o, $h1, $h2, $a)),*];

        fn load_sized(
            bytes: &[u8],
            dims: (usize, usize, usize, usize),
        ) -> Option<Result<Box<dyn RuntimeActor>, policy_runtime::LoadError>> {
            match dims {
                $(($o, $h1, $h2, $a) => Some(
                    Policy::<$o, $h1, $h2, $a>::from_bytes(bytes)
                        .map(|p| Box::new(p) as Box<dyn RuntimeActor>),
                ),)*
                _ => None,
            }
        }
    };
}

supported_sizes! {
    3, 16, 16, 1;
    3, 32, 32, 1;
    3, 64, 64, 1;
    3, 128, 128, 1;
    3, 256, 256, 1;
    3, 400, 300, 1;
}

/// Loads an exported weight file through `policy-runtime` (`path` is only used in messages).
pub fn load_runtime_policy(bytes: &[u8], path: &str) -> Result<Box<dyn RuntimeActor>, TrainError> {
    let err = |reason: String| TrainError::Policy {
        path: path.to_string(),
        reason,
    };
    let view = format::decode(bytes).map_err(|e| err(e.to_string()))?;
    let (h1, h2) = view.hidden();
    let dims = (view.obs_dim(), h1, h2, view.act_dim());
    match load_sized(bytes, dims) {
        Some(p) => p.map_err(|e| err(e.to_string())),
        None => Err(err(format!(
            "network size {}-{}-{}-{} is not supported by eval (supported: {})",
            dims.0,
            dims.1,
            dims.2,
            dims.3,
            SUPPORTED_SIZES
                .iter()
                .map(|(o, a, b, c)| format!("{o}-{a}-{b}-{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Reads a weight file from disk and loads it through `policy-runtime`.
pub fn load_policy_file(path: &std::path::Path) -> Result<Box<dyn RuntimeActor>, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::Policy {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    load_runtime_policy(&bytes, &path.display().to_string())
}

/// Checks that a policy's dimensions fit a rig's plant (3 observations, 1 action).
pub fn check_fits(actor: &dyn RuntimeActor, rig: &sim::Rig) -> Result<(), TrainError> {
    let (o, _, _, a) = actor.dims();
    if o != 3 || a != 1 {
        return Err(TrainError::Env(format!(
            "policy has {o} observations and {a} actions, the pendulum of rig `{}` has 3 and 1",
            rig.name
        )));
    }
    Ok(())
}
