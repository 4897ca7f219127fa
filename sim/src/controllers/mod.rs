//! Hand-written controllers used to validate the models (signs, scales) and as baselines.

mod energy_swing_up;
mod lqr;

pub use energy_swing_up::EnergySwingUp;
pub use lqr::{LqrError, discrete_lqr};
