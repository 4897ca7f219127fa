//! Pendulum dynamics on nalgebra: the Gym `Pendulum-v1` reference model ([`Pendulum`]) and a
//! high-fidelity plant for hardware-in-the-loop and robustness tests, behind one
//! allocation-free [`Environment`] trait.
//!
//! State is `nalgebra::Vector2<f64>`: angle θ [rad] (0 = upright, counter-clockwise positive)
//! and angular velocity θ̇ [rad/s]. Observations are `[cos θ, sin θ, θ̇]` as `f32`; the action
//! is one torque [N·m].

mod angle;
pub mod controllers;
pub mod env;
mod error;
pub mod hifi;
pub mod pendulum;

pub use angle::wrap_angle;
pub use env::{Environment, StepResult};
pub use error::ParamError;
pub use hifi::{HiFiParams, HiFiPendulum, Imperfections, ScaleRange};
pub use pendulum::{Pendulum, PendulumParams};
