//! Action feedback: the controller also observes the command the actuator applied in the
//! previous control period.
//!
//! A plant with an input delay or a slow actuator has a state the sensors do not show: the
//! commands still on their way. A controller that sees only `[cos θ, sin θ, θ̇]` cannot tell a
//! rod that is about to be pushed from one that is not, and on a rig whose delay varies
//! between episodes it must hold the rod with a gain that works for every delay. Feeding the
//! previous command back as an extra input (state augmentation, the usual treatment of a
//! one-period delay) gives it that state.
//!
//! The convention, the same for training, evaluation and the hardware-in-the-loop host:
//!
//! | input | value |
//! |---|---|
//! | `0 .. n` | the plant's observation (`n` = [`Environment::observation_dim`] of the plant) |
//! | `n .. n + act` | the command the plant applied at the previous step, after clipping to the action bounds (NaN counts as 0), as the plant saw it (a command lost on the link and held counts as applied again); `0` right after a reset |
//!
//! The bounds of the extra inputs are the action bounds, so an observation normalisation
//! built from [`Environment::observation_low`] / [`Environment::observation_high`] scales them
//! like the others. On a board that reads its own sensors, the firmware appends its last
//! command (what it sent to the motor driver) to the sensor values.

use crate::env::{Environment, StepResult};

/// An [`Environment`] whose observation is the wrapped plant's followed by the previous
/// applied action (see the [module docs](self)); with feedback off, the plant unchanged.
///
/// The buffers are allocated once, in [`ActionFeedback::new`]; `reset` and `step` allocate
/// nothing.
#[derive(Debug, Clone)]
pub struct ActionFeedback<E> {
    inner: E,
    enabled: bool,
    previous: Vec<f32>,
    obs_low: Vec<f32>,
    obs_high: Vec<f32>,
}

impl<E: Environment> ActionFeedback<E> {
    /// Wraps `inner`; with `enabled` false the observation is the plant's own.
    pub fn new(inner: E, enabled: bool) -> Self {
        let extend = |obs: &[f32], act: &[f32]| {
            let mut v = obs.to_vec();
            if enabled {
                v.extend_from_slice(act);
            }
            v
        };
        let obs_low = extend(inner.observation_low(), inner.action_low());
        let obs_high = extend(inner.observation_high(), inner.action_high());
        let previous = vec![0.0; inner.action_dim()];
        Self {
            inner,
            enabled,
            previous,
            obs_low,
            obs_high,
        }
    }

    /// Whether the previous action is part of the observation.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The wrapped plant.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// The wrapped plant, mutably. A state set on it directly (for example a chosen initial
    /// state after [`Environment::reset`]) keeps the previous action as it is.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.inner
    }

    /// The action the plant applied at the previous step (zeros after a reset).
    pub fn previous(&self) -> &[f32] {
        &self.previous
    }

    /// Writes the controller's observation for the plant observation `sensed` into `obs`:
    /// `sensed`, then (when enabled) the previous action. `obs` has
    /// [`Environment::observation_dim`] elements.
    pub fn observe(&self, sensed: &[f32], obs: &mut [f32]) {
        let n = sensed.len().min(obs.len());
        obs[..n].copy_from_slice(&sensed[..n]);
        if self.enabled {
            for (o, &p) in obs[n..].iter_mut().zip(&self.previous) {
                *o = p;
            }
        }
    }

    fn sensed_dim(&self) -> usize {
        self.inner.observation_dim()
    }
}

/// The action a plant applies for the command `u` within `[low, high]`: clipped, NaN as 0.
pub fn applied_action(u: f32, low: f32, high: f32) -> f32 {
    if u.is_nan() { 0.0 } else { u.clamp(low, high) }
}

impl<E: Environment> Environment for ActionFeedback<E> {
    fn observation_dim(&self) -> usize {
        self.obs_low.len()
    }

    fn action_dim(&self) -> usize {
        self.inner.action_dim()
    }

    fn action_low(&self) -> &[f32] {
        self.inner.action_low()
    }

    fn action_high(&self) -> &[f32] {
        self.inner.action_high()
    }

    fn observation_low(&self) -> &[f32] {
        &self.obs_low
    }

    fn observation_high(&self) -> &[f32] {
        &self.obs_high
    }

    fn max_episode_steps(&self) -> usize {
        self.inner.max_episode_steps()
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let n = self.sensed_dim();
        self.previous.fill(0.0);
        self.inner.reset(seed, &mut obs[..n]);
        if self.enabled {
            obs[n..].fill(0.0);
        }
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> StepResult {
        let n = self.sensed_dim();
        let result = self.inner.step(action, &mut obs[..n]);
        let bounds = self.inner.action_low().iter().zip(self.inner.action_high());
        for ((p, &u), (&low, &high)) in self.previous.iter_mut().zip(action).zip(bounds) {
            *p = applied_action(u, low, high);
        }
        if self.enabled {
            obs[n..].copy_from_slice(&self.previous);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pendulum;

    #[test]
    fn observation_is_the_plants_then_the_previous_applied_action() {
        let mut plain = Pendulum::default();
        let mut fed = ActionFeedback::new(Pendulum::default(), true);
        assert_eq!(fed.observation_dim(), 4);
        assert_eq!(fed.observation_low()[3], -2.0);
        assert_eq!(fed.observation_high()[3], 2.0);
        let (mut a, mut b) = ([0.0f32; 3], [9.0f32; 4]);
        plain.reset(5, &mut a);
        fed.reset(5, &mut b);
        assert_eq!(&b[..3], &a);
        assert_eq!(b[3], 0.0);
        for (u, applied) in [(0.5, 0.5), (7.0, 2.0), (f32::NAN, 0.0), (-3.0, -2.0)] {
            let ra = plain.step(&[u], &mut a);
            let rb = fed.step(&[u], &mut b);
            assert_eq!(ra, rb);
            assert_eq!(&b[..3], &a);
            assert_eq!(b[3], applied, "command {u}");
            assert_eq!(fed.previous(), &[applied]);
        }
        fed.reset(6, &mut b);
        assert_eq!(b[3], 0.0, "a reset forgets the previous action");
    }

    #[test]
    fn disabled_feedback_is_the_plant_itself() {
        let mut plain = Pendulum::default();
        let mut fed = ActionFeedback::new(Pendulum::default(), false);
        assert_eq!(fed.observation_dim(), 3);
        assert_eq!(fed.observation_low(), plain.observation_low());
        let (mut a, mut b) = ([0.0f32; 3], [0.0f32; 3]);
        plain.reset(1, &mut a);
        fed.reset(1, &mut b);
        for _ in 0..5 {
            assert_eq!(plain.step(&[1.0], &mut a), fed.step(&[1.0], &mut b));
            assert_eq!(a, b);
        }
        let mut out = [0.0f32; 3];
        fed.observe(&a, &mut out);
        assert_eq!(out, a);
    }
}
