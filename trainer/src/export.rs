//! Export of the actor as a `policy-runtime` weight file.

use crate::ddpg::Ddpg;
use crate::error::TrainError;
use crate::network::MlpParams;
use policy_runtime::format::{self, LayerSpec, PolicySpec};

/// Encodes the actor (with its observation normalisation and action bounds) in the
/// `policy-runtime` format. The actor must have exactly three layers (two hidden).
pub fn export_actor(agent: &Ddpg) -> Result<Vec<u8>, TrainError> {
    encode_actor(&agent.actor.params, &agent.scaling)
}

/// Encodes actor parameters and scaling (see [`export_actor`]).
pub fn encode_actor(
    actor: &MlpParams,
    scaling: &crate::ddpg::Scaling,
) -> Result<Vec<u8>, TrainError> {
    if actor.sizes.len() != 4 {
        return Err(TrainError::Export(format!(
            "the policy format holds exactly three layers, the actor has {}",
            actor.sizes.len() - 1
        )));
    }
    let layer = |l: usize| LayerSpec {
        in_dim: actor.sizes[l],
        out_dim: actor.sizes[l + 1],
        weights: &actor.tensors[2 * l],
        bias: &actor.tensors[2 * l + 1],
    };
    let spec = PolicySpec {
        obs_offset: Some(&scaling.obs_offset),
        obs_scale: Some(&scaling.obs_scale),
        layers: [layer(0), layer(1), layer(2)],
        action_low: &scaling.action_low,
        action_high: &scaling.action_high,
    };
    format::encode_to_vec(&spec).map_err(|e| TrainError::Export(e.to_string()))
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), TrainError> {
    let tmp = path.with_extension(match path.extension() {
        Some(e) => format!("{}.tmp", e.to_string_lossy()),
        None => "tmp".to_string(),
    });
    write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}

/// Creates (or truncates) `path`, writes `bytes` and waits until they are on disk.
pub fn write_synced(path: &std::path::Path, bytes: &[u8]) -> Result<(), TrainError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(|e| TrainError::io(path, e))?;
    f.write_all(bytes).map_err(|e| TrainError::io(path, e))?;
    f.sync_all().map_err(|e| TrainError::io(path, e))
}
