//! The reference model: exactly Gym's `Pendulum-v1`.
//!
//! # Equations
//!
//! With state `x = (θ, θ̇)` (θ = 0 upright, counter-clockwise positive), torque command `u`:
//!
//! ```text
//! u'  = clip(u, −u_max, u_max)
//! θ̇'  = clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u')·dt, −ω_max, ω_max)
//! θ'  = θ + θ̇'·dt
//! r   = −(wrap(θ)² + 0.1·θ̇² + 0.001·u'²)          (from the state *before* the step)
//! ```
//!
//! The velocity update is a (semi-implicit, "symplectic") Euler step of the uniform rod about its
//! end, `(m l²/3)·θ̈ = m g (l/2) sin θ + u`; the angle update uses the *new* velocity.
//! `wrap` maps to `[-π, π)` (see [`crate::wrap_angle`]). The observation is
//! `[cos θ, sin θ, θ̇]` as `f32`. Episodes are truncated (never terminated) after
//! [`PendulumParams::max_episode_steps`] steps.

use core::f64::consts::PI;

use nalgebra::Vector2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::angle::wrap_angle;
use crate::env::StepResult;
use crate::error::{ParamError, at_least_one, positive};
use crate::model::{PendulumModel, Spaces, initial_state};

/// Parameters of the reference model. The defaults are Gym `Pendulum-v1`'s constants.
///
/// | field | unit | valid range | default |
/// |---|---|---|---|
/// | `gravity` | m/s² | finite, > 0 | 10.0 |
/// | `mass` | kg | finite, > 0 | 1.0 |
/// | `length` | m | finite, > 0 | 1.0 |
/// | `dt` | s | finite, > 0 | 0.05 |
/// | `max_speed` | rad/s | finite, > 0 | 8.0 |
/// | `max_torque` | N·m | finite, > 0 | 2.0 |
/// | `max_episode_steps` | steps | ≥ 1 | 200 |
///
/// Missing fields in a deserialised config take their default; unknown fields are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PendulumParams {
    /// Gravitational acceleration `g` [m/s²]; finite, > 0; default 10.0.
    pub gravity: f64,
    /// Rod mass `m` \[kg\]; finite, > 0; default 1.0.
    pub mass: f64,
    /// Rod length `l` \[m\] (pivot at one end); finite, > 0; default 1.0.
    pub length: f64,
    /// Control period / integration step `dt` \[s\]; finite, > 0; default 0.05.
    pub dt: f64,
    /// Angular speed clip `ω_max` [rad/s]; finite, > 0; default 8.0.
    pub max_speed: f64,
    /// Torque clip `u_max` [N·m]; the action bounds are `[-u_max, u_max]`; finite, > 0;
    /// default 2.0.
    pub max_torque: f64,
    /// Steps after which an episode is truncated; ≥ 1; default 200.
    pub max_episode_steps: usize,
}

impl Default for PendulumParams {
    fn default() -> Self {
        Self {
            gravity: 10.0,
            mass: 1.0,
            length: 1.0,
            dt: 0.05,
            max_speed: 8.0,
            max_torque: 2.0,
            max_episode_steps: 200,
        }
    }
}

impl PendulumParams {
    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<(), ParamError> {
        positive("gravity", self.gravity)?;
        positive("mass", self.mass)?;
        positive("length", self.length)?;
        positive("dt", self.dt)?;
        positive("max_speed", self.max_speed)?;
        positive("max_torque", self.max_torque)?;
        at_least_one("max_episode_steps", self.max_episode_steps as u64)
    }
}

/// The reference pendulum (Gym `Pendulum-v1`); see the [module docs](self) for the equations.
///
/// Before the first [`Environment::reset`](crate::Environment::reset) the pendulum hangs down at rest (`θ = π`, `θ̇ = 0`).
#[derive(Debug, Clone)]
pub struct Pendulum {
    params: PendulumParams,
    state: Vector2<f64>,
    steps: usize,
    spaces: Spaces,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new(PendulumParams::default()).expect("default parameters are valid")
    }
}

impl Pendulum {
    /// Builds a pendulum after validating `params`.
    pub fn new(params: PendulumParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(Self {
            state: Vector2::new(PI, 0.0),
            steps: 0,
            spaces: Spaces::new(params.max_torque, params.max_speed),
            params,
        })
    }

    /// The parameters this pendulum was built with.
    pub fn params(&self) -> &PendulumParams {
        &self.params
    }

    /// Current state `(θ, θ̇)` in (rad, rad/s); θ is not wrapped.
    pub fn state(&self) -> Vector2<f64> {
        self.state
    }

    /// Overwrites the state (for tests and demos that start from a chosen state). The step
    /// counter is left untouched: truncation still happens `max_episode_steps` steps after the
    /// last reset.
    pub fn set_state(&mut self, s: Vector2<f64>) {
        self.state = s;
    }

    /// Steps taken since the last reset.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Observation `[cos θ, sin θ, θ̇]` of the current state.
    pub fn observation(&self) -> [f32; 3] {
        let (s, c) = self.state.x.sin_cos();
        [c as f32, s as f32, self.state.y as f32]
    }

    /// Advances one period with torque `u` [N·m] (clipped to `±max_torque`; NaN counts as zero
    /// torque) and returns reward and end flags. This is the typed form of
    /// [`Environment::step`](crate::Environment::step).
    pub fn step_torque(&mut self, u: f64) -> StepResult {
        let p = &self.params;
        let u = if u.is_nan() {
            0.0
        } else {
            u.clamp(-p.max_torque, p.max_torque)
        };
        let (th, thdot) = (self.state.x, self.state.y);
        let cost = wrap_angle(th).powi(2) + 0.1 * thdot * thdot + 0.001 * (u * u);
        let (g, m, l, dt) = (p.gravity, p.mass, p.length, p.dt);
        let new_thdot = (thdot + (3.0 * g / (2.0 * l) * th.sin() + 3.0 / (m * l * l) * u) * dt)
            .clamp(-p.max_speed, p.max_speed);
        let new_th = th + new_thdot * dt;
        self.state = Vector2::new(new_th, new_thdot);
        self.steps += 1;
        StepResult {
            reward: -cost,
            terminated: false,
            truncated: self.steps >= p.max_episode_steps,
        }
    }

    /// Starts a new episode: `θ ~ U(−π, π)`, `θ̇ ~ U(−1, 1)` drawn (in that order) from a
    /// `ChaCha8Rng` seeded with `seed`. Typed form of [`Environment::reset`](crate::Environment::reset).
    pub fn reset_seeded(&mut self, seed: u64) -> [f32; 3] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        self.state = initial_state(&mut rng);
        self.steps = 0;
        self.observation()
    }
}

impl PendulumModel for Pendulum {
    fn spaces(&self) -> &Spaces {
        &self.spaces
    }
    fn max_episode_steps(&self) -> usize {
        self.params.max_episode_steps
    }
    fn reset_seeded(&mut self, seed: u64) -> [f32; 3] {
        Pendulum::reset_seeded(self, seed)
    }
    fn step_torque(&mut self, u: f64) -> StepResult {
        Pendulum::step_torque(self, u)
    }
    fn observation(&self) -> [f32; 3] {
        Pendulum::observation(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_invalid_params() {
        let p = PendulumParams {
            mass: -1.0,
            ..Default::default()
        };
        assert_eq!(
            Pendulum::new(p).unwrap_err(),
            ParamError::NotPositive {
                name: "mass",
                value: -1.0
            }
        );
        let p = PendulumParams {
            dt: f64::NAN,
            ..Default::default()
        };
        assert!(matches!(
            Pendulum::new(p),
            Err(ParamError::NotFinite { name: "dt", .. })
        ));
    }

    #[test]
    fn one_step_from_hanging_with_torque() {
        let mut p = Pendulum::default();
        p.set_state(Vector2::new(1.0, 0.5));
        let r = p.step_torque(3.0); // clipped to 2
        let thdot = 0.5 + (15.0 * 1.0f64.sin() + 3.0 * 2.0) * 0.05;
        assert!((p.state().y - thdot).abs() < 1e-12);
        assert!((p.state().x - (1.0 + thdot * 0.05)).abs() < 1e-12);
        assert!((r.reward + (1.0 + 0.1 * 0.25 + 0.001 * 4.0)).abs() < 1e-12);
    }
}
