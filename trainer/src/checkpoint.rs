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
use std::path::{Path, PathBuf};

/// File name of the latest checkpoint inside a run directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.bin";
/// File name of the previous generation (the last checkpoint that verified before the latest
/// one was written), kept so that a damaged latest checkpoint leaves something to resume from.
pub const PREVIOUS_CHECKPOINT_FILE: &str = "checkpoint.prev.bin";
const MAGIC: [u8; 8] = *b"DDPGCKPT";
/// Checkpoint format version (see `trainer/CHECKPOINT.md`).
pub const VERSION: u32 = 7;
/// Bytes before the body: magic, version, body length, body checksum.
pub const HEADER_LEN: usize = 28;
/// CRC-64/XZ (the `xz` and `.7z` checksum) over the body. Why not CRC-32: a body is tens of
/// megabytes, where a 32-bit check misses one random corruption in 4·10⁹; CRC-64 misses one
/// in 1.8·10¹⁹ at the same speed. Why not a cryptographic hash: the check guards against
/// accidents (bad disks, torn copies, editing), not tampering — anyone who can write the file
/// can recompute any unkeyed hash.
const CRC64: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_XZ);

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
    /// Wall time spent training so far \[s\].
    pub elapsed_secs: f64,
}

impl Checkpoint {
    /// Serialises: the 28-byte header (magic, version, body length, CRC-64 of the body), then
    /// the postcard body (layout in `trainer/CHECKPOINT.md`).
    pub fn to_bytes(&self) -> Result<Vec<u8>, TrainError> {
        let body = postcard::to_stdvec(self).map_err(|e| TrainError::Checkpoint {
            path: PathBuf::new(),
            reason: e.to_string(),
        })?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&CRC64.checksum(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Parses bytes written by [`Checkpoint::to_bytes`], verifying the header and checksum
    /// before decoding anything (`path` only for messages). The decoded state is not yet
    /// checked against its own configuration: see [`Checkpoint::check`].
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, TrainError> {
        let err = |reason: String| TrainError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < 8 || bytes[..8] != MAGIC {
            return Err(err("not a trainer checkpoint (bad magic)".into()));
        }
        if bytes.len() < HEADER_LEN {
            return Err(err(format!(
                "truncated: {} bytes, shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            )));
        }
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != VERSION {
            return Err(err(format!(
                "unsupported checkpoint version {version} (this trainer reads version {VERSION})"
            )));
        }
        let (len, crc) = (word(12), word(20));
        let body = &bytes[HEADER_LEN..];
        if body.len() as u64 != len {
            return Err(err(format!(
                "truncated or extended: the header announces a {len}-byte body, the file holds {}",
                body.len()
            )));
        }
        let actual = CRC64.checksum(body);
        if actual != crc {
            return Err(err(format!(
                "checksum mismatch (stored {crc:016x}, computed {actual:016x}): the file is corrupt"
            )));
        }
        let (ckpt, rest): (Checkpoint, _) =
            postcard::take_from_bytes(body).map_err(|e| err(format!("corrupt: {e}")))?;
        if !rest.is_empty() {
            return Err(err(format!("corrupt: {} trailing bytes", rest.len())));
        }
        Ok(ckpt)
    }

    /// Checks the state against its own configuration and rigs: every dimension (replay
    /// buffer, networks, optimisers, noise, scaling) against what the config and the plant
    /// imply, every weight finite, the counters consistent. Returns the first problem.
    pub fn check(&self) -> Result<(), String> {
        self.config.validate().map_err(|e| e.to_string())?;
        let plant = self.rig.build().map_err(|e| format!("rig: {e}"))?;
        let env = sim::ActionFeedback::new(plant, self.config.observe_previous_action);
        self.eval_rig
            .build()
            .map_err(|e| format!("evaluation rig: {e}"))?;
        let (od, ad) = {
            use sim::Environment;
            (env.observation_dim(), env.action_dim())
        };
        self.replay.check(self.config.buffer_capacity, od, ad)?;
        self.agent.check(&self.config, od, ad)?;
        self.noise.check(ad)?;
        if self.step > self.config.total_steps {
            return Err(format!(
                "step {} is past total_steps {}",
                self.step, self.config.total_steps
            ));
        }
        if self.episodes.len() as u64 != self.episode {
            return Err(format!(
                "{} episode records for {} episodes",
                self.episodes.len(),
                self.episode
            ));
        }
        if self.agent.updates != self.updates {
            return Err(format!(
                "the agent counts {} gradient steps, the run {}",
                self.agent.updates, self.updates
            ));
        }
        if !(self.elapsed_secs.is_finite() && self.elapsed_secs >= 0.0) {
            return Err(format!("elapsed time {} s", self.elapsed_secs));
        }
        Ok(())
    }

    /// Writes `run_dir/checkpoint.bin` atomically (temporary file, `fsync`, rename). The
    /// checkpoint it replaces becomes `checkpoint.prev.bin` if it still verifies; a damaged
    /// one is dropped and the older previous generation kept. Refuses (without touching
    /// either file) a state that fails [`Checkpoint::check`], e.g. non-finite weights.
    pub fn save(&self, run_dir: &Path) -> Result<(), TrainError> {
        let path = run_dir.join(CHECKPOINT_FILE);
        let named = |reason: String| TrainError::Checkpoint {
            path: path.clone(),
            reason,
        };
        self.check()
            .map_err(|e| named(format!("not written: the state is inconsistent ({e})")))?;
        let bytes = self.to_bytes().map_err(|e| match e {
            TrainError::Checkpoint { reason, .. } => named(reason),
            other => other,
        })?;
        let tmp = run_dir.join(format!("{CHECKPOINT_FILE}.tmp"));
        crate::export::write_synced(&tmp, &bytes)?;
        if Self::verify_file(&path).is_ok() {
            let prev = run_dir.join(PREVIOUS_CHECKPOINT_FILE);
            std::fs::rename(&path, &prev).map_err(|e| TrainError::io(&prev, e))?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| TrainError::io(&path, e))
    }

    /// Reads, verifies and checks one checkpoint file.
    pub fn load_file(path: &Path) -> Result<Self, TrainError> {
        let bytes = std::fs::read(path).map_err(|e| TrainError::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("cannot read ({e}); is this a run directory?"),
        })?;
        let ck = Self::from_bytes(&bytes, path)?;
        ck.check().map_err(|reason| TrainError::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("inconsistent: {reason}"),
        })?;
        Ok(ck)
    }

    /// The step of a checkpoint file if it verifies and passes its checks.
    fn verify_file(path: &Path) -> Result<u64, TrainError> {
        Self::load_file(path).map(|c| c.step)
    }

    /// Loads `run_dir/checkpoint.bin` (or, with `previous`, `checkpoint.prev.bin`), verified
    /// and checked. When the latest one is refused and the previous generation verifies, the
    /// error says so and how to resume from it.
    pub fn load(run_dir: &Path, previous: bool) -> Result<Self, TrainError> {
        let latest = run_dir.join(CHECKPOINT_FILE);
        let prev = run_dir.join(PREVIOUS_CHECKPOINT_FILE);
        if previous {
            return Self::load_file(&prev);
        }
        match Self::load_file(&latest) {
            Ok(ck) => Ok(ck),
            Err(TrainError::Checkpoint { path, reason }) if latest.exists() => {
                let hint = match Self::verify_file(&prev) {
                    Ok(step) => format!(
                        "; the previous checkpoint {} (step {step}) verifies: resume from it with \
                         `trainer train --resume {} --from-previous`",
                        prev.display(),
                        run_dir.display()
                    ),
                    Err(_) if prev.exists() => {
                        format!(
                            "; the previous checkpoint {} is damaged too",
                            prev.display()
                        )
                    }
                    Err(_) => "; there is no previous checkpoint to fall back to".into(),
                };
                Err(TrainError::Checkpoint {
                    path,
                    reason: format!("{reason}{hint}"),
                })
            }
            Err(e) => Err(e),
        }
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

    use crate::config::TrainConfig;
    use crate::train::{RunOptions, Trainer};

    /// A run stopped at step 400 (checkpoints at 200 and 400) in `dir/run`.
    fn stopped_run(dir: &Path) -> std::path::PathBuf {
        let run = dir.join("run");
        let cfg = TrainConfig {
            total_steps: 800,
            learning_starts: 100,
            buffer_capacity: 1_000,
            checkpoint_every: 200,
            eval_every: 0,
            final_eval_episodes: 2,
            rig: "reference".into(),
            ..TrainConfig::default()
        };
        let mut t = Trainer::new(cfg, &run).unwrap();
        let opts = RunOptions {
            quiet: true,
            stop_after: Some(400),
        };
        assert!(!t.run(&opts).unwrap().finished);
        run
    }

    fn write(dir: &Path, ck: &Checkpoint) -> std::path::PathBuf {
        let path = dir.join("edited.bin");
        std::fs::write(&path, ck.to_bytes().unwrap()).unwrap();
        path
    }

    #[test]
    fn every_flipped_byte_is_refused_by_the_checksum() {
        let tmp = tempfile::tempdir().unwrap();
        let run = stopped_run(tmp.path());
        let good = std::fs::read(run.join(CHECKPOINT_FILE)).unwrap();
        assert!(Checkpoint::from_bytes(&good, Path::new("c")).is_ok());
        // Spread over the file, and the whole tail (the run counters and elapsed time).
        let n = good.len();
        let positions = (0..n).step_by(n / 300).chain(n - 64..n);
        for at in positions {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            let e = Checkpoint::from_bytes(&bad, Path::new("c"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("checksum")
                    || e.contains("magic")
                    || e.contains("version")
                    || e.contains("truncated"),
                "byte {at}: {e}"
            );
        }
        for len in [0, 7, 12, HEADER_LEN, n / 2, n - 1] {
            assert!(
                Checkpoint::from_bytes(&good[..len], Path::new("c")).is_err(),
                "{len}"
            );
        }
    }

    #[test]
    fn wrong_dimensions_and_non_finite_weights_are_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let run = stopped_run(tmp.path());
        let ck = Checkpoint::load(&run, false).unwrap();
        let cases: Vec<(Checkpoint, &str)> = vec![
            (
                Checkpoint {
                    replay: ReplayBuffer::new(1_000, 3, 127),
                    ..ck.clone()
                },
                "act_dim 127",
            ),
            (
                Checkpoint {
                    replay: ReplayBuffer::new(1_000, 4, 1),
                    ..ck.clone()
                },
                "obs_dim 4",
            ),
            (
                Checkpoint {
                    replay: ReplayBuffer::new(999, 3, 1),
                    ..ck.clone()
                },
                "capacity 999",
            ),
            (
                {
                    let mut c = ck.clone();
                    c.agent.actor.tensors[2][5] = f32::NAN;
                    c
                },
                "an actor weight is not finite",
            ),
            (
                {
                    let mut c = ck.clone();
                    c.agent.critic.tensors[0].pop();
                    c
                },
                "critic: parameter tensor 0",
            ),
            (
                {
                    let mut c = ck.clone();
                    c.config.actor_hidden1 = 32;
                    c
                },
                "actor: layer widths",
            ),
            (
                Checkpoint {
                    step: 10_000,
                    ..ck.clone()
                },
                "past total_steps",
            ),
        ];
        for (bad, needle) in cases {
            let path = write(tmp.path(), &bad);
            let e = Checkpoint::load_file(&path).unwrap_err().to_string();
            assert!(
                e.contains(needle) && e.contains("edited.bin"),
                "{needle}: {e}"
            );
            // And it is never written.
            let e = bad.save(tmp.path()).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn a_damaged_latest_checkpoint_points_to_the_previous_generation() {
        let tmp = tempfile::tempdir().unwrap();
        let run = stopped_run(tmp.path());
        let prev = Checkpoint::load(&run, true).unwrap();
        assert_eq!(prev.step, 200);
        let latest = run.join(CHECKPOINT_FILE);
        let mut bytes = std::fs::read(&latest).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(&latest, &bytes).unwrap();
        let e = Checkpoint::load(&run, false).unwrap_err().to_string();
        assert!(
            e.contains("checksum mismatch")
                && e.contains(PREVIOUS_CHECKPOINT_FILE)
                && e.contains("step 200")
                && e.contains("--from-previous"),
            "{e}"
        );
        // Saving over a damaged latest checkpoint keeps the intact previous generation.
        prev.save(&run).unwrap();
        assert_eq!(Checkpoint::load(&run, true).unwrap().step, 200);
        assert_eq!(Checkpoint::load(&run, false).unwrap().step, 200);
        // Both damaged: the error says so.
        for f in [CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE] {
            std::fs::write(run.join(f), b"DDPGCKPT garbage").unwrap();
        }
        let e = Checkpoint::load(&run, false).unwrap_err().to_string();
        assert!(e.contains("damaged too"), "{e}");
    }

    /// Pins the header layout and the checksum algorithm of `CHECKPOINT.md`.
    #[test]
    fn header_is_the_documented_layout() {
        // CRC-64/XZ check value (the CRC catalogue's "123456789" test vector).
        assert_eq!(CRC64.checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
        let tmp = tempfile::tempdir().unwrap();
        let run = stopped_run(tmp.path());
        let bytes = std::fs::read(run.join(CHECKPOINT_FILE)).unwrap();
        assert_eq!(&bytes[..12], b"DDPGCKPT\x07\x00\x00\x00");
        let body = &bytes[HEADER_LEN..];
        assert_eq!(bytes[12..20], (body.len() as u64).to_le_bytes());
        assert_eq!(bytes[20..28], CRC64.checksum(body).to_le_bytes());
    }

    #[test]
    fn bad_bytes_are_rejected_with_reason() {
        let e = Checkpoint::from_bytes(b"hello", Path::new("x.bin"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.bin") && e.contains("magic"), "{e}");
    }
}
