//! Pendulum dynamics (work in progress, see issue 2).

pub mod env;

pub use env::{Environment, StepResult};
