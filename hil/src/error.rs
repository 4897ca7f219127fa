//! Errors of the host side.

use std::path::PathBuf;

/// Everything that can go wrong on the host side of the HIL test.
#[derive(Debug, thiserror::Error)]
pub enum HilError {
    /// An I/O operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The firmware build failed.
    #[error("firmware build failed: {0}")]
    Build(String),
    /// `qemu-system-arm` could not be started or exited early.
    #[error("QEMU: {0}")]
    Qemu(String),
    /// A serial port could not be opened or configured.
    #[error("serial port {port}: {message}")]
    Serial {
        /// The device path.
        port: String,
        /// What went wrong, with the likely cause.
        message: String,
    },
    /// The other end closed the link (QEMU exited, the adapter was unplugged, ...).
    #[error("the board closed the link ({0})")]
    LinkClosed(String),
    /// The board's QEMU process ended during the session (killed, crashed, or timed out).
    #[error("the board died: QEMU (pid {pid}) exited with {status} during the session{}", if output.is_empty() { String::new() } else { format!("; it said: {output}") })]
    BoardDied {
        /// QEMU's process id.
        pid: u32,
        /// How it ended (e.g. "signal: 9 (SIGKILL)").
        status: String,
        /// What QEMU printed.
        output: String,
    },
    /// A firmware image's defmt log table cannot be read.
    #[error("firmware log of {elf}: {message}")]
    BoardLog {
        /// The firmware image.
        elf: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A policy file is invalid.
    #[error("invalid policy file: {0}")]
    Policy(#[from] policy_runtime::LoadError),
    /// A policy could not be encoded.
    #[error("cannot encode policy: {0}")]
    Encode(#[from] policy_runtime::EncodeError),
    /// The board announced something the host does not expect.
    #[error("board mismatch: {0}")]
    Mismatch(String),
    /// The board did not answer in time.
    #[error("timeout: {0}")]
    Timeout(String),
    /// The board sent a message the host cannot use at this point.
    #[error("protocol: {0}")]
    Protocol(String),
    /// A command-line or configuration value is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// A rig could not be resolved or its plant built.
    #[error(transparent)]
    Rig(#[from] sim::RigError),
    /// A plant cannot be run by the firmware (e.g. its control period).
    #[error("plant: {0}")]
    Plant(String),
    /// Writing a report failed.
    #[error("report {path}: {message}")]
    Report {
        /// File being written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl HilError {
    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        HilError::Io {
            what: what.into(),
            source,
        }
    }
}
