//! Ending a session: `Shutdown`, the board's `Bye` and its final counters.

use std::time::{Duration, Instant};

use hil_protocol::{BoardMsg, HostMsg};

use super::{Board, Session, Summary};
use crate::HilError;
use crate::link::Faults;

impl Session {
    /// Asks the board to stop, collects its final counters and, for QEMU, checks that it
    /// exits with status 0 (semihosting exit). A board on a serial port stops after `Bye`
    /// too (its semihosting exit halts it when no debugger is attached): reset it before the
    /// next session.
    pub fn shutdown(mut self) -> Result<Summary, HilError> {
        match self.shutdown_link() {
            Ok(mut summary) => {
                if let Board::Qemu(qemu) = self.board {
                    let status = qemu.wait_exit(Duration::from_secs(5))?;
                    summary.board_log = qemu.log_lines();
                    if !status.success() {
                        return Err(HilError::Qemu(format!(
                            "exited with {status}; its log: {}",
                            summary.board_log.join(" | ")
                        )));
                    }
                }
                Ok(summary)
            }
            Err(e) => Err(self.explain(e)),
        }
    }

    /// Sends `Shutdown` until the board's `Bye` arrives.
    fn shutdown_link(&mut self) -> Result<Summary, HilError> {
        self.link.set_faults(Faults::default())?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut resend = Instant::now();
        loop {
            if Instant::now() >= resend {
                self.link.send(&HostMsg::Shutdown)?;
                resend = Instant::now() + Duration::from_millis(200);
            }
            match self.link.recv(resend.min(deadline))? {
                Some(BoardMsg::Bye {
                    corrupt_frames,
                    watchdog_events,
                    peak_stack,
                }) => {
                    let link = self.link.counters();
                    return Ok(Summary {
                        board_corrupt_frames: corrupt_frames,
                        board_watchdog_events: watchdog_events,
                        board_peak_stack: peak_stack,
                        board_log: Vec::new(),
                        link,
                    });
                }
                Some(_) => {}
                None if Instant::now() >= deadline => {
                    return Err(HilError::Timeout(format!(
                        "no answer to shutdown; {}",
                        self.board.diagnostics()
                    )));
                }
                None => {}
            }
        }
    }
}
