//! Checkpoints: everything needed to continue a run exactly, written atomically.

use crate::config::TrainConfig;
use crate::ddpg::DdpgState;
use crate::error::TrainError;
use crate::metrics::{EpisodeRecord, EvalRecord};
use crate::noise::Noise;
use crate::replay::ReplayBuffer;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the checkpoint inside a run directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.bin";
const MAGIC: [u8; 8] = *b"DDPGCKPT";
const VERSION: u32 = 2;

/// The exact state of a ChaCha8 generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// Key.
    pub seed: [u8; 32],
    /// Stream number.
    pub stream: u64,
    /// Position in the stream (in 32-bit words).
    pub word_pos: u128,
}

impl RngState {
    /// Captures a generator's state.
    pub fn capture(rng: &ChaCha8Rng) -> Self {
        Self {
            seed: rng.get_seed(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos(),
        }
    }

    /// Rebuilds the generator.
    pub fn restore(&self) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos);
        rng
    }
}

/// A training checkpoint (taken at an episode boundary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The run's configuration.
    pub config: TrainConfig,
    /// Networks, targets and optimisers.
    pub agent: DdpgState,
    /// The replay buffer.
    pub replay: ReplayBuffer,
    /// The run's random generator.
    pub rng: RngState,
    /// The exploration noise process.
    pub noise: Noise,
    /// The rig trained on (resolved when the run started).
    pub rig: sim::Rig,
    /// The evaluation rig.
    pub eval_rig: sim::Rig,
    /// Environment steps done.
    pub step: u64,
    /// Episodes done.
    pub episode: u64,
    /// Gradient steps done.
    pub updates: u64,
    /// Per-episode metrics so far.
    pub episodes: Vec<EpisodeRecord>,
    /// Periodic evaluations so far.
    pub evals: Vec<EvalRecord>,
    /// Best periodic evaluation score so far (`1e6 × success rate + mean return`).
    pub best_eval: Option<f64>,
    /// Wall time spent training so far [s].
    pub elapsed_secs: f64,
}

impl Checkpoint {
    /// Serialises (magic, version, postcard body).
    pub fn to_bytes(&self) -> Result<Vec<u8>, TrainError> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        let body = postcard::to_stdvec(self).map_err(|e| TrainError::Checkpoint {
            path: String::new(),
            reason: e.to_string(),
        })?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Parses bytes written by [`Checkpoint::to_bytes`] (`path` only for messages).
    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<Self, TrainError> {
        let err = |reason: String| TrainError::Checkpoint {
            path: path.to_string(),
            reason,
        };
        if bytes.len() < 12 || bytes[..8] != MAGIC {
            return Err(err("not a trainer checkpoint (bad magic)".into()));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != VERSION {
            return Err(err(format!(
                "unsupported checkpoint version {version} (expected {VERSION})"
            )));
        }
        let (ckpt, rest): (Checkpoint, _) =
            postcard::take_from_bytes(&bytes[12..]).map_err(|e| err(format!("corrupt: {e}")))?;
        if !rest.is_empty() {
            return Err(err(format!("corrupt: {} trailing bytes", rest.len())));
        }
        Ok(ckpt)
    }

    /// Writes atomically into `run_dir/checkpoint.bin`.
    pub fn save(&self, run_dir: &Path) -> Result<(), TrainError> {
        let path = run_dir.join(CHECKPOINT_FILE);
        let bytes = self.to_bytes().map_err(|e| match e {
            TrainError::Checkpoint { reason, .. } => TrainError::Checkpoint {
                path: path.display().to_string(),
                reason,
            },
            other => other,
        })?;
        crate::export::write_atomic(&path, &bytes)
    }

    /// Loads `run_dir/checkpoint.bin`.
    pub fn load(run_dir: &Path) -> Result<Self, TrainError> {
        let path = run_dir.join(CHECKPOINT_FILE);
        let bytes = std::fs::read(&path).map_err(|e| TrainError::Checkpoint {
            path: path.display().to_string(),
            reason: format!("cannot read ({e}); is this a run directory?"),
        })?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn rng_state_round_trip() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..7 {
            rng.next_u32();
        }
        let mut restored = RngState::capture(&rng).restore();
        for _ in 0..10 {
            assert_eq!(rng.next_u64(), restored.next_u64());
        }
    }

    #[test]
    fn bad_bytes_are_rejected_with_reason() {
        let e = Checkpoint::from_bytes(b"hello", "x.bin")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.bin") && e.contains("magic"), "{e}");
    }
}
