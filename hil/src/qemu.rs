//! Running the firmware image in QEMU (`netduinoplus2`) with its USART1 on a Unix socket.
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

/// A running QEMU process and the host end of its serial link.
#[derive(Debug)]
pub struct Qemu {
    child: Arc<Mutex<Child>>,
    pid: u32,
    stop_guard: Option<Sender<()>>,
    timed_out: Arc<AtomicBool>,
    dir: tempfile::TempDir,
    stream: UnixStream,
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
        let dir = tempfile::Builder::new()
            .prefix("hil-qemu-")
            .tempdir()
            .map_err(|e| HilError::io("creating a temporary folder for the QEMU socket", e))?;
        let sock = dir.path().join("link.sock");
        let listener =
            UnixListener::bind(&sock).map_err(|e| HilError::io("binding the link socket", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| HilError::io("configuring the link socket", e))?;
        let log = |name: &str| -> Result<File, HilError> {
            File::create(dir.path().join(name))
                .map_err(|e| HilError::io(format!("creating QEMU log {name}"), e))
        };
        let child = Command::new(QEMU)
            .args(["-M", "netduinoplus2", "-nographic", "-monitor", "none"])
            .args(["-icount", "shift=0"])
            .args(["-semihosting-config", "enable=on,target=native"])
            .arg("-chardev")
            .arg(format!("socket,id=s0,path={}", sock.display()))
            .args(["-serial", "chardev:s0", "-kernel"])
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
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(HilError::io("accepting QEMU's connection", e)),
            }
            let exited = child.lock().unwrap_or_else(|e| e.into_inner()).try_wait();
            if let Ok(Some(status)) = exited {
                return Err(HilError::Qemu(format!(
                    "exited with {status} before connecting: {}",
                    read_log(dir.path(), "stderr.log")
                )));
            }
            if Instant::now() > deadline {
                return Err(HilError::Qemu(
                    "did not connect to the link socket in time".into(),
                ));
            }
            thread::sleep(Duration::from_millis(5));
        };
        stream
            .set_nonblocking(false)
            .map_err(|e| HilError::io("configuring the link stream", e))?;
        qemu_guard.0 = None;
        Ok(Self {
            child,
            pid,
            stop_guard: Some(stop_tx),
            timed_out,
            dir,
            stream,
        })
    }

    /// QEMU's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The host end of the serial link.
    pub fn stream(&self) -> &UnixStream {
        &self.stream
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
