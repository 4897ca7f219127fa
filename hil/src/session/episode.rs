//! Episodes in lockstep with the board, and the link-cut check.

use std::time::{Duration, Instant};

use hil_protocol::{BoardMsg, values_crc};

use super::{ActionFn, CutReport, Episode, Reference, Reply, Row, Session};
use crate::HilError;
use crate::plant::Plant;

impl Session {
    /// Runs one episode: resets `plant` with `seed`, then steps it with the board's actions
    /// for up to `steps` steps (or until the configured link cut). `reference`, if given, is
    /// checked against every action.
    pub fn run_episode(
        &mut self,
        plant: &mut dyn Plant,
        seed: u64,
        steps: usize,
        reference: Option<Reference<'_>>,
    ) -> Result<Episode, HilError> {
        let r = self.run_episode_once(plant, seed, steps, reference);
        r.map_err(|e| self.explain(e))
    }

    fn run_episode_once(
        &mut self,
        plant: &mut dyn Plant,
        seed: u64,
        steps: usize,
        mut reference: Option<Reference<'_>>,
    ) -> Result<Episode, HilError> {
        let mut obs = vec![0.0f32; plant.observation_dim()];
        plant.reset(seed, &mut obs);
        let s0 = plant.state();
        let dt = plant.dt();
        let first_seq = self.next_seq;
        let period = Duration::from_micros(u64::from(self.hello.control_period_us));
        let start = Instant::now();
        let mut ep = Episode {
            seed,
            initial_state: [s0[0], s0[1]],
            rows: Vec::with_capacity(steps),
            ret: 0.0,
            final_theta: sim::wrap_angle(s0[0]),
            mismatches: 0,
            lost_steps: 0,
            max_action_error: 0.0,
            watchdog: Vec::new(),
            cut: None,
        };
        let mut last_sent: Option<Instant> = None;
        // The command the actuator holds: the safe action (zero) until the first answer.
        let mut held = vec![0.0f32; usize::from(self.hello.act_dim)];
        for step in 0..steps {
            let t = step as f64 * dt;
            if let Some(at) = self.config.faults.cut_after
                && t >= at
            {
                ep.cut = Some(self.await_watchdog(at, last_sent)?);
                break;
            }
            if self.config.realtime {
                let due = start + period * step as u32;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            let reply = self.step_reply(&obs, step)?;
            if let Some(reply) = &reply {
                last_sent = Some(Instant::now() - reply.latency);
                check_reply(&mut ep, reply, &obs, reference.as_deref_mut());
                held.clear();
                held.extend_from_slice(&reply.action.values);
            } else {
                ep.lost_steps += 1;
            }
            let state = plant.state();
            let result = plant.step(&held, &mut obs);
            ep.ret += result.reward;
            ep.rows.push(Row {
                step,
                t,
                theta: sim::wrap_angle(state[0]),
                theta_dot: state[1],
                action: held.first().copied().unwrap_or(f32::NAN),
                reward: result.reward,
                instructions: reply.as_ref().map_or(0, |r| r.action.instructions),
                latency_us: reply
                    .as_ref()
                    .map_or(f64::NAN, |r| r.latency.as_secs_f64() * 1e6),
                attempts: reply.as_ref().map_or(0, |r| r.attempts),
                status: reply.as_ref().map(|r| r.action.status),
            });
            if result.terminated || result.truncated {
                break;
            }
        }
        ep.final_theta = sim::wrap_angle(plant.state()[0]);
        self.collect_watchdog(&mut ep, first_seq);
        Ok(ep)
    }

    /// The board's answer to `obs` at `step`: with `hold_on_loss` one attempt, and `None`
    /// when it is lost (the actuator holds the last command); without it, retransmissions
    /// until the step's time-out, which is an error.
    fn step_reply(&mut self, obs: &[f32], step: usize) -> Result<Option<Reply>, HilError> {
        let max_attempts = if self.config.hold_on_loss {
            1
        } else {
            u32::MAX
        };
        match self.exchange(obs, max_attempts)? {
            Some(r) => Ok(Some(r)),
            None if self.config.hold_on_loss => Ok(None),
            None => Err(HilError::Timeout(format!(
                "no action for step {step} within {:?}; {}",
                self.config.step_timeout,
                self.board.diagnostics()
            ))),
        }
    }

    /// The episode's watchdog events: those the board reported about its own observations
    /// (sequence numbers from `first_seq` on), and the cut's, once.
    fn collect_watchdog(&mut self, ep: &mut Episode, first_seq: u32) {
        ep.watchdog = self
            .pending_watchdog
            .drain(..)
            .filter(|w| w.last_seq >= first_seq)
            .collect();
        if let Some(c) = &ep.cut
            && let Some(e) = &c.event
            && !ep.watchdog.contains(e)
        {
            ep.watchdog.push(e.clone());
        }
    }

    /// After a cut: waits for the board's watchdog report about the last answered observation.
    fn await_watchdog(
        &mut self,
        at: f64,
        last_sent: Option<Instant>,
    ) -> Result<CutReport, HilError> {
        let last_seq = self.next_seq.wrapping_sub(1);
        let wait =
            Duration::from_micros(u64::from(self.hello.watchdog_us)) * 10 + Duration::from_secs(1);
        let deadline = Instant::now() + wait;
        while let Some(m) = self.link.recv(deadline)? {
            match m {
                BoardMsg::Watchdog(w) if w.last_seq == last_seq => {
                    return Ok(CutReport {
                        at,
                        event: Some(w),
                        host_wall: last_sent.map(|s| s.elapsed()),
                    });
                }
                other => self.note(other)?,
            }
        }
        Ok(CutReport {
            at,
            event: None,
            host_wall: None,
        })
    }
}

/// Counts a mismatch when the board's action answers another observation (its CRC of the
/// observation differs) or differs from the host reference's action by more than 1e-5.
fn check_reply(ep: &mut Episode, reply: &Reply, obs: &[f32], reference: Option<&mut ActionFn<'_>>) {
    let a = &reply.action;
    if a.obs_crc != values_crc(obs) {
        ep.mismatches += 1;
    }
    if let Some(r) = reference {
        let want = r(obs);
        let err = if want.len() == a.values.len() {
            want.iter()
                .zip(&a.values)
                .map(|(w, g)| (w - g).abs())
                .fold(0.0, f32::max)
        } else {
            f32::INFINITY
        };
        ep.max_action_error = ep.max_action_error.max(err);
        if err > 1e-5 {
            ep.mismatches += 1;
        }
    }
}
