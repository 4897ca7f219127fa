//! The messages exchanged over the link.

use serde::{Deserialize, Serialize};

/// Version of this protocol, announced in [`Hello`]; the host refuses a board that differs.
pub const PROTOCOL_VERSION: u16 = 1;
/// Largest observation vector a message can carry.
pub const MAX_OBS: usize = 8;
/// Largest action vector a message can carry.
pub const MAX_ACT: usize = 4;

/// A short vector of `f32` values (observation or action) with a fixed capacity `N`.
pub type Values<const N: usize> = heapless::Vec<f32, N>;

/// Messages the host sends to the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HostMsg {
    /// Asks the board to repeat its [`Hello`] (the first one may have been lost or corrupted).
    Query,
    /// A sensor reading for one control step.
    Observation(Observation),
    /// Ends the session: the board answers [`BoardMsg::Bye`] and stops (in QEMU, a
    /// semihosting exit with status 0).
    Shutdown,
}

/// Messages the board sends to the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BoardMsg {
    /// Readiness announcement, sent at start-up (receiver enabled) and on [`HostMsg::Query`].
    Hello(Hello),
    /// The actuator command computed for one observation.
    Action(Action),
    /// No valid observation arrived within the watchdog period: the board now commands the
    /// safe action (zero torque) until the next valid observation.
    Watchdog(WatchdogEvent),
    /// Answer to [`HostMsg::Shutdown`], with the board's final counters.
    Bye {
        /// Frames dropped by the board because they were corrupt (CRC, COBS, length, decoding).
        corrupt_frames: u32,
        /// Watchdog events since start-up.
        watchdog_events: u32,
        /// Deepest stack use since start-up, in bytes (stack painting).
        peak_stack: u32,
    },
}

/// The board's readiness announcement: what it runs and how it is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the firmware.
    pub protocol_version: u16,
    /// Weight-file format version (`policy_runtime::format::FORMAT_VERSION`) of the embedded policy.
    pub format_version: u16,
    /// Observation dimension of the embedded policy.
    pub obs_dim: u16,
    /// Hidden layer widths of the embedded policy.
    pub hidden: [u16; 2],
    /// Action dimension of the embedded policy.
    pub act_dim: u16,
    /// [`crate::policy_hash`] of the embedded policy file.
    pub policy_hash: u64,
    /// Control period the board is configured for, in microseconds.
    pub control_period_us: u32,
    /// Watchdog period, in microseconds of board time.
    pub watchdog_us: u32,
    /// Instructions of the timing code itself, already subtracted from
    /// [`Action::instructions`] (for information).
    pub timer_overhead: u32,
    /// Peak stack of one inference in bytes, measured by stack painting at start-up.
    pub inference_stack: u32,
}

/// One sensor reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Sequence number chosen by the host; echoed in the [`Action`].
    pub seq: u32,
    /// Observation values (length must equal [`Hello::obs_dim`]).
    pub values: Values<MAX_OBS>,
}

/// Outcome of one inference on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InferenceStatus {
    /// The policy ran normally.
    Ok,
    /// The observation contained NaN or infinity: the safe action was commanded.
    NonFiniteObservation,
    /// The network's output was not finite (extreme observation): the safe action was commanded.
    NonFiniteOutput,
    /// The observation had the wrong number of values: the safe action was commanded.
    WrongObservationLength,
    /// The runtime reported a status this protocol version does not name; the runtime
    /// guarantees the action is finite and within bounds.
    Other,
}

/// The actuator command for one observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Sequence number of the observation this answers.
    pub seq: u32,
    /// Commanded action (length [`Hello::act_dim`]).
    pub values: Values<MAX_ACT>,
    /// Status of the inference.
    pub status: InferenceStatus,
    /// Instructions the inference took on the board (see `PROTOCOL.md` for how they are counted).
    pub instructions: u32,
    /// [`values_crc`] of the observation values exactly as the board decoded them, so the host
    /// can check that the board acted on what it sent.
    pub obs_crc: u32,
    /// Frames the board has dropped as corrupt since start-up.
    pub corrupt_frames: u32,
}

/// Report of a watchdog expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchdogEvent {
    /// Sequence number of the last valid observation (0 if none arrived yet).
    pub last_seq: u32,
    /// Board time since the last valid observation (or start-up), in microseconds.
    pub elapsed_us: u32,
    /// The safe action now commanded.
    pub values: Values<MAX_ACT>,
    /// Watchdog events since start-up, this one included.
    pub count: u32,
}

const VALUES_CRC: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// CRC-32 of the little-endian bytes of `values` (used for [`Action::obs_crc`]).
pub fn values_crc(values: &[f32]) -> u32 {
    let mut d = VALUES_CRC.digest();
    for v in values {
        d.update(&v.to_le_bytes());
    }
    d.finalize()
}
