//! Loading exported weight files through `policy-runtime` ([`DynPolicy`]: the shape is read
//! from the file, the arithmetic is exactly the board's), as [`Controller`]s for the quality
//! evaluation.

use crate::error::TrainError;
use crate::quality::Controller;
use policy_runtime::DynPolicy;

impl Controller for DynPolicy {
    /// The runtime's action; `action` is filled with NaN if the slice lengths do not fit the
    /// policy (callers check the shape against the rig first: [`check_fits`]).
    fn act(&self, obs: &[f32], action: &mut [f32]) {
        if DynPolicy::act(self, obs, action).is_err() {
            action.fill(f32::NAN);
        }
    }

    fn input_dim(&self) -> usize {
        self.shape().obs
    }
}

/// Loads an exported weight file through `policy-runtime` (`path` is only used in messages).
pub fn load_runtime_policy(bytes: &[u8], path: &std::path::Path) -> Result<DynPolicy, TrainError> {
    DynPolicy::from_bytes(bytes).map_err(|source| TrainError::Policy {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a weight file from disk and loads it through `policy-runtime`.
pub fn load_policy_file(path: &std::path::Path) -> Result<DynPolicy, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    load_runtime_policy(&bytes, path)
}

/// Checks that a policy's dimensions fit a rig's plant: 3 observations (4 for a policy that
/// also observes its previous action, `sim::feedback`), 1 action.
pub fn check_fits(actor: &DynPolicy, rig: &sim::Rig) -> Result<(), TrainError> {
    let s = actor.shape();
    if !(3..=4).contains(&s.obs) || s.act != 1 {
        return Err(TrainError::Mismatch(format!(
            "policy {s} has {} inputs and {} actions, the pendulum of rig `{}` has 3 \
             observations (4 inputs with the previous action) and 1 action",
            s.obs, s.act, rig.name
        )));
    }
    Ok(())
}
