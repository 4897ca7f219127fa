//! The control loop: frames in, policy, frames out, and the link watchdog.

use hil_protocol::{
    Action, BoardMsg, FrameDecoder, Hello, HostMsg, InferenceStatus, MAX_FRAME, Observation,
    PROTOCOL_VERSION, Values, WatchdogEvent, encode_frame, values_crc,
};
use policy_runtime::{Output, Status};

use crate::clock::{self, Calibration};
use crate::config::{CONTROL_PERIOD_US, WATCHDOG_US};
use crate::policy::{ACT, H1, H2, OBS, POLICY, POLICY_HASH};
use crate::stack;
use embedded_io::{Read, ReadReady, Write};

/// One inference of the embedded policy (not inlined, so it can be timed and its stack measured).
#[inline(never)]
pub fn infer(obs: &[f32; OBS]) -> Output<ACT> {
    POLICY.act(obs)
}

fn status(s: Status) -> InferenceStatus {
    match s {
        Status::Ok => InferenceStatus::Ok,
        Status::NonFiniteObservation => InferenceStatus::NonFiniteObservation,
        Status::NonFiniteOutput => InferenceStatus::NonFiniteOutput,
        _ => InferenceStatus::Other,
    }
}

fn values<const N: usize>(v: &[f32]) -> Values<N> {
    let mut out = Values::new();
    for &x in v.iter().take(N) {
        // Cannot fail: at most N values are pushed.
        let _ = out.push(x);
    }
    out
}

/// State of the board's side of the link, over any serial port with `embedded-io`'s blocking
/// traits (another HAL's UART drives it the same way).
pub struct Board<S> {
    serial: S,
    calibration: Calibration,
    inference_stack: u32,
    decoder: FrameDecoder,
    corrupt_frames: u32,
    watchdog_events: u32,
    /// Board time and sequence number of the last valid observation, once one arrived.
    last_valid: Option<(u32, u32)>,
    /// The watchdog has fired since the last valid observation: the safe action is commanded.
    tripped: bool,
}

impl<S: Read + Write + ReadReady> Board<S> {
    /// A board that has not yet received anything.
    pub fn new(serial: S, calibration: Calibration, inference_stack: u32) -> Self {
        Self {
            serial,
            calibration,
            inference_stack,
            decoder: FrameDecoder::new(),
            corrupt_frames: 0,
            watchdog_events: 0,
            last_valid: None,
            tripped: false,
        }
    }

    fn hello(&self) -> BoardMsg {
        BoardMsg::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            format_version: policy_runtime::format::FORMAT_VERSION,
            obs_dim: OBS as u16,
            hidden: [H1 as u16, H2 as u16],
            act_dim: ACT as u16,
            policy_hash: POLICY_HASH,
            control_period_us: CONTROL_PERIOD_US,
            watchdog_us: WATCHDOG_US,
            timer_overhead: self.calibration.overhead_instructions(),
            inference_stack: self.inference_stack,
        })
    }

    /// Sends one message as a frame (a write error leaves it to the host's retransmission).
    fn send(&mut self, msg: &BoardMsg) {
        let mut buf = [0u8; MAX_FRAME];
        match encode_frame(msg, &mut buf) {
            Ok(n) => {
                let _ = self.serial.write_all(&buf[..n]);
            }
            Err(_) => crate::fatal("a board message does not fit in a frame"),
        }
    }

    /// `true` when received bytes are waiting (a port error counts as none).
    fn ready(&mut self) -> bool {
        self.serial.read_ready().unwrap_or(false)
    }

    /// Announces readiness, then serves the link forever (until a shutdown request).
    pub fn run(mut self) -> ! {
        defmt::info!(
            "link server: policy {=usize}-{=usize}-{=usize}-{=usize} hash {=u64:016x}, period {=u32} us, watchdog {=u32} us",
            OBS,
            H1,
            H2,
            ACT,
            POLICY_HASH,
            CONTROL_PERIOD_US,
            WATCHDOG_US
        );
        let hello = self.hello();
        self.send(&hello);
        let mut chunk = [0u8; 32];
        loop {
            while self.ready() {
                let n = self.serial.read(&mut chunk).unwrap_or(0);
                for &byte in chunk.iter().take(n) {
                    match self.decoder.push::<HostMsg>(byte) {
                        None => {}
                        Some(Err(_)) => self.corrupt_frames = self.corrupt_frames.wrapping_add(1),
                        Some(Ok(msg)) => self.handle(msg),
                    }
                }
            }
            self.check_watchdog();
            // Sleep until the next byte or tick; the check and the `wfi` are atomic so a byte
            // that arrives in between still wakes the core.
            cortex_m::interrupt::free(|_| {
                if !self.ready() {
                    cortex_m::asm::wfi();
                }
            });
        }
    }

    fn handle(&mut self, msg: HostMsg) {
        match msg {
            HostMsg::Query => {
                let hello = self.hello();
                self.send(&hello);
            }
            HostMsg::Observation(obs) => self.control(&obs),
            HostMsg::Shutdown => {
                defmt::info!(
                    "shutdown: {=u32} corrupt frames, {=u32} watchdog events",
                    self.corrupt_frames,
                    self.watchdog_events
                );
                self.send(&BoardMsg::Bye {
                    corrupt_frames: self.corrupt_frames,
                    watchdog_events: self.watchdog_events,
                    peak_stack: stack::top().saturating_sub(stack::low_water()) as u32,
                });
                crate::halt::success();
            }
        }
    }

    fn control(&mut self, obs: &Observation) {
        let (action, status, instructions) = match <&[f32; OBS]>::try_from(obs.values.as_slice()) {
            Ok(x) => {
                let (out, n) = self.calibration.count(|| infer(x));
                (out.action, status(out.status), n)
            }
            Err(_) => (
                POLICY.safe_action(),
                InferenceStatus::WrongObservationLength,
                0,
            ),
        };
        self.send(&BoardMsg::Action(Action {
            seq: obs.seq,
            values: values(&action),
            status,
            instructions,
            obs_crc: values_crc(&obs.values),
            corrupt_frames: self.corrupt_frames,
        }));
        self.last_valid = Some((clock::now_us(), obs.seq));
        self.tripped = false;
    }

    fn check_watchdog(&mut self) {
        let Some((since, last_seq)) = self.last_valid else {
            return;
        };
        if self.tripped {
            return;
        }
        let elapsed = clock::now_us().wrapping_sub(since);
        // Fire at the last tick that is still within the period, so the safe action is
        // commanded no later than WATCHDOG_US after the last valid observation.
        if elapsed.saturating_add(clock::TICK_US) > WATCHDOG_US {
            self.tripped = true;
            self.watchdog_events = self.watchdog_events.wrapping_add(1);
            defmt::warn!(
                "watchdog: no valid observation for {=u32} us after seq {=u32}: safe action",
                elapsed,
                last_seq
            );
            self.send(&BoardMsg::Watchdog(WatchdogEvent {
                last_seq,
                elapsed_us: elapsed,
                values: values(&POLICY.safe_action()),
                count: self.watchdog_events,
            }));
        }
    }
}
