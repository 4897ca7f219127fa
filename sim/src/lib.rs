//! Pendulum dynamics on nalgebra: the Gym `Pendulum-v1` reference model ([`Pendulum`]) and a
//! high-fidelity plant ([`HiFiPendulum`]) for hardware-in-the-loop and robustness tests, behind
//! one seeded, allocation-free [`Environment`] trait.
//!
//! State is `nalgebra::Vector2<f64>`: angle θ \[rad\] (0 = upright, counter-clockwise positive,
//! not wrapped) and angular velocity θ̇ [rad/s]. Observations are `[cos θ, sin θ, θ̇]` as `f32`;
//! the action is one torque `u` [N·m], clipped to `±max_torque` (NaN counts as 0). Both models
//! reset to `θ ~ U(−π, π)`, `θ̇ ~ U(−1, 1)` from a `ChaCha8Rng` seeded with the reset seed,
//! truncate (never terminate) episodes after `max_episode_steps`, and pay the reward
//! `r = −(wrap(θ)² + 0.1·θ̇² + 0.001·u²)` computed from the state before the step, with
//! `wrap` to `[-π, π)` ([`wrap_angle`]).
//!
//! # Reference model ([`pendulum`])
//!
//! A uniform rod about its end, `(m l²/3)·θ̈ = m g (l/2)·sin θ + u`, advanced by one
//! semi-implicit Euler step per period (velocity first, then angle with the new velocity):
//!
//! ```text
//! θ̇' = clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, ±ω_max)
//! θ'  = θ + θ̇'·dt
//! ```
//!
//! | [`PendulumParams`] field | unit | valid range | default |
//! |---|---|---|---|
//! | `gravity` | m/s² | finite, > 0 | 10.0 |
//! | `mass` | kg | finite, > 0 | 1.0 |
//! | `length` | m | finite, > 0 | 1.0 |
//! | `dt` | s | finite, > 0 | 0.05 |
//! | `max_speed` (ω_max) | rad/s | finite, > 0 | 8.0 |
//! | `max_torque` | N·m | finite, > 0 | 2.0 |
//! | `max_episode_steps` | steps | ≥ 1 | 200 |
//!
//! # High-fidelity plant ([`hifi`])
//!
//! ```text
//! (m l²/3)·θ̈ = m g (l/2)·sin θ + τ(t) − b·θ̇ − τ_c·tanh(θ̇ / v_s)
//! ```
//!
//! integrated with classic fourth-order Runge–Kutta at `integration_rate_hz` inside each
//! control period, with the command path clip → delay line → first-order lag
//! `T·τ̇ = u − τ` (solved exactly) → saturation, and the sensor path noise → encoder
//! quantisation → velocity range clip. With every imperfection off and `b = τ_c = 0` it
//! integrates the reference model's ODE (without the reference's velocity clip).
//!
//! | [`HiFiParams`] field | unit | valid range | default | `realistic()` |
//! |---|---|---|---|---|
//! | `gravity` | m/s² | finite, > 0 | 10.0 | 10.0 |
//! | `mass` | kg | finite, > 0 | 1.0 | 1.0 |
//! | `length` | m | finite, > 0 | 1.0 | 1.0 |
//! | `damping` (b) | N·m·s/rad | finite, ≥ 0 | 0.0 | 0.02 |
//! | `coulomb_friction` (τ_c) | N·m | finite, ≥ 0 | 0.0 | 0.02 |
//! | `friction_smoothing_speed` (v_s) | rad/s | finite, > 0 | 0.01 | 0.01 |
//! | `dt` | s | finite, > 0 | 0.05 | 0.05 |
//! | `integration_rate_hz` | Hz | finite, > 0, ≤ 10⁶ sub-steps per `dt` | 1000 | 1000 |
//! | `max_torque` | N·m | finite, > 0 | 2.0 | 2.0 |
//! | `velocity_range` | rad/s | finite, > 0 | 8.0 | 8.0 |
//! | `max_episode_steps` | steps | ≥ 1 | 200 | 200 |
//!
//! | [`Imperfections`] field (off = `None`/0) | unit | valid range | default | `realistic()` |
//! |---|---|---|---|---|
//! | `angle_noise_std` | rad | finite, ≥ 0 | off | 0.002 |
//! | `velocity_noise_std` | rad/s | finite, ≥ 0 | off | 0.05 |
//! | `encoder_counts_per_rev` | counts/rev | ≥ 1 | off | 2048 |
//! | `actuator_time_constant` (T) | s | finite, > 0 | off | 0.02 |
//! | `actuator_delay_steps` | periods | 0 ..= 10 000 | 0 | 0 |
//! | `torque_limit` | N·m | finite, > 0 | off | 1.8 |
//! | `mass_scale` | factor | 0 < min ≤ max | off | [0.9, 1.1] |
//! | `length_scale` | factor | 0 < min ≤ max | off | [0.95, 1.05] |
//! | `damping_scale` | factor | 0 < min ≤ max | off | [0.5, 1.5] |
//! | `coulomb_friction_scale`, `torque_limit_scale`, `sensor_noise_scale`, `actuator_time_constant_scale` | factor | 0 < min ≤ max | off | off |
//! | `actuator_delay_steps_max` | periods | `actuator_delay_steps` ..= 10 000 | off | off |
//!
//! (The full table, with the order of the per-episode draws: [`Imperfections`].)
//!
//! Invalid parameters are rejected at construction with a [`ParamError`] naming the field.
//! The params structs are serde types (missing fields take defaults, unknown fields are errors),
//! so they can be embedded in configuration files.
//!
//! # Action feedback ([`feedback`])
//!
//! [`ActionFeedback`] wraps any [`Environment`] so that its observation is followed by the
//! action the plant applied at the previous step (0 after a reset): the one convention for a
//! controller that observes its own previous command, shared by the trainer's training and
//! evaluation and the hardware-in-the-loop host.
//!
//! # Controllers ([`controllers`])
//!
//! [`controllers::EnergySwingUp`]: energy pumping `u = clip(k_E·(−Ẽ)·sgn θ̇, ±u_max)` with
//! `Ẽ = ½θ̇² + 3g/(2l)·(cos θ − 1)`, then a discrete LQR stabiliser near upright.
//!
//! # Example
//!
//! ```
//! use sim::{Environment, Pendulum};
//!
//! let mut env = Pendulum::default();
//! let mut obs = [0.0f32; 3];
//! env.reset(42, &mut obs);
//! let step = env.step(&[1.0], &mut obs);
//! assert!(step.reward <= 0.0 && !step.terminated);
//! ```

mod angle;
pub mod controllers;
pub mod env;
mod error;
pub mod feedback;
pub mod hifi;
mod model;
pub mod optimal;
pub mod pendulum;
pub mod rig;

pub use angle::wrap_angle;
pub use env::{Environment, StepResult};
pub use error::ParamError;
pub use feedback::ActionFeedback;
pub use hifi::{EpisodePhysics, HiFiParams, HiFiPendulum, Imperfections, ScaleRange};
pub use pendulum::{Pendulum, PendulumParams};
pub use rig::{Rig, RigError, RigModel, RigPlant};
