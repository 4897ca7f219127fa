//! Host–board link protocol of the hardware-in-the-loop test.
//!
//! Both the firmware and the host (`hil` crate) use this crate, so the messages are defined
//! exactly once. A frame on the wire is
//!
//! ```text
//! COBS( postcard(message) ‖ CRC-32/ISO-HDLC(postcard(message)) as 4 little-endian bytes ) ‖ 0x00
//! ```
//!
//! See `PROTOCOL.md` beside this crate's manifest for the message table and the link rules
//! (readiness announcement, retransmission, watchdog, resynchronisation).
#![no_std]

pub mod build_config;
pub mod cobs;
mod frame;
mod hash;
mod messages;

pub use frame::{FrameDecoder, FrameError, MAX_FRAME, encode_frame};
pub use hash::policy_hash;
pub use messages::{
    Action, BoardMsg, Hello, HostMsg, InferenceStatus, MAX_ACT, MAX_OBS, Observation,
    PROTOCOL_VERSION, Values, WatchdogEvent, values_crc,
};
