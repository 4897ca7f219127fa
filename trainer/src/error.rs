//! The library's error type.

use std::path::PathBuf;

use crate::config::ConfigError;

/// Everything that can go wrong while training, evaluating or exporting.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Training diverged: a loss or a weight became non-finite.
    #[error(
        "training diverged at step {step}: {what} is not finite; the last good checkpoint is kept{}",
        checkpoint.as_ref().map(|c| format!(" in {}", c.display())).unwrap_or_default()
    )]
    Diverged {
        /// Environment step at which it was detected.
        step: u64,
        /// Which quantity (e.g. "critic loss").
        what: String,
        /// Path of the last good checkpoint, if one was written.
        checkpoint: Option<PathBuf>,
    },
    /// A checkpoint file is unreadable or inconsistent.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A policy file could not be loaded.
    #[error("policy file {}: {source}", path.display())]
    Policy {
        /// The file (or what the bytes are, e.g. "current actor").
        path: PathBuf,
        /// Why the runtime refused it.
        source: policy_runtime::LoadError,
    },
    /// A rig could not be resolved or its plant built.
    #[error(transparent)]
    Rig(#[from] sim::RigError),
    /// A policy, rig or setting does not fit what it is used with.
    #[error("{0}")]
    Mismatch(String),
    /// A sweep file or sweep folder is invalid, or a sweep's jobs failed.
    #[error("sweep: {0}")]
    Sweep(String),
    /// The actor cannot be written in the policy format.
    #[error("export failed: {0}")]
    Export(String),
    /// The policy-runtime encoder refused the actor.
    #[error("export failed: {0}")]
    Encode(#[from] policy_runtime::EncodeError),
    /// Plotting failed.
    #[error("plot {}: {reason}", path.display())]
    Plot {
        /// The PNG file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The final evaluation did not reach the required mean return.
    #[error("final evaluation mean return {mean:.1} is below the required {required:.1}")]
    BelowRequired {
        /// Measured mean return.
        mean: f64,
        /// Required minimum.
        required: f64,
    },
    /// `--require-success` was not met.
    #[error(
        "final evaluation success rate {:.1} % is below the required {:.1} %",
        100.0 * rate,
        100.0 * required
    )]
    SuccessBelowRequired {
        /// Measured success rate of `policy.postcard`.
        rate: f64,
        /// Required minimum.
        required: f64,
    },
}

impl TrainError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
