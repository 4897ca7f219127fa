//! A HIL session: the board (a QEMU process this session starts, or a board already running
//! behind a serial port), the link, and episodes run in lockstep with the board.

use std::time::{Duration, Instant};

use hil_protocol::{
    Action, BoardMsg, Hello, HostMsg, InferenceStatus, PROTOCOL_VERSION, WatchdogEvent,
};

use crate::HilError;
use crate::firmware::Image;
use crate::link::{Faults, Link, LinkCounters};
use crate::qemu::Qemu;
use crate::transport::{SerialSettings, SerialTransport};

mod episode;
mod exchange;
mod shutdown;

/// How long the handshake may take.
const HANDSHAKE_TIME: Duration = Duration::from_secs(10);
/// The host repeats `Query` this often during the handshake while the board is silent.
const QUERY_INTERVAL: Duration = Duration::from_millis(500);

/// Checks the board's announcement against the host's protocol and the expected policy.
/// An exit status in words: `signal 9 (SIGKILL)`, `exit status: 1`.
fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(9) => "signal 9 (SIGKILL: killed)".into(),
        Some(15) => "signal 15 (SIGTERM)".into(),
        Some(6) => "signal 6 (SIGABRT: QEMU crashed)".into(),
        Some(11) => "signal 11 (SIGSEGV: QEMU crashed)".into(),
        Some(n) => format!("signal {n}"),
        None => status.to_string(),
    }
}

fn check_hello(hello: &Hello, policy_hash: u64) -> Result<(), HilError> {
    if hello.protocol_version != PROTOCOL_VERSION {
        return Err(HilError::Mismatch(format!(
            "board speaks protocol {}, host {}",
            hello.protocol_version, PROTOCOL_VERSION
        )));
    }
    if hello.policy_hash != policy_hash {
        return Err(HilError::Mismatch(format!(
            "board runs policy {:016x}, expected {:016x}",
            hello.policy_hash, policy_hash
        )));
    }
    Ok(())
}

/// Host-side settings of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// Faults injected on the link during episodes (the handshake runs without faults).
    pub faults: Faults,
    /// Seed of the fault injection.
    pub seed: u64,
    /// An observation without an answer is sent again after this long.
    pub retransmit: Duration,
    /// A control step fails after this long without an answer.
    pub step_timeout: Duration,
    /// Pace steps at the board's control period in wall-clock time (otherwise as fast as the
    /// board answers: the plant and the board stay in lockstep either way).
    pub realtime: bool,
    /// QEMU is killed after this long, whatever happens (unused for a board on a serial port).
    pub qemu_limit: Duration,
    /// Lost-step mode: send each observation once; if its action does not come back within
    /// `retransmit`, the step is lost and the plant keeps the previous command (zero-order
    /// hold, as an actuator would). Otherwise (default) observations are retransmitted until
    /// answered, so link faults cost time but not control quality.
    pub hold_on_loss: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            faults: Faults::default(),
            seed: 0,
            retransmit: Duration::from_millis(10),
            step_timeout: Duration::from_secs(5),
            realtime: false,
            qemu_limit: Duration::from_secs(600),
            hold_on_loss: false,
        }
    }
}

/// A host-side reference for each action: given the observation, the action the board must
/// command (the same policy run through `policy-runtime` on the host).
pub type Reference<'a> = &'a mut dyn FnMut(&[f32]) -> Vec<f32>;

/// The host reference as a trait object with its own lifetime.
type ActionFn<'a> = dyn FnMut(&[f32]) -> Vec<f32> + 'a;

/// The board's answer to one observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The action message.
    pub action: Action,
    /// Round trip of the answered transmission.
    pub latency: Duration,
    /// Transmissions needed (1 without faults).
    pub attempts: u32,
}

/// One row of the trajectory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Step index.
    pub step: usize,
    /// Plant time at the start of the step, seconds.
    pub t: f64,
    /// Angle, rad (0 upright), before the step.
    pub theta: f64,
    /// Angular velocity, rad/s, before the step.
    pub theta_dot: f64,
    /// Commanded torque (first action element).
    pub action: f32,
    /// Reward of the step.
    pub reward: f64,
    /// On-board instructions of the inference.
    pub instructions: u32,
    /// Round-trip latency, microseconds (NaN for a lost step).
    pub latency_us: f64,
    /// Transmissions needed (0 for a lost step).
    pub attempts: u32,
    /// Inference status (`None` for a lost step, whose command is the held previous one).
    pub status: Option<InferenceStatus>,
}

/// What happened when the link was cut.
#[derive(Debug, Clone, PartialEq)]
pub struct CutReport {
    /// Plant time of the cut, seconds.
    pub at: f64,
    /// The board's watchdog report (`None` if none came within the wait).
    pub event: Option<WatchdogEvent>,
    /// Host wall time from sending the last answered observation to receiving the report.
    pub host_wall: Option<Duration>,
}

/// One closed-loop episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// Seed of the plant's initial state.
    pub seed: u64,
    /// Initial state `(θ, θ̇)`.
    pub initial_state: [f64; 2],
    /// The trajectory.
    pub rows: Vec<Row>,
    /// Sum of rewards.
    pub ret: f64,
    /// Angle at the end, wrapped to `[-π, π)`.
    pub final_theta: f64,
    /// Actions whose observation CRC or value differed from what the host sent / expects:
    /// the board acted on something other than the true observation.
    pub mismatches: u32,
    /// Steps whose action did not come back (only in lost-step mode; the previous command
    /// was held).
    pub lost_steps: u32,
    /// Largest `|board action - host reference action|`.
    pub max_action_error: f32,
    /// Watchdog reports received during the episode.
    pub watchdog: Vec<WatchdogEvent>,
    /// The link cut, if one was injected.
    pub cut: Option<CutReport>,
}

/// Where the board of a session runs.
#[derive(Debug)]
pub enum Board {
    /// A QEMU process started by [`Session::start`]; it is killed when the session ends.
    Qemu(Qemu),
    /// A board that was already running behind a serial port ([`Session::open_serial`]).
    Serial(SerialSettings),
}

impl Board {
    /// A clause for error messages: what the board printed outside the link (QEMU's
    /// semihosting output and errors), or why there is nothing to show for a serial board.
    pub fn diagnostics(&self) -> String {
        match self {
            Board::Qemu(q) => format!("QEMU said: {}", q.output()),
            Board::Serial(s) => format!(
                "the board on serial port {} has no console output to show (serial boards report only over the link; check power, wiring TX/RX, the baud rate {} and that it was flashed with this policy)",
                s.path, s.baud
            ),
        }
    }

    /// A short description: `QEMU pid N` or `serial port PATH at N baud`.
    pub fn describe(&self) -> String {
        match self {
            Board::Qemu(q) => format!("QEMU pid {}", q.pid()),
            Board::Serial(s) => format!("serial port {} at {} baud", s.path, s.baud),
        }
    }
}

/// A running session.
#[derive(Debug)]
pub struct Session {
    board: Board,
    link: Link,
    hello: Hello,
    config: SessionConfig,
    next_seq: u32,
    pending_watchdog: Vec<WatchdogEvent>,
    board_corrupt: u32,
    /// `true` once any `Action` has arrived: from then on a `Hello` means the board restarted.
    acted: bool,
}

/// Final counters of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Frames the board dropped as corrupt.
    pub board_corrupt_frames: u32,
    /// Watchdog events on the board.
    pub board_watchdog_events: u32,
    /// Deepest stack use of the firmware, bytes.
    pub board_peak_stack: u32,
    /// The firmware's defmt log, one line per message (QEMU only: a real board logs over RTT,
    /// which probe-rs prints).
    pub board_log: Vec<String>,
    /// Host-side counters.
    pub link: LinkCounters,
}

impl Session {
    /// Starts QEMU on `image`, waits for the board's [`Hello`] and checks that it runs the
    /// expected policy and protocol.
    pub fn start(image: &Image, config: SessionConfig) -> Result<Self, HilError> {
        config.faults.validate()?;
        let qemu = Qemu::start(&image.elf, config.qemu_limit)?;
        let stream = qemu
            .stream()
            .ok_or_else(|| HilError::Qemu("the link is not on a Unix socket".into()))?
            .try_clone()
            .map_err(|e| HilError::io("cloning the link stream", e))?;
        let link = Link::new(stream, Faults::default(), config.seed)?;
        Self::handshake(Board::Qemu(qemu), link, image.policy_hash, config)
    }

    /// Opens the serial port of a board that is already running (flashed with the policy
    /// whose [`hil_protocol::policy_hash`] is `policy_hash`), waits for its [`Hello`] (asking
    /// with `Query` every 0.5 s, for 10 s) and checks its policy and protocol, as
    /// [`Session::start`] does for QEMU. The port is opened raw, 8N1, at `serial.baud`.
    ///
    /// In both cases the handshake ends only when the board has answered a `Query`, so both
    /// directions of the link are known to work before the first observation.
    pub fn open_serial(
        serial: &SerialSettings,
        policy_hash: u64,
        config: SessionConfig,
    ) -> Result<Self, HilError> {
        config.faults.validate()?;
        let port = SerialTransport::open(serial)?;
        let link = Link::new(port, Faults::default(), config.seed)?;
        Self::handshake(Board::Serial(serial.clone()), link, policy_hash, config)
    }

    /// Waits for the board's [`Hello`] on `link` and checks it against `policy_hash` and
    /// [`PROTOCOL_VERSION`].
    fn handshake(
        board: Board,
        mut link: Link,
        policy_hash: u64,
        config: SessionConfig,
    ) -> Result<Self, HilError> {
        // Both directions must work before the first observation: a `Hello` the board sent
        // by itself (at reset) shows that the host hears the board, not that the board hears
        // the host. So the handshake ends with a second `Hello` that follows a `Query`. (QEMU's
        // pty back end, for one, starts reading the host's bytes up to 1 s after it starts
        // passing the board's.) Answers to queries beyond the one needed are ignored by
        // `note` until the first action. Every `Hello` is checked at once.
        let deadline = Instant::now() + HANDSHAKE_TIME;
        let mut next_query = Instant::now() + QUERY_INTERVAL;
        let mut queries = 0u32;
        let mut hellos = 0u32;
        let hello = loop {
            if Instant::now() >= next_query {
                link.send(&HostMsg::Query)?;
                queries += 1;
                next_query = Instant::now() + QUERY_INTERVAL;
            }
            match link.recv(next_query.min(deadline))? {
                Some(BoardMsg::Hello(h)) => {
                    check_hello(&h, policy_hash)?;
                    hellos += 1;
                    if hellos >= 2 && queries >= 1 {
                        break h;
                    }
                    // Ask now: the answer proves the board hears the host.
                    next_query = Instant::now();
                }
                Some(_) => {}
                None if Instant::now() < deadline => {}
                None if hellos == 0 => {
                    return Err(HilError::Timeout(format!(
                        "no hello from the board ({}) within {HANDSHAKE_TIME:?}; {}",
                        board.describe(),
                        board.diagnostics()
                    )));
                }
                None => {
                    return Err(HilError::Timeout(format!(
                        "the board ({}) announced itself but answered none of {queries} queries within {HANDSHAKE_TIME:?}: it does not hear the host (on a real board: the wire from the adapter's TX to PA10, and the baud rate); {}",
                        board.describe(),
                        board.diagnostics()
                    )));
                }
            }
        };
        link.set_faults(config.faults)?;
        Ok(Self {
            board,
            link,
            hello,
            config,
            next_seq: 1,
            pending_watchdog: Vec::new(),
            board_corrupt: 0,
            acted: false,
        })
    }

    /// The board's announcement.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// QEMU's process id (`None` for a board on a serial port).
    pub fn pid(&self) -> Option<u32> {
        match &self.board {
            Board::Qemu(q) => Some(q.pid()),
            Board::Serial(_) => None,
        }
    }

    /// Where the board runs.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// Frames the board has reported dropping as corrupt so far.
    pub fn board_corrupt_frames(&self) -> u32 {
        self.board_corrupt
    }

    /// Host-side link counters so far.
    pub fn link_counters(&self) -> LinkCounters {
        self.link.counters()
    }
}
