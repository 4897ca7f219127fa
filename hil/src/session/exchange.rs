//! One control step over the link: send an observation, wait for its action (retransmitting
//! on silence), and note whatever else the board says.

use std::time::{Duration, Instant};

use hil_protocol::{BoardMsg, HostMsg, Observation};

use super::{Board, Reply, Session, describe_status};
use crate::HilError;

impl Session {
    pub(super) fn note(&mut self, msg: BoardMsg) -> Result<(), HilError> {
        match msg {
            BoardMsg::Watchdog(w) => self.pending_watchdog.push(w),
            // A stale answer to an earlier transmission.
            BoardMsg::Action(_) => self.acted = true,
            // Before the first action, the same hello again answers a `Query` of the
            // handshake that the board read late (a link that buffered several of them, or a
            // board that announced itself and also answered): the link is in order, so such
            // answers all come before the first action.
            BoardMsg::Hello(h) if !self.acted && h == self.hello => {}
            BoardMsg::Hello(_) => {
                return Err(HilError::Protocol(
                    "the board restarted (unexpected hello)".into(),
                ));
            }
            BoardMsg::Bye { .. } => {
                return Err(HilError::Protocol(
                    "the board shut down unexpectedly".into(),
                ));
            }
        }
        Ok(())
    }

    /// Sends one observation and waits for its action, retransmitting on silence.
    pub fn act(&mut self, obs: &[f32]) -> Result<Reply, HilError> {
        let r = self.exchange_once(obs, u32::MAX).and_then(|r| {
            r.ok_or_else(|| {
                HilError::Timeout(format!(
                    "no action after {:?}; {}",
                    self.config.step_timeout,
                    self.board.diagnostics()
                ))
            })
        });
        r.map_err(|e| self.explain(e))
    }

    /// Turns a link failure into [`HilError::BoardDied`] when the board's QEMU process has
    /// ended (so the message says the board died, not only that the link broke).
    pub(super) fn explain(&self, e: HilError) -> HilError {
        let Board::Qemu(q) = &self.board else {
            return e;
        };
        let link_failure = matches!(
            e,
            HilError::Io { .. }
                | HilError::LinkClosed(_)
                | HilError::Timeout(_)
                | HilError::Protocol(_)
        );
        if !link_failure {
            return e;
        }
        match q.exit_status(Duration::from_millis(300)) {
            Some(status) => HilError::BoardDied {
                pid: q.pid(),
                status: if q.timed_out() {
                    format!("{status} (killed at its time limit, --timeout)")
                } else {
                    describe_status(status)
                },
                output: q.output().trim().to_string(),
            },
            None => e,
        }
    }

    /// Sends one observation at most `max_attempts` times; `None` when none was answered
    /// (within `retransmit` each, and within `step_timeout` in total).
    pub fn exchange(&mut self, obs: &[f32], max_attempts: u32) -> Result<Option<Reply>, HilError> {
        let r = self.exchange_once(obs, max_attempts);
        r.map_err(|e| self.explain(e))
    }

    fn exchange_once(&mut self, obs: &[f32], max_attempts: u32) -> Result<Option<Reply>, HilError> {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        let values = heapless::Vec::from_slice(obs).map_err(|_| {
            HilError::Protocol(format!("observation of {} values is too long", obs.len()))
        })?;
        let msg = HostMsg::Observation(Observation { seq, values });
        let give_up = Instant::now() + self.config.step_timeout;
        let mut attempts = 0;
        while attempts < max_attempts && Instant::now() < give_up {
            let sent_at = Instant::now();
            self.link.send(&msg)?;
            attempts += 1;
            let resend_at = (sent_at + self.config.retransmit).min(give_up);
            while let Some(m) = self.link.recv(resend_at)? {
                match m {
                    BoardMsg::Action(a) if a.seq == seq => {
                        self.acted = true;
                        self.board_corrupt = self.board_corrupt.max(a.corrupt_frames);
                        return Ok(Some(Reply {
                            action: a,
                            latency: sent_at.elapsed(),
                            attempts,
                        }));
                    }
                    other => self.note(other)?,
                }
            }
        }
        Ok(None)
    }
}
