//! Byte transports under the [`Link`](crate::link::Link): QEMU's Unix socket or a serial port.
//!
//! A [`Transport`] only moves bytes: write them all, or read what has arrived within a time
//! limit. Framing, fault injection and counters live in the link above it, so a session runs
//! the same way against QEMU ([`UnixStream`]) and against a board on a USB–serial adapter
//! ([`SerialTransport`], e.g. `/dev/ttyACM0`).

use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits, TTYPort};

use crate::HilError;

/// Baud rate used when none is given (the firmware's USART1 setting; QEMU ignores it).
pub const DEFAULT_BAUD: u32 = 115_200;

/// How long one write may wait for the port to accept bytes before it fails.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long [`SerialTransport::open`] keeps trying a port that reads as busy before it says so.
///
/// The lock that makes a port exclusive (`flock`) belongs to the open file, and every process
/// forked while the file is open holds it too, until that process calls `exec` (the descriptor
/// is close-on-exec). So a port that this process closed a moment ago can still read as busy
/// for as long as a child started meanwhile by another thread takes to reach `exec`, a few
/// milliseconds (the regression test's slowest reopen takes about 2 ms). A port another program
/// really holds stays busy, and the error comes this long later.
pub const BUSY_GRACE: Duration = Duration::from_secs(2);

/// A bidirectional byte stream to the board.
pub trait Transport: Send + std::fmt::Debug {
    /// Writes all of `bytes` (blocking until they are handed to the OS).
    fn write_bytes(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Reads the bytes that have arrived into `buf`, waiting at most `timeout` for the first
    /// one. Returns `Ok(None)` when nothing arrived in time and `Ok(Some(0))` when the other
    /// end has closed the link; `Ok(Some(n))` with `n > 0` otherwise.
    fn read_with_timeout(&mut self, buf: &mut [u8], timeout: Duration)
    -> io::Result<Option<usize>>;

    /// What the link runs over, for messages (e.g. `serial port /dev/ttyACM0`).
    fn describe(&self) -> String;
}

/// Maps the "nothing arrived" and "closed" outcomes of a read to [`Transport::read_with_timeout`]'s.
fn classify(read: io::Result<usize>) -> io::Result<Option<usize>> {
    match read {
        Ok(n) => Ok(Some(n)),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(None),
        // The serial back end reports a hang-up (e.g. the adapter was unplugged, or QEMU
        // closed its pseudo-terminal) as a broken pipe.
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(Some(0)),
        Err(e) => Err(e),
    }
}

/// QEMU's serial link: the host end of the Unix socket QEMU connected to.
impl Transport for UnixStream {
    fn write_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn read_with_timeout(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<usize>> {
        // A zero timeout would mean "block forever" to the socket.
        self.set_read_timeout(Some(timeout.max(Duration::from_micros(1))))?;
        loop {
            match classify(self.read(buf)) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    fn describe(&self) -> String {
        "QEMU's Unix socket".into()
    }
}

/// Where and how fast to open a serial port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialSettings {
    /// Device path, e.g. `/dev/ttyACM0`, `/dev/ttyUSB0` or a pseudo-terminal `/dev/pts/3`.
    pub path: String,
    /// Baud rate (the firmware uses [`DEFAULT_BAUD`]); must be positive.
    pub baud: u32,
}

impl SerialSettings {
    /// `path` at [`DEFAULT_BAUD`].
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            baud: DEFAULT_BAUD,
        }
    }

    /// Checks the settings without touching the port: a non-empty path and a positive baud
    /// rate (0 would mean "hang up" to the terminal driver).
    pub fn validate(&self) -> Result<(), HilError> {
        if self.path.trim().is_empty() {
            return Err(HilError::InvalidSetting(
                "the serial port path is empty".into(),
            ));
        }
        if self.baud == 0 {
            return Err(HilError::InvalidSetting(format!(
                "baud rate 0 for serial port {} is not a speed (the firmware uses {DEFAULT_BAUD})",
                self.path
            )));
        }
        Ok(())
    }
}

/// A serial port opened raw, 8 data bits, no parity, 1 stop bit, no flow control, with
/// exclusive access (a second opener, this process included, is refused).
#[derive(Debug)]
pub struct SerialTransport {
    port: TTYPort,
    settings: SerialSettings,
}

impl SerialTransport {
    /// Opens and configures the port and discards bytes already waiting in its input buffer.
    ///
    /// Errors ([`HilError::Serial`]) name the port and the problem: no such device, busy
    /// (open elsewhere), permission denied, or a baud rate the driver refuses.
    pub fn open(settings: &SerialSettings) -> Result<Self, HilError> {
        settings.validate()?;
        let fail = |message: String| HilError::Serial {
            port: settings.path.clone(),
            message,
        };
        let port = open_port(settings).map_err(|e| fail(describe_open_error(&e, settings.baud)))?;
        port.clear(ClearBuffer::Input)
            .map_err(|e| fail(format!("cannot discard stale input: {e}")))?;
        Ok(Self {
            port,
            settings: settings.clone(),
        })
    }

    /// The settings the port was opened with.
    pub fn settings(&self) -> &SerialSettings {
        &self.settings
    }
}

/// Opens the port raw 8N1 and exclusive, trying again for [`BUSY_GRACE`] while it is busy.
fn open_port(settings: &SerialSettings) -> serialport::Result<TTYPort> {
    let deadline = Instant::now() + BUSY_GRACE;
    let mut pause = Duration::from_millis(2);
    loop {
        let opened = serialport::new(settings.path.as_str(), settings.baud)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .timeout(WRITE_TIMEOUT)
            .open_native();
        match opened {
            Err(e) if e.kind() == serialport::ErrorKind::NoDevice && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// A sentence about why opening a port failed, with the likely cause.
fn describe_open_error(e: &serialport::Error, baud: u32) -> String {
    use serialport::ErrorKind as K;
    match e.kind() {
        K::Io(ErrorKind::NotFound) => {
            format!("no such device ({e}); is the board plugged in and the path right?")
        }
        K::Io(ErrorKind::PermissionDenied) => format!(
            "permission denied ({e}); on Linux, add your user to the `dialout` group or run with access to the device"
        ),
        K::NoDevice => {
            format!(
                "the port is busy: another program (or another session) has it open, still after {} s ({e})",
                BUSY_GRACE.as_secs()
            )
        }
        K::InvalidInput => format!("the driver refused the settings, baud {baud} 8N1 ({e})"),
        _ => format!("cannot open it as a serial port at {baud} baud 8N1: {e}"),
    }
}

impl Transport for SerialTransport {
    fn write_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.set_timeout(WRITE_TIMEOUT)?;
        Write::write_all(&mut self.port, bytes)
    }

    fn read_with_timeout(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<usize>> {
        self.port.set_timeout(timeout)?;
        loop {
            match classify(self.port.read(buf)) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    fn describe(&self) -> String {
        format!(
            "serial port {} at {} baud",
            self.settings.path, self.settings.baud
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonexistent_port_is_a_clear_error_naming_the_path() {
        let path = "/dev/hil-test-no-such-serial-port";
        let err = SerialTransport::open(&SerialSettings::new(path)).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, HilError::Serial { port, .. } if port == path),
            "{err:?}"
        );
        assert!(msg.contains(path), "{msg}");
        assert!(msg.contains("no such device"), "{msg}");
    }

    #[test]
    fn zero_baud_and_empty_path_are_refused_before_opening() {
        let mut s = SerialSettings::new("/dev/null");
        s.baud = 0;
        let msg = SerialTransport::open(&s).unwrap_err().to_string();
        assert!(msg.contains("baud rate 0"), "{msg}");
        let msg = SerialTransport::open(&SerialSettings::new(" "))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("path is empty"), "{msg}");
    }

    #[test]
    fn a_file_that_is_not_a_terminal_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_str().unwrap().to_owned();
        let err = SerialTransport::open(&SerialSettings::new(&path)).unwrap_err();
        assert!(err.to_string().contains(&path), "{err}");
    }

    /// A pseudo-terminal pair: the master end (the "board") and the slave's path, opened
    /// through the serial back end as a real board's port would be.
    fn pty() -> (TTYPort, String) {
        let (master, slave) = TTYPort::pair().unwrap();
        let name = slave.name().expect("the slave end has a path");
        drop(slave);
        (master, name)
    }

    #[test]
    fn serial_round_trip_timeout_busy_and_hangup_over_a_pty() {
        let (mut board, path) = pty();
        let mut host = SerialTransport::open(&SerialSettings::new(&path)).unwrap();
        assert!(host.describe().contains(&path));
        let mut buf = [0u8; 64];
        // Nothing sent yet: a timeout, not an error.
        assert_eq!(
            host.read_with_timeout(&mut buf, Duration::from_millis(20))
                .unwrap(),
            None
        );
        // Raw mode: every byte value passes unchanged (no echo, no CR/LF translation, no ^C).
        let all: Vec<u8> = (0..=255u8).collect();
        host.write_bytes(&all).unwrap();
        let mut got = Vec::new();
        while got.len() < all.len() {
            board.set_timeout(Duration::from_secs(2)).unwrap();
            let n = board.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, all);
        board.write_all(&[0, 3, 10, 13, 0x11, 0x13, 0x7f]).unwrap();
        let mut back = Vec::new();
        while back.len() < 7 {
            let n = host
                .read_with_timeout(&mut buf, Duration::from_secs(2))
                .unwrap()
                .expect("bytes within 2 s");
            back.extend_from_slice(&buf[..n]);
        }
        assert_eq!(back, [0, 3, 10, 13, 0x11, 0x13, 0x7f]);
        // Exclusive: a second opener is told the port is busy.
        let err = SerialTransport::open(&SerialSettings::new(&path)).unwrap_err();
        assert!(err.to_string().contains("busy"), "{err}");
        assert!(err.to_string().contains(&path), "{err}");
        // The other end going away reads as a closed link.
        drop(board);
        assert_eq!(
            host.read_with_timeout(&mut buf, Duration::from_millis(200))
                .unwrap(),
            Some(0)
        );
    }

    /// A port this process just closed opens again even while other threads start processes
    /// (as the tests that run QEMU beside each other do): a child forked while the port was open
    /// holds its lock until `exec`. Without the retry in `open_port` about 2 % of these reopens
    /// failed as busy (143 of 6,000 in one run).
    #[test]
    fn reopening_a_closed_port_survives_concurrent_process_starts() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
        let (_board, path) = pty();
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicU32::new(0));
        let spawner = {
            let (stop, started) = (Arc::clone(&stop), Arc::clone(&started));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::process::Command::new("true").status();
                    started.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        // At least 1,500 reopens and at least 30 process starts during them.
        let mut slowest = Duration::ZERO;
        let mut opens = 0u32;
        while opens < 1500 || (started.load(Ordering::Relaxed) < 30 && opens < 200_000) {
            let t = Instant::now();
            let port = SerialTransport::open(&SerialSettings::new(&path))
                .unwrap_or_else(|e| panic!("open {opens}: {e}"));
            slowest = slowest.max(t.elapsed());
            drop(port);
            opens += 1;
        }
        stop.store(true, Ordering::Relaxed);
        spawner.join().unwrap();
        let started = started.load(Ordering::Relaxed);
        assert!(
            started >= 30,
            "only {started} processes started in {opens} opens"
        );
        println!("slowest of {opens} opens: {slowest:?} ({started} processes started meanwhile)");
    }

    #[test]
    fn socket_read_reports_timeout_and_close() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            a.read_with_timeout(&mut buf, Duration::from_millis(5))
                .unwrap(),
            None
        );
        drop(b);
        assert_eq!(
            a.read_with_timeout(&mut buf, Duration::from_millis(5))
                .unwrap(),
            Some(0)
        );
    }
}
