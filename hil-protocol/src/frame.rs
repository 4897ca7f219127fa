//! Framing: postcard body, CRC-32 trailer, COBS stuffing, `0x00` delimiter.

use core::fmt;

use serde::{Serialize, de::DeserializeOwned};

use crate::cobs::{self, CobsError};

/// Largest frame on the wire, delimiter included. Every message of this crate fits.
pub const MAX_FRAME: usize = 64;
/// Largest body (postcard bytes plus the 4 CRC bytes) that fits in [`MAX_FRAME`].
const MAX_BODY: usize = MAX_FRAME - 2 - MAX_FRAME / 254;
const CRC_LEN: usize = 4;
/// Bitwise CRC (no 1 KB lookup table): frames are short, and flash on the board is scarce.
const FRAME_CRC: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// Why a frame was rejected (receiver side) or could not be built (sender side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// More than [`MAX_FRAME`] bytes arrived without a delimiter.
    Overlong,
    /// The COBS stuffing is invalid.
    Cobs(CobsError),
    /// The body is shorter than the CRC trailer plus one byte.
    TooShort,
    /// The CRC trailer does not match the body.
    Crc {
        /// CRC carried by the frame.
        found: u32,
        /// CRC computed over the body.
        computed: u32,
    },
    /// The body is not a valid postcard message of the expected type.
    Decode,
    /// The message decoded but bytes were left over (wrong length).
    TrailingBytes,
    /// The message does not fit in the output buffer or in [`MAX_FRAME`].
    TooLarge,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Overlong => write!(f, "frame longer than {MAX_FRAME} bytes"),
            FrameError::Cobs(e) => write!(f, "bad COBS stuffing: {e}"),
            FrameError::TooShort => f.write_str("frame too short for its CRC"),
            FrameError::Crc { found, computed } => {
                write!(
                    f,
                    "CRC mismatch: frame says {found:#010x}, body gives {computed:#010x}"
                )
            }
            FrameError::Decode => f.write_str("frame body is not a valid message"),
            FrameError::TrailingBytes => f.write_str("frame has bytes after the message"),
            FrameError::TooLarge => write!(f, "message does not fit in a {MAX_FRAME}-byte frame"),
        }
    }
}

impl core::error::Error for FrameError {}

/// Serialises `msg` into one delimited frame in `out`; returns the number of bytes written.
pub fn encode_frame<T: Serialize>(msg: &T, out: &mut [u8]) -> Result<usize, FrameError> {
    let mut body = [0u8; MAX_BODY];
    let n = postcard::to_slice(msg, &mut body[..MAX_BODY - CRC_LEN])
        .map_err(|_| FrameError::TooLarge)?
        .len();
    // `get` rather than indexing throughout this module: the firmware links no panic path.
    let (payload, trailer) = body.split_at_mut_checked(n).ok_or(FrameError::TooLarge)?;
    let crc = FRAME_CRC.checksum(payload);
    let trailer = trailer.get_mut(..CRC_LEN).ok_or(FrameError::TooLarge)?;
    trailer
        .iter_mut()
        .zip(crc.to_le_bytes())
        .for_each(|(d, s)| *d = s);
    let stuffed = body.get(..n + CRC_LEN).ok_or(FrameError::TooLarge)?;
    let len = cobs::encode(stuffed, out).map_err(|_| FrameError::TooLarge)?;
    *out.get_mut(len).ok_or(FrameError::TooLarge)? = 0;
    Ok(len + 1)
}

/// Decodes one frame body (the bytes between two delimiters).
fn decode_body<T: DeserializeOwned>(stuffed: &[u8]) -> Result<T, FrameError> {
    let mut body = [0u8; MAX_FRAME];
    let n = cobs::decode(stuffed, &mut body).map_err(FrameError::Cobs)?;
    let (payload, trailer) = match (n.checked_sub(CRC_LEN), body.get(..n)) {
        (Some(p), Some(decoded)) if p > 0 => decoded.split_at(p),
        _ => return Err(FrameError::TooShort),
    };
    let found = u32::from_le_bytes(trailer.try_into().map_err(|_| FrameError::TooShort)?);
    let computed = FRAME_CRC.checksum(payload);
    if found != computed {
        return Err(FrameError::Crc { found, computed });
    }
    let (msg, rest) = postcard::take_from_bytes(payload).map_err(|_| FrameError::Decode)?;
    if !rest.is_empty() {
        return Err(FrameError::TrailingBytes);
    }
    Ok(msg)
}

/// Byte-by-byte frame receiver with resynchronisation on the `0x00` delimiter.
///
/// Feed every received byte to [`FrameDecoder::push`]; a completed frame yields `Some`.
/// A corrupt frame yields `Some(Err(..))` and is discarded; reception continues with the next
/// delimiter, so the next good frame is received normally. Empty frames (two delimiters in a
/// row) are ignored, which lets a sender flush the receiver by sending `0x00`.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: [u8; MAX_FRAME],
    len: usize,
    overflow: bool,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// An empty receiver.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_FRAME],
            len: 0,
            overflow: false,
        }
    }

    /// Feeds one byte; returns the message (or the reason it was dropped) when a frame ends.
    pub fn push<T: DeserializeOwned>(&mut self, byte: u8) -> Option<Result<T, FrameError>> {
        if byte == 0 {
            let len = core::mem::take(&mut self.len);
            if core::mem::take(&mut self.overflow) {
                return Some(Err(FrameError::Overlong));
            }
            if len == 0 {
                return None;
            }
            return Some(
                self.buf
                    .get(..len)
                    .map_or(Err(FrameError::Overlong), decode_body),
            );
        }
        if self.overflow {
            return None;
        }
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                self.len += 1;
            }
            None => self.overflow = true,
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, BoardMsg, Hello, HostMsg, InferenceStatus, Observation, WatchdogEvent};
    use proptest::prelude::*;

    fn obs(seq: u32, v: &[f32]) -> HostMsg {
        HostMsg::Observation(Observation {
            seq,
            values: heapless::Vec::from_slice(v).unwrap(),
        })
    }

    fn largest_board_msgs() -> [BoardMsg; 4] {
        let full = heapless::Vec::from_slice(&[f32::MIN; crate::MAX_ACT]).unwrap();
        [
            BoardMsg::Hello(Hello {
                protocol_version: u16::MAX,
                format_version: u16::MAX,
                obs_dim: u16::MAX,
                hidden: [u16::MAX; 2],
                act_dim: u16::MAX,
                policy_hash: u64::MAX,
                control_period_us: u32::MAX,
                watchdog_us: u32::MAX,
                timer_overhead: u32::MAX,
                inference_stack: u32::MAX,
            }),
            BoardMsg::Action(Action {
                seq: u32::MAX,
                values: full.clone(),
                status: InferenceStatus::WrongObservationLength,
                instructions: u32::MAX,
                obs_crc: u32::MAX,
                corrupt_frames: u32::MAX,
            }),
            BoardMsg::Watchdog(WatchdogEvent {
                last_seq: u32::MAX,
                elapsed_us: u32::MAX,
                values: full,
                count: u32::MAX,
            }),
            BoardMsg::Bye {
                corrupt_frames: u32::MAX,
                watchdog_events: u32::MAX,
                peak_stack: u32::MAX,
            },
        ]
    }

    fn feed<T: DeserializeOwned>(
        dec: &mut FrameDecoder,
        bytes: &[u8],
    ) -> Vec<Result<T, FrameError>> {
        bytes.iter().filter_map(|&b| dec.push(b)).collect()
    }
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn every_message_fits_and_roundtrips() {
        let mut out = [0u8; MAX_FRAME];
        for msg in largest_board_msgs() {
            let n = encode_frame(&msg, &mut out).unwrap();
            let mut dec = FrameDecoder::new();
            assert_eq!(feed::<BoardMsg>(&mut dec, &out[..n]), [Ok(msg)]);
        }
        let m = obs(u32::MAX, &[f32::MAX; crate::MAX_OBS]);
        let n = encode_frame(&m, &mut out).unwrap();
        let mut dec = FrameDecoder::new();
        assert_eq!(feed::<HostMsg>(&mut dec, &out[..n]), [Ok(m)]);
    }

    #[test]
    fn bad_crc_is_reported_and_next_frame_resyncs() {
        let mut out = [0u8; MAX_FRAME];
        let m = obs(7, &[1.0, 0.0, -0.5]);
        let n = encode_frame(&m, &mut out).unwrap();
        let mut stream = Vec::from(&out[..n]);
        stream[3] ^= 0x10;
        stream.extend_from_slice(&out[..n]);
        let mut dec = FrameDecoder::new();
        let got = feed::<HostMsg>(&mut dec, &stream);
        assert_eq!(got.len(), 2);
        assert!(matches!(
            got[0],
            Err(FrameError::Crc { .. }) | Err(FrameError::Cobs(_))
        ));
        assert_eq!(got[1], Ok(m));
    }

    #[test]
    fn truncated_overlong_and_trailing_are_errors() {
        let mut out = [0u8; MAX_FRAME];
        let m = obs(1, &[1.0]);
        let n = encode_frame(&m, &mut out).unwrap();
        let mut dec = FrameDecoder::new();
        // Frame cut in the middle: the delimiter arrives early.
        let mut cut = Vec::from(&out[..n / 2]);
        cut.push(0);
        assert!(feed::<HostMsg>(&mut dec, &cut)[0].is_err());
        // Garbage longer than a frame, then a good frame.
        let mut long = std::vec![0x55u8; 200];
        long.push(0);
        long.extend_from_slice(&out[..n]);
        let got = feed::<HostMsg>(&mut dec, &long);
        assert_eq!(got, [Err(FrameError::Overlong), Ok(m.clone())]);
        // A valid CRC over a body with an extra byte after the message.
        let mut body = [0u8; 32];
        let k = postcard::to_slice(&m, &mut body).unwrap().len();
        body[k] = 0x42;
        let crc = FRAME_CRC.checksum(&body[..=k]);
        body[k + 1..k + 5].copy_from_slice(&crc.to_le_bytes());
        let mut stuffed = [0u8; 40];
        let s = cobs::encode(&body[..k + 5], &mut stuffed).unwrap();
        let mut framed = Vec::from(&stuffed[..s]);
        framed.push(0);
        assert_eq!(
            feed::<HostMsg>(&mut dec, &framed),
            [Err(FrameError::TrailingBytes)]
        );
        // Too short for a CRC.
        assert_eq!(
            feed::<HostMsg>(&mut dec, &[0x03, 1, 2, 0]),
            [Err(FrameError::TooShort)]
        );
    }

    proptest! {
        /// Whatever bytes are corrupted, the decoder never returns a message that differs from
        /// one that was sent, and the frame after the corrupted ones is received.
        #[test]
        fn corruption_never_yields_a_wrong_message(
            seq in any::<u32>(),
            vals in proptest::collection::vec(-10.0f32..10.0, 0..=crate::MAX_OBS),
            flips in proptest::collection::vec((0usize..64, 1u8..=255), 1..4),
        ) {
            let m = obs(seq, &vals);
            let mut out = [0u8; MAX_FRAME];
            let n = encode_frame(&m, &mut out).unwrap();
            let mut stream = Vec::from(&out[..n]);
            for (pos, x) in flips {
                let p = pos % n;
                stream[p] ^= x;
            }
            stream.push(0);
            stream.extend_from_slice(&out[..n]);
            let mut dec = FrameDecoder::new();
            let got = feed::<HostMsg>(&mut dec, &stream);
            for x in got.iter().flatten() {
                prop_assert_eq!(x, &m);
            }
            prop_assert_eq!(got.last(), Some(&Ok(m)));
        }
    }
}
