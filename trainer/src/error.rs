//! The library's error type.

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
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// Training diverged: a loss or a weight became non-finite.
    #[error(
        "training diverged at step {step}: {what} is not finite; the last good checkpoint is kept{}",
        checkpoint.as_ref().map(|c| format!(" in {c}")).unwrap_or_default()
    )]
    Diverged {
        /// Environment step at which it was detected.
        step: u64,
        /// Which quantity (e.g. "critic loss").
        what: String,
        /// Path of the last good checkpoint, if one was written.
        checkpoint: Option<String>,
    },
    /// A checkpoint file is unreadable or inconsistent.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A policy file could not be loaded.
    #[error("policy file {path}: {reason}")]
    Policy {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The environment could not be built.
    #[error("environment: {0}")]
    Env(String),
    /// Exporting the actor failed.
    #[error("export failed: {0}")]
    Export(String),
    /// Plotting failed.
    #[error("plot {path}: {reason}")]
    Plot {
        /// The PNG file.
        path: String,
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
    pub fn io(path: &std::path::Path, error: std::io::Error) -> Self {
        TrainError::Io {
            path: path.display().to_string(),
            error,
        }
    }
}
