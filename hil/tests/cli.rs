//! The `hil` binary as a process: QEMU never outlives its host, however the host ends, and no
//! socket folder is left behind; when QEMU dies the host says so.
//!
//! Skipped with a message when `qemu-system-arm` is missing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn qemu_present() -> bool {
    if hil::qemu::available() {
        return true;
    }
    eprintln!("SKIPPED: qemu-system-arm is missing (bash scripts/setup.sh installs it)");
    false
}

/// `(pid, parent pid, command name, state)` of a process, from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(u32, u32, String, char)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s[open + 1..close].to_string();
    let mut rest = s[close + 2..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((pid, ppid, comm, state))
}

/// The QEMU process whose parent is `host`.
fn qemu_child_of(host: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let (_, ppid, comm, _) = stat(pid)?;
        (ppid == host && comm.starts_with("qemu-system")).then_some(pid)
    })
}

fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, _, _, state)| state != 'Z' && state != 'X')
}

/// A `hil run` with a long session, started with its own temporary directory; returns once
/// the board has said hello (QEMU running, link up), with QEMU's pid.
fn running_host(tmp: &Path) -> (Child, u32, mpsc::Receiver<String>) {
    let tmpdir = tmp.join("tmp");
    std::fs::create_dir_all(&tmpdir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hil"))
        .args(["run", "--rig", "reference", "--episodes", "100000", "--out"])
        .arg(tmp.join("out"))
        .env("TMPDIR", &tmpdir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The firmware may need building first.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("hil never reported the board: {:?}", child.try_wait()));
        if line.starts_with("board:") {
            break;
        }
    }
    let qemu = qemu_child_of(child.id()).expect("QEMU is a child of hil");
    (child, qemu, rx)
}

fn gone_within(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    !alive(pid)
}

fn socket_dirs(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp.join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("hil-qemu-"))
        .collect()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[test]
fn qemu_dies_with_its_host_on_sigkill_sigterm_and_sigint() {
    if !qemu_present() {
        return;
    }
    for sig in ["-KILL", "-TERM", "-INT"] {
        let tmp = tempfile::tempdir().unwrap();
        let (mut host, qemu, _lines) = running_host(tmp.path());
        assert!(alive(qemu));
        signal(host.id(), sig);
        let status = host.wait().unwrap();
        assert!(
            gone_within(qemu, Duration::from_secs(1)),
            "{sig}: QEMU (pid {qemu}) outlived its host"
        );
        if sig != "-KILL" {
            assert_eq!(status.code(), Some(130), "{sig}: {status}");
        }
        assert!(
            socket_dirs(tmp.path()).is_empty(),
            "{sig}: {:?}",
            socket_dirs(tmp.path())
        );
    }
}

#[test]
fn a_killed_qemu_is_reported_as_the_board_dying() {
    if !qemu_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (host, qemu, _lines) = running_host(tmp.path());
    signal(qemu, "-KILL");
    let out = host.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the board died")
            && err.contains("SIGKILL")
            && err.contains(&qemu.to_string()),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(socket_dirs(tmp.path()).is_empty());
}
