//! The host end of the serial link: framing, timeouts and fault injection.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use hil_protocol::{BoardMsg, FrameDecoder, HostMsg, MAX_FRAME, encode_frame};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::HilError;
use crate::transport::Transport;

/// Faults injected on the link, in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Fraction of frames dropped (each direction, each frame independently).
    pub drop_frames: f64,
    /// Fraction of bytes corrupted (XOR with a random non-zero byte).
    pub corrupt_bytes: f64,
    /// Cut the link (stop sending observations) after this much plant time, seconds.
    pub cut_after: Option<f64>,
}

impl Faults {
    /// Checks that the fractions are in `[0, 1)` and the cut time is finite and non-negative.
    pub fn validate(&self) -> Result<(), HilError> {
        for (name, p) in [
            ("drop fraction", self.drop_frames),
            ("corruption fraction", self.corrupt_bytes),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(HilError::InvalidSetting(format!(
                    "{name} {p} is not in [0, 1)"
                )));
            }
        }
        if let Some(t) = self.cut_after
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(HilError::InvalidSetting(format!(
                "cut time {t} is not a non-negative number"
            )));
        }
        Ok(())
    }
}

/// Counters of the host end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkCounters {
    /// Frames the host sent (after injection: dropped ones are not counted).
    pub sent: u64,
    /// Frames dropped by injection, host to board.
    pub dropped_out: u64,
    /// Frames dropped by injection, board to host.
    pub dropped_in: u64,
    /// Bytes corrupted by injection (both directions).
    pub corrupted_bytes: u64,
    /// Frames the host decoder rejected as corrupt.
    pub corrupt_in: u64,
}

/// Framed, fault-injecting link over a [`Transport`] (QEMU's Unix socket or a serial port).
#[derive(Debug)]
pub struct Link {
    transport: Box<dyn Transport>,
    decoder: FrameDecoder,
    inbox: VecDeque<BoardMsg>,
    faults: Faults,
    rng: ChaCha8Rng,
    counters: LinkCounters,
}

impl Link {
    /// Wraps `transport`; injection decisions come from an RNG seeded with `seed`.
    pub fn new(
        transport: impl Transport + 'static,
        faults: Faults,
        seed: u64,
    ) -> Result<Self, HilError> {
        faults.validate()?;
        Ok(Self {
            transport: Box::new(transport),
            decoder: FrameDecoder::new(),
            inbox: VecDeque::new(),
            faults,
            rng: ChaCha8Rng::seed_from_u64(seed),
            counters: LinkCounters::default(),
        })
    }

    /// Replaces the injected faults (for example, none during the handshake).
    pub fn set_faults(&mut self, faults: Faults) -> Result<(), HilError> {
        faults.validate()?;
        self.faults = faults;
        Ok(())
    }

    /// What the link runs over (for messages).
    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    /// The host end's counters.
    pub fn counters(&self) -> LinkCounters {
        self.counters
    }

    fn corrupt(&mut self, bytes: &mut [u8]) {
        if self.faults.corrupt_bytes <= 0.0 {
            return;
        }
        for b in bytes {
            if self.rng.random_bool(self.faults.corrupt_bytes) {
                *b ^= self.rng.random_range(1..=255u8);
                self.counters.corrupted_bytes += 1;
            }
        }
    }

    /// Sends one message (subject to injected drops and corruption).
    pub fn send(&mut self, msg: &HostMsg) -> Result<(), HilError> {
        let mut buf = [0u8; MAX_FRAME];
        let n = encode_frame(msg, &mut buf).map_err(|e| HilError::Protocol(e.to_string()))?;
        if self.faults.drop_frames > 0.0 && self.rng.random_bool(self.faults.drop_frames) {
            self.counters.dropped_out += 1;
            return Ok(());
        }
        let frame = &mut buf[..n];
        self.corrupt(frame);
        self.transport
            .write_bytes(frame)
            .map_err(|e| HilError::io(format!("writing to the link ({})", self.describe()), e))?;
        self.counters.sent += 1;
        Ok(())
    }

    /// Receives the next message, waiting until `deadline`; `None` on timeout.
    pub fn recv(&mut self, deadline: Instant) -> Result<Option<BoardMsg>, HilError> {
        loop {
            if let Some(m) = self.inbox.pop_front() {
                return Ok(Some(m));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let wait = (deadline - now).max(Duration::from_micros(50));
            let mut buf = [0u8; 256];
            let n = match self.transport.read_with_timeout(&mut buf, wait) {
                Ok(None) => return Ok(None),
                Ok(Some(0)) => return Err(HilError::LinkClosed(self.describe())),
                Ok(Some(n)) => n,
                Err(e) => {
                    return Err(HilError::io(
                        format!("reading from the link ({})", self.describe()),
                        e,
                    ));
                }
            };
            let bytes = &mut buf[..n];
            self.corrupt(bytes);
            for &b in bytes.iter() {
                match self.decoder.push::<BoardMsg>(b) {
                    None => {}
                    Some(Err(_)) => self.counters.corrupt_in += 1,
                    Some(Ok(m)) => {
                        if self.faults.drop_frames > 0.0
                            && self.rng.random_bool(self.faults.drop_frames)
                        {
                            self.counters.dropped_in += 1;
                        } else {
                            self.inbox.push_back(m);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hil_protocol::{Action, InferenceStatus};
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    fn action(seq: u32) -> BoardMsg {
        BoardMsg::Action(Action {
            seq,
            values: heapless::Vec::from_slice(&[0.25]).unwrap(),
            status: InferenceStatus::Ok,
            instructions: 1000,
            obs_crc: 7,
            corrupt_frames: 0,
        })
    }

    /// Writes `n` action frames in one write (many small writes would fill the socket buffer,
    /// whose accounting is per write, before the host reads).
    fn board_frames(board: &mut UnixStream, n: u32) {
        let mut all = Vec::new();
        for seq in 0..n {
            let mut buf = [0u8; MAX_FRAME];
            let k = encode_frame(&action(seq), &mut buf).unwrap();
            all.extend_from_slice(&buf[..k]);
        }
        board.write_all(&all).unwrap();
    }

    fn drain(link: &mut Link) -> Vec<BoardMsg> {
        let mut got = Vec::new();
        while let Some(m) = link
            .recv(Instant::now() + Duration::from_millis(100))
            .unwrap()
        {
            got.push(m);
        }
        got
    }

    #[test]
    fn clean_link_delivers_everything_in_order() {
        let (host, mut board) = UnixStream::pair().unwrap();
        let mut link = Link::new(host, Faults::default(), 1).unwrap();
        board_frames(&mut board, 50);
        let got = drain(&mut link);
        assert_eq!(got, (0..50).map(action).collect::<Vec<_>>());
        assert_eq!(link.counters(), LinkCounters::default());
    }

    #[test]
    fn corrupted_bytes_are_rejected_never_delivered_altered() {
        let (host, mut board) = UnixStream::pair().unwrap();
        let faults = Faults {
            corrupt_bytes: 0.02,
            ..Faults::default()
        };
        let mut link = Link::new(host, faults, 2).unwrap();
        board_frames(&mut board, 400);
        let got = drain(&mut link);
        let c = link.counters();
        assert!(c.corrupted_bytes > 0 && c.corrupt_in > 0, "{c:?}");
        assert!(
            got.len() < 400 && got.len() > 200,
            "{} delivered",
            got.len()
        );
        // Every delivered message is exactly one that was sent.
        for m in &got {
            let BoardMsg::Action(a) = m else {
                panic!("unexpected {m:?}")
            };
            assert_eq!(m, &action(a.seq));
        }
    }

    #[test]
    fn dropped_frames_are_counted_both_ways() {
        let (host, mut board) = UnixStream::pair().unwrap();
        let faults = Faults {
            drop_frames: 0.3,
            ..Faults::default()
        };
        let mut link = Link::new(host, faults, 3).unwrap();
        board_frames(&mut board, 200);
        let got = drain(&mut link);
        // 100 small writes stay well within the unread socket's buffer.
        for _ in 0..100 {
            link.send(&HostMsg::Query).unwrap();
        }
        let c = link.counters();
        assert_eq!(got.len() as u64 + c.dropped_in, 200);
        assert_eq!(c.sent + c.dropped_out, 100);
        assert!(c.dropped_in > 30 && c.dropped_out > 10, "{c:?}");
    }

    #[test]
    fn out_of_range_faults_are_refused() {
        for f in [
            Faults {
                drop_frames: 1.0,
                ..Faults::default()
            },
            Faults {
                corrupt_bytes: -0.1,
                ..Faults::default()
            },
            Faults {
                cut_after: Some(f64::NAN),
                ..Faults::default()
            },
        ] {
            assert!(
                matches!(f.validate(), Err(HilError::InvalidSetting(_))),
                "{f:?}"
            );
        }
    }
}
