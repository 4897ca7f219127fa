//! Host side of the hardware-in-the-loop (HIL) test.
//!
//! The board (the `firmware/` image in QEMU's `netduinoplus2`, or a real STM32F4) runs the
//! policy; this crate builds the image ([`firmware`]), starts QEMU with its serial port on a
//! Unix socket or a pseudo-terminal ([`qemu`]) — or opens the serial port of a board that is
//! already running ([`transport`]) — runs the plant ([`plant`]) in lockstep with the board
//! ([`session`]), and reports returns, link latency, on-board instructions per inference and
//! link faults ([`report`]). [`mod@bench`] measures inference cost and image size.

pub mod bench;
pub mod board;
pub mod board_log;
pub mod cli;
pub mod cycles;
mod error;
pub mod firmware;
pub mod host_policy;
pub mod link;
pub mod plant;
pub mod policy_file;
pub mod profile;
pub mod qemu;
pub mod report;
pub mod session;
pub mod transport;

pub use error::HilError;
