//! Running the firmware image in QEMU (the machine of its board, read from the image: `hil::board`)
//! with its USART1 on a Unix socket ([`Qemu::start`]) or on a pseudo-terminal ([`Qemu::start_pty`], which the host then opens
//! as a serial port, exactly as it would a real board's `/dev/ttyACM0`).
//!
//! Every QEMU process is started with a time limit: a guard thread kills it by its PID when
//! the limit passes, and dropping [`Qemu`] kills it by its PID too.
//!
//! **No orphans.** QEMU dies with its host, however the host ends: it is started in its own
//! process group (a terminal's Ctrl-C reaches only the host, which then exits) with the
//! kernel's parent-death signal set to SIGKILL (`PR_SET_PDEATHSIG`), so a host killed even by
//! SIGKILL takes QEMU with it. The parent-death signal follows the *thread* that started QEMU:
//! keep a [`Qemu`] on the thread that created it (or one that outlives it). The socket folder
//! (`hil-qemu-<host pid>-*` in the temporary directory) exists only until QEMU connects; the
//! folders of hosts that died in that window are removed by the next start, and
//! [`install_signal_cleanup`] removes them on SIGINT/SIGTERM/SIGHUP.

use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::HilError;
use crate::board_log::BoardLog;

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
    /// serial port. Semihosting is off, as on a board without a debugger: run an image built
    /// for a board (`FirmwareConfig::semihosting` off: log over RTT, no semihosting call),
    /// which stops in a `wfi` loop after `Bye` instead of ending QEMU, so QEMU keeps running
    /// until it is killed. (If QEMU exited, the kernel would hang the pty up and discard the
    /// bytes the host had not read yet: the `Bye` was lost that way in about 1 run of 40.)
    /// [`Qemu::wait_exit`] after a session therefore times out. An image built with
    /// semihosting traps at its first log line here.
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
    output: [Arc<Mutex<Vec<u8>>>; 2],
    /// The image's defmt table, to decode its log on stdout (`None`: shown as raw text).
    log: Option<BoardLog>,
    end: HostEnd,
}

/// Prefix of the socket folders in the temporary directory.
const DIR_PREFIX: &str = "hil-qemu-";

/// Socket folders that exist right now (removed by the signal handler).
static LIVE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Makes SIGINT, SIGTERM and SIGHUP end this process cleanly: the socket folders of QEMU
/// processes still starting are removed, a message is printed and the process exits with
/// 128 + the signal's number (130 for SIGINT); QEMU processes die with it (parent-death signal).
/// Call once, from a binary's `main`; a second call is an error.
pub fn install_signal_cleanup() -> Result<(), HilError> {
    ctrlc::set_handler(|| {
        let dirs = std::mem::take(&mut *LIVE_DIRS.lock().unwrap_or_else(|e| e.into_inner()));
        for d in dirs {
            let _ = std::fs::remove_dir_all(d);
        }
        eprintln!("hil: interrupted; QEMU stopped");
        std::process::exit(130);
    })
    .map_err(|e| HilError::Qemu(format!("cannot install the signal handler: {e}")))
}

/// Runs `elf` under QEMU with semihosting and no serial link (the self-test: what
/// `cd firmware && cargo run --release` does through `hil qemu`), writing the firmware's defmt
/// log to `out` line by line as it arrives. QEMU is killed after `limit`. Returns QEMU's exit
/// code (the firmware's semihosting exit status).
pub fn run_with_log(
    elf: &Path,
    limit: Duration,
    out: &mut dyn std::io::Write,
) -> Result<i32, HilError> {
    let log = BoardLog::for_elf(elf)?;
    let mut cmd = self_test_command(elf)?;
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = spawn(cmd)?;
    let mut pipe = child.stdout.take().expect("piped");
    let child = Arc::new(Mutex::new(child));
    let (stop_tx, _) = kill_after(&child, limit);
    let mut stream = log.stream();
    let mut chunk = [0u8; 1024];
    while let Ok(n @ 1..) = pipe.read(&mut chunk) {
        for line in stream.push(&chunk[..n]) {
            writeln!(out, "{line}").map_err(|e| HilError::io("writing the firmware log", e))?;
        }
    }
    let _ = stop_tx.send(());
    let status = child
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .wait()
        .map_err(|e| HilError::io("waiting for QEMU", e))?;
    status.code().ok_or_else(|| {
        HilError::Qemu(format!(
            "QEMU ended by a signal ({status}); time limit {limit:?}"
        ))
    })
}

/// Removes socket folders left by hosts that no longer run (killed while QEMU was starting).
/// Runs `elf` under QEMU like [`run_with_log`] (`-icount shift=0`: deterministic), logging every
/// translated block and every block execution (`-d in_asm,exec,nochain`) to a temporary file;
/// returns that log (the executed instruction stream of [`crate::cycles`]).
pub fn run_with_trace(elf: &Path, limit: Duration) -> Result<String, HilError> {
    let dir = tempfile::tempdir().map_err(|e| HilError::io("creating a trace folder", e))?;
    let trace = dir.path().join("trace.log");
    let mut cmd = self_test_command(elf)?;
    cmd.args(["-d", "in_asm,exec,nochain", "-D"])
        .arg(&trace)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = Arc::new(Mutex::new(spawn(cmd)?));
    let (stop_tx, _) = kill_after(&child, limit);
    let status = loop {
        if let Some(st) = child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_wait()
            .map_err(|e| HilError::io("waiting for QEMU", e))?
        {
            break st;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let _ = stop_tx.send(());
    if !status.success() {
        return Err(HilError::Qemu(format!(
            "the traced self-test run failed ({status}; time limit {limit:?})"
        )));
    }
    std::fs::read_to_string(&trace)
        .map_err(|e| HilError::io(format!("reading {}", trace.display()), e))
}

/// QEMU for the self-test image `elf`: its board's machine, no serial link, `-icount shift=0`,
/// semihosting on, stdin closed.
fn self_test_command(elf: &Path) -> Result<Command, HilError> {
    let board = crate::board::board_of_elf(elf)?;
    let mut cmd = Command::new(QEMU);
    cmd.args(["-M", board.qemu_machine, "-nographic", "-monitor", "none"])
        .args(["-serial", "null", "-icount", "shift=0"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null());
    Ok(cmd)
}

/// Starts `cmd`, to die with this process.
fn spawn(mut cmd: Command) -> Result<Child, HilError> {
    die_with_parent(&mut cmd);
    cmd.spawn()
        .map_err(|e| HilError::Qemu(format!("cannot start {QEMU}: {e}")))
}

/// Kills `child` after `limit` unless the returned sender is used (or dropped) first; the
/// flag says whether the limit killed it.
fn kill_after(child: &Arc<Mutex<Child>>, limit: Duration) -> (mpsc::Sender<()>, Arc<AtomicBool>) {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&timed_out);
    let guard = Arc::clone(child);
    thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = stop_rx.recv_timeout(limit) {
            flag.store(true, Ordering::SeqCst);
            kill(&guard);
        }
    });
    (stop_tx, timed_out)
}

fn sweep_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A socket folder, listed in [`LIVE_DIRS`] while it exists.
struct SocketDir(Option<tempfile::TempDir>);

impl SocketDir {
    fn new() -> Result<Self, HilError> {
        sweep_stale_dirs();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| HilError::io("creating a temporary folder for the QEMU socket", e))?;
        LIVE_DIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dir.path().to_path_buf());
        Ok(Self(Some(dir)))
    }

    fn path(&self) -> &Path {
        self.0.as_ref().map_or(Path::new(""), |d| d.path())
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        if let Some(d) = self.0.take() {
            LIVE_DIRS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|p| p != d.path());
            let _ = d.close();
        }
    }
}

/// Copies a pipe into a shared buffer until it closes (QEMU exited).
fn collect(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&buf);
    thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&chunk[..n]);
        }
    });
    buf
}

fn text(buf: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// Sets the child's parent-death signal to SIGKILL (run between fork and exec).
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and calls only `prctl` and
    // `getppid`, both async-signal-safe; it allocates nothing and touches no locks.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The host may have died before the signal was armed.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::other(
                    "the host exited while QEMU was starting",
                ));
            }
            Ok(())
        });
    }
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
        let link = LinkSocket::bind(wiring)?;
        let board = crate::board::board_of_elf(elf)?;
        if !board.has_link {
            return Err(HilError::Qemu(format!(
                "{} is built for {} ({}), which has no serial link driver: only the self-test \
                 runs there (`hil qemu`, `hil bench --target {}`)",
                elf.display(),
                board.core,
                board.qemu_machine,
                board.core
            )));
        }
        let mut child = spawn(qemu_command(
            board.qemu_machine,
            link.as_ref().map(|l| &l.path),
            elf,
        ))?;
        let pid = child.id();
        let output = [
            collect(child.stdout.take().expect("piped")),
            collect(child.stderr.take().expect("piped")),
        ];
        let child = Arc::new(Mutex::new(child));
        let (stop_tx, timed_out) = kill_after(&child, limit);
        let mut qemu_guard = KillOnError(Some(Arc::clone(&child)));
        let deadline = Instant::now() + Duration::from_secs(20).min(limit);
        let end = wait_for_link(&child, link.as_ref(), &output, deadline)?;
        // Connected: the socket's name (and its folder) is no longer needed.
        drop(link);
        qemu_guard.0 = None;
        Ok(Self {
            child,
            pid,
            stop_guard: Some(stop_tx),
            timed_out,
            output,
            log: BoardLog::for_elf(elf).ok(),
            end,
        })
    }

    /// QEMU's exit status if it has exited (waiting up to `wait` for it to be reaped).
    pub fn exit_status(&self, wait: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + wait;
        loop {
            let st = self
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_wait();
            match st {
                Ok(Some(s)) => return Some(s),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                _ => return None,
            }
        }
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

    /// The firmware's log so far, one line per defmt frame (empty if the image has no defmt
    /// table).
    pub fn log_lines(&self) -> Vec<String> {
        match &self.log {
            Some(log) => log.decode(&self.output[0].lock().unwrap_or_else(|e| e.into_inner())),
            None => Vec::new(),
        }
    }

    /// What QEMU printed: the firmware's log (semihosting output on stdout, decoded with the
    /// image's defmt table) and QEMU's own errors (stderr).
    pub fn output(&self) -> String {
        let log = match &self.log {
            Some(_) => self.log_lines().join("\n"),
            None => text(&self.output[0]),
        };
        let errors = text(&self.output[1]);
        match (log.is_empty(), errors.is_empty()) {
            (_, true) => log,
            (true, false) => errors,
            (false, false) => format!("{log}\n{errors}"),
        }
    }

    /// Waits up to `wait` for QEMU to exit by itself (semihosting exit); kills it otherwise.
    /// Returns its exit status if it exited by itself.
    pub fn wait_exit(&self, wait: Duration) -> Result<ExitStatus, HilError> {
        match self.exit_status(wait) {
            Some(s) if !self.timed_out() => Ok(s),
            Some(_) => Err(HilError::Timeout("QEMU hit its time limit".into())),
            None => Err(HilError::Timeout(format!(
                "QEMU (pid {}) did not exit within {wait:?}",
                self.pid
            ))),
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

/// The Unix socket QEMU's serial port connects to ([`Wiring::UnixSocket`]), in a private
/// folder removed with it.
struct LinkSocket {
    path: PathBuf,
    listener: UnixListener,
    _dir: SocketDir,
}

impl LinkSocket {
    /// A listening socket for [`Wiring::UnixSocket`]; `None` for [`Wiring::Pty`].
    fn bind(wiring: Wiring) -> Result<Option<Self>, HilError> {
        if matches!(wiring, Wiring::Pty) {
            return Ok(None);
        }
        let dir = SocketDir::new()?;
        let path = dir.path().join("link.sock");
        let listener =
            UnixListener::bind(&path).map_err(|e| HilError::io("binding the link socket", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| HilError::io("configuring the link socket", e))?;
        Ok(Some(Self {
            path,
            listener,
            _dir: dir,
        }))
    }
}

/// QEMU's command line for `elf` on `machine`: deterministic instruction counting, the serial
/// port on the socket `sock` (with semihosting for the board's log) or, without one, on a
/// pseudo-terminal (no semihosting, as on a board without a debugger; see [`Wiring::Pty`]).
fn qemu_command(machine: &str, sock: Option<&PathBuf>, elf: &Path) -> Command {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-M", machine, "-nographic", "-monitor", "none"])
        .args(["-icount", "shift=0"]);
    match sock {
        Some(sock) => cmd
            .args(["-semihosting-config", "enable=on,target=native"])
            .arg("-chardev")
            .arg(format!("socket,id=s0,path={}", sock.display()))
            .args(["-serial", "chardev:s0"]),
        None => cmd.args(["-serial", "pty"]),
    };
    cmd.arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cmd
}

/// Waits until QEMU connects to `link` (or, without one, reports its pseudo-terminal), QEMU
/// exits, or `deadline` passes.
fn wait_for_link(
    child: &Arc<Mutex<Child>>,
    link: Option<&LinkSocket>,
    output: &[Arc<Mutex<Vec<u8>>>; 2],
    deadline: Instant,
) -> Result<HostEnd, HilError> {
    loop {
        match link {
            Some(l) => match l.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false)
                        .map_err(|e| HilError::io("configuring the link stream", e))?;
                    return Ok(HostEnd::Socket(s));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(HilError::io("accepting QEMU's connection", e)),
            },
            None => {
                let said = format!("{}{}", text(&output[0]), text(&output[1]));
                if let Some(p) = parse_pty_line(&said) {
                    return Ok(HostEnd::Pty(p));
                }
            }
        }
        let exited = child.lock().unwrap_or_else(|e| e.into_inner()).try_wait();
        if let Ok(Some(status)) = exited {
            thread::sleep(Duration::from_millis(20)); // let the pipes drain
            return Err(HilError::Qemu(format!(
                "exited with {status} before {}: {}",
                if link.is_some() {
                    "connecting"
                } else {
                    "reporting its pseudo-terminal"
                },
                text(&output[1])
            )));
        }
        if Instant::now() > deadline {
            return Err(HilError::Qemu(match link {
                Some(_) => "did not connect to the link socket in time".into(),
                None => format!(
                    "did not report its pseudo-terminal (\"char device redirected to ...\") in time; it said: {}",
                    text(&output[1])
                ),
            }));
        }
        thread::sleep(Duration::from_millis(5));
    }
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
