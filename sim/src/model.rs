//! What both pendulum models share: the spaces, the initial-state draw, the slice adapters, and
//! the one implementation of [`Environment`] for any [`PendulumModel`].

use core::f64::consts::PI;

use nalgebra::Vector2;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::env::{Environment, StepResult};

/// A pendulum model in typed form (one torque in, `[cos θ, sin θ, θ̇]` out). Implementing it
/// gives the model [`Environment`] through the blanket impl below.
pub(crate) trait PendulumModel {
    /// The action and observation bounds.
    fn spaces(&self) -> &Spaces;
    /// Steps after which an episode is truncated.
    fn max_episode_steps(&self) -> usize;
    /// Starts an episode from `seed`; returns the first observation.
    fn reset_seeded(&mut self, seed: u64) -> [f32; 3];
    /// One control period with torque `u` [N·m].
    fn step_torque(&mut self, u: f64) -> StepResult;
    /// The current observation.
    fn observation(&self) -> [f32; 3];
}

#[allow(private_bounds)]
impl<M: PendulumModel> Environment for M {
    fn observation_dim(&self) -> usize {
        3
    }
    fn action_dim(&self) -> usize {
        1
    }
    fn action_low(&self) -> &[f32] {
        &self.spaces().action_low
    }
    fn action_high(&self) -> &[f32] {
        &self.spaces().action_high
    }
    fn observation_low(&self) -> &[f32] {
        &self.spaces().observation_low
    }
    fn observation_high(&self) -> &[f32] {
        &self.spaces().observation_high
    }
    fn max_episode_steps(&self) -> usize {
        PendulumModel::max_episode_steps(self)
    }
    /// Starts an episode from the seed (see the model's `reset_seeded`).
    ///
    /// # Panics
    /// If `obs.len() != 3`.
    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let o = self.reset_seeded(seed);
        write_obs(obs, o);
    }
    /// One control period (see the model's `step_torque`).
    ///
    /// # Panics
    /// If `action.len() != 1` or `obs.len() != 3`.
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> StepResult {
        let r = self.step_torque(read_action(action));
        write_obs(obs, PendulumModel::observation(self));
        r
    }
}

/// Draws the standard initial state `θ ~ U(−π, π)`, `θ̇ ~ U(−1, 1)` (shared by both models so
/// that the same seed gives the same initial state).
pub(crate) fn initial_state(rng: &mut ChaCha8Rng) -> Vector2<f64> {
    let th = rng.random_range(-PI..PI);
    let thdot = rng.random_range(-1.0..1.0);
    Vector2::new(th, thdot)
}

/// Writes a 3-element observation into a caller buffer.
///
/// # Panics
/// If `obs.len() != 3` (a caller bug: the size is fixed by `observation_dim`).
pub(crate) fn write_obs(obs: &mut [f32], value: [f32; 3]) {
    assert_eq!(
        obs.len(),
        3,
        "observation buffer must have length 3, got {}",
        obs.len()
    );
    obs.copy_from_slice(&value);
}

/// Reads the single torque element of an action buffer.
///
/// # Panics
/// If `action.len() != 1` (a caller bug: the size is fixed by `action_dim`).
pub(crate) fn read_action(action: &[f32]) -> f64 {
    assert_eq!(
        action.len(),
        1,
        "action buffer must have length 1, got {}",
        action.len()
    );
    f64::from(action[0])
}

/// The bounds of a pendulum model's spaces: torque in `[-u, u]`, observation
/// `[cos θ, sin θ, θ̇]` in `[-1, 1] × [-1, 1] × [-w, w]`.
#[derive(Debug, Clone)]
pub(crate) struct Spaces {
    pub(crate) action_low: [f32; 1],
    pub(crate) action_high: [f32; 1],
    pub(crate) observation_low: [f32; 3],
    pub(crate) observation_high: [f32; 3],
}

impl Spaces {
    /// Bounds for torque limit `max_torque` (N·m) and velocity bound `max_speed` (rad/s).
    pub(crate) fn new(max_torque: f64, max_speed: f64) -> Self {
        let (u, w) = (max_torque as f32, max_speed as f32);
        Self {
            action_low: [-u],
            action_high: [u],
            observation_low: [-1.0, -1.0, -w],
            observation_high: [1.0, 1.0, w],
        }
    }
}
