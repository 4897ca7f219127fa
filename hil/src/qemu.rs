//! Running the firmware image in QEMU (`netduinoplus2`) with its USART1 on a Unix socket
//! ([`Qemu::start`]) or on a pseudo-terminal ([`Qemu::start_pty`], which the host then opens
//! as a serial port, exactly as it would a real board's `/dev/ttyACM0`).
//!
//! Every QEMU process is started with a time limit: a guard thread kills it by its PID when
//! the limit passes, and dropping [`Qemu`] kills it by its PID too.

use std::fs::File;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::HilError;

/// The QEMU binary.
pub const QEMU: &str = "qemu-system-arm";

/// `true` when `qemu-system-arm` can be run.
pub fn available() -> bool {
    Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// How QEMU's USART1 reaches the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wiring {
    /// A Unix socket the host listens on (`-chardev socket`); the host end is a [`UnixStream`].
    UnixSocket,
    /// A pseudo-terminal (`-serial pty`); the host opens its slave end, `/dev/pts/N`, as a
    /// serial port. Semihosting is off, as on a board without a debugger: the firmware's
    /// exit after `Bye` (and a panic) halts the core in its fault handler instead of ending
    /// QEMU, and QEMU keeps running until it is killed. (If QEMU exited, the kernel would
    /// hang the pty up and discard the bytes the host had not read yet: the `Bye` was lost
    /// that way in about 1 run of 40.) Panic messages are therefore not shown, and
    /// [`Qemu::wait_exit`] after a session times out.
    Pty,
}

/// The host end of QEMU's serial link.
#[derive(Debug)]
enum HostEnd {
    Socket(UnixStream),
    Pty(PathBuf),
}

/// A running QEMU process and the host end of its serial link.
#[derive(Debug)]
pub struct Qemu {
    child: Arc<Mutex<Child>>,
    pid: u32,
    stop_guard: Option<Sender<()>>,
    timed_out: Arc<AtomicBool>,
    dir: tempfile::TempDir,
    end: HostEnd,
}

/// The pseudo-terminal QEMU announces on its output
/// (`char device redirected to /dev/pts/N (label serial0)`), if the line is there.
pub fn parse_pty_line(output: &str) -> Option<PathBuf> {
    const MARK: &str = "char device redirected to ";
    output.lines().find_map(|line| {
        let rest = &line[line.find(MARK)? + MARK.len()..];
        let path = rest.split_whitespace().next()?;
        path.starts_with('/').then(|| PathBuf::from(path))
    })
}

fn kill(child: &Mutex<Child>) {
    let mut c = child.lock().unwrap_or_else(|e| e.into_inner());
    if matches!(c.try_wait(), Ok(None)) {
        // Child::kill sends SIGKILL to the child's PID.
        let _ = c.kill();
    }
    let _ = c.wait();
}

impl Qemu {
    /// Starts QEMU on `elf` with the serial link on a fresh Unix socket, waits for it to
    /// connect, and arms a guard that kills it after `limit`.
    pub fn start(elf: &Path, limit: Duration) -> Result<Self, HilError> {
        Self::start_with(elf, limit, Wiring::UnixSocket)
    }

    /// Starts QEMU on `elf` with the serial link on a pseudo-terminal and no semihosting (see
    /// [`Wiring::Pty`]), waits (at most 20 s, or `limit`) until QEMU reports which one, and
    /// arms a guard that kills it after `limit`. Open [`Qemu::pty`] with
    /// [`SerialTransport`](crate::transport::SerialTransport), as a real board's port.
    pub fn start_pty(elf: &Path, limit: Duration) -> Result<Self, HilError> {
        Self::start_with(elf, limit, Wiring::Pty)
    }

    /// Starts QEMU on `elf` with its serial link wired as `wiring` (see [`Qemu::start`] and
    /// [`Qemu::start_pty`]).
    pub fn start_with(elf: &Path, limit: Duration, wiring: Wiring) -> Result<Self, HilError> {
        let dir = tempfile::Builder::new()
            .prefix("hil-qemu-")
            .tempdir()
            .map_err(|e| HilError::io("creating a temporary folder for the QEMU socket", e))?;
        let sock = dir.path().join("link.sock");
        let listener = match wiring {
            Wiring::UnixSocket => {
                let l = UnixListener::bind(&sock)
                    .map_err(|e| HilError::io("binding the link socket", e))?;
                l.set_nonblocking(true)
                    .map_err(|e| HilError::io("configuring the link socket", e))?;
                Some(l)
            }
            Wiring::Pty => None,
        };
        let log = |name: &str| -> Result<File, HilError> {
            File::create(dir.path().join(name))
                .map_err(|e| HilError::io(format!("creating QEMU log {name}"), e))
        };
        let mut cmd = Command::new(QEMU);
        cmd.args(["-M", "netduinoplus2", "-nographic", "-monitor", "none"])
            .args(["-icount", "shift=0"]);
        match wiring {
            Wiring::UnixSocket => cmd
                .args(["-semihosting-config", "enable=on,target=native"])
                .arg("-chardev")
                .arg(format!("socket,id=s0,path={}", sock.display()))
                .args(["-serial", "chardev:s0"]),
            // No semihosting, as on a board without a debugger (see `Wiring::Pty`).
            Wiring::Pty => cmd.args(["-serial", "pty"]),
        };
        let child = cmd
            .arg("-kernel")
            .arg(elf)
            .stdin(Stdio::null())
            .stdout(log("stdout.log")?)
            .stderr(log("stderr.log")?)
            .spawn()
            .map_err(|e| HilError::Qemu(format!("cannot start {QEMU}: {e}")))?;
        let pid = child.id();
        let child = Arc::new(Mutex::new(child));

        // The time limit, enforced by a guard thread that kills the PID.
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let timed_out = Arc::new(AtomicBool::new(false));
        {
            let child = Arc::clone(&child);
            let timed_out = Arc::clone(&timed_out);
            thread::spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = stop_rx.recv_timeout(limit) {
                    timed_out.store(true, Ordering::SeqCst);
                    kill(&child);
                }
            });
        }

        let mut qemu_guard = KillOnError(Some(Arc::clone(&child)));
        let deadline = Instant::now() + Duration::from_secs(20).min(limit);
        let end = loop {
            match &listener {
                Some(l) => match l.accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false)
                            .map_err(|e| HilError::io("configuring the link stream", e))?;
                        break HostEnd::Socket(s);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(HilError::io("accepting QEMU's connection", e)),
                },
                None => {
                    let said = format!(
                        "{}{}",
                        read_log(dir.path(), "stdout.log"),
                        read_log(dir.path(), "stderr.log")
                    );
                    if let Some(p) = parse_pty_line(&said) {
                        break HostEnd::Pty(p);
                    }
                }
            }
            let exited = child.lock().unwrap_or_else(|e| e.into_inner()).try_wait();
            if let Ok(Some(status)) = exited {
                return Err(HilError::Qemu(format!(
                    "exited with {status} before {}: {}",
                    match wiring {
                        Wiring::UnixSocket => "connecting",
                        Wiring::Pty => "reporting its pseudo-terminal",
                    },
                    read_log(dir.path(), "stderr.log")
                )));
            }
            if Instant::now() > deadline {
                return Err(HilError::Qemu(match wiring {
                    Wiring::UnixSocket => "did not connect to the link socket in time".into(),
                    Wiring::Pty => format!(
                        "did not report its pseudo-terminal (\"char device redirected to ...\") in time; it said: {}",
                        read_log(dir.path(), "stderr.log")
                    ),
                }));
            }
            thread::sleep(Duration::from_millis(5));
        };
        qemu_guard.0 = None;
        Ok(Self {
            child,
            pid,
            stop_guard: Some(stop_tx),
            timed_out,
            dir,
            end,
        })
    }

    /// QEMU's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The host end of the serial link when it is a Unix socket ([`Wiring::UnixSocket`]).
    pub fn stream(&self) -> Option<&UnixStream> {
        match &self.end {
            HostEnd::Socket(s) => Some(s),
            HostEnd::Pty(_) => None,
        }
    }

    /// The pseudo-terminal (slave end, `/dev/pts/N`) of the serial link when it is one
    /// ([`Wiring::Pty`]).
    pub fn pty(&self) -> Option<&Path> {
        match &self.end {
            HostEnd::Socket(_) => None,
            HostEnd::Pty(p) => Some(p),
        }
    }

    /// `true` once the time limit has killed QEMU.
    pub fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::SeqCst)
    }

    /// What QEMU printed (semihosting output on stdout, errors on stderr).
    pub fn output(&self) -> String {
        format!(
            "{}{}",
            read_log(self.dir.path(), "stdout.log"),
            read_log(self.dir.path(), "stderr.log")
        )
    }

    /// Waits up to `wait` for QEMU to exit by itself (semihosting exit); kills it otherwise.
    /// Returns its exit status if it exited by itself.
    pub fn wait_exit(self, wait: Duration) -> Result<ExitStatus, HilError> {
        let deadline = Instant::now() + wait;
        loop {
            let status = self
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_wait();
            match status {
                Ok(Some(s)) if !self.timed_out() => return Ok(s),
                Ok(Some(_)) => return Err(HilError::Timeout("QEMU hit its time limit".into())),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    return Err(HilError::Timeout(format!(
                        "QEMU (pid {}) did not exit within {wait:?}",
                        self.pid
                    )));
                }
                Err(e) => return Err(HilError::io("waiting for QEMU", e)),
            }
        }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Some(tx) = self.stop_guard.take() {
            let _ = tx.send(());
        }
        kill(&self.child);
    }
}

/// Kills the process if start-up fails half-way.
struct KillOnError(Option<Arc<Mutex<Child>>>);

impl Drop for KillOnError {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            kill(&c);
        }
    }
}

fn read_log(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(dir).join(name)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pty_line_is_parsed_from_qemu_output() {
        let out =
            "qemu-system-arm: warning: x\nchar device redirected to /dev/pts/7 (label serial0)\n";
        assert_eq!(parse_pty_line(out), Some(PathBuf::from("/dev/pts/7")));
        assert_eq!(
            parse_pty_line("char device redirected to /dev/pts/12"),
            Some(PathBuf::from("/dev/pts/12"))
        );
        assert_eq!(parse_pty_line("char device redirected to "), None);
        assert_eq!(parse_pty_line("nothing here\n"), None);
    }
}
