//! The simulated plant on the host.

use nalgebra::Vector2;
use sim::{ActionFeedback, Environment, HiFiPendulum, Pendulum, Rig, RigPlant};

use crate::HilError;

/// A pendulum plant the host can run in lockstep with the board.
pub trait Plant: Environment {
    /// State `(θ, θ̇)`, θ = 0 upright.
    fn state(&self) -> Vector2<f64>;
    /// Control period / step length, seconds.
    fn dt(&self) -> f64;
}

impl Plant for Pendulum {
    fn state(&self) -> Vector2<f64> {
        Pendulum::state(self)
    }
    fn dt(&self) -> f64 {
        self.params().dt
    }
}

impl Plant for HiFiPendulum {
    fn state(&self) -> Vector2<f64> {
        HiFiPendulum::state(self)
    }
    fn dt(&self) -> f64 {
        self.params().dt
    }
}

impl Plant for RigPlant {
    fn state(&self) -> Vector2<f64> {
        RigPlant::state(self)
    }
    fn dt(&self) -> f64 {
        RigPlant::dt(self)
    }
}

/// The plant with the previous applied action appended to its observation (`sim::feedback`),
/// for a policy trained with `observe_previous_action`.
impl<P: Plant> Plant for ActionFeedback<P> {
    fn state(&self) -> Vector2<f64> {
        self.inner().state()
    }
    fn dt(&self) -> f64 {
        self.inner().dt()
    }
}

/// Whether a policy of `dims` takes the plant's observation followed by the previous action
/// (`sim::feedback`): it has exactly the plant's action count of inputs more.
pub fn takes_previous_action(dims: policy_runtime::Shape, plant: &dyn Plant) -> bool {
    dims.obs == plant.observation_dim() + plant.action_dim()
}

/// Resolves `--rig NAME|FILE` (a preset of `sim::rig` or a rig file) and builds its plant.
pub fn build_rig(spec: &str) -> Result<(Rig, RigPlant), HilError> {
    let rig = Rig::resolve(spec)?;
    let plant = rig.build()?;
    Ok((rig, plant))
}

/// The firmware control period for a rig's `dt` \[µs\] (rounded; at least 1).
pub fn control_period_us(rig: &Rig) -> Result<u32, HilError> {
    let us = (rig.dt() * 1e6).round();
    if !(1.0..=f64::from(u32::MAX)).contains(&us) {
        return Err(HilError::Plant(format!(
            "rig `{}`: dt = {} s is not a control period the firmware can run",
            rig.name,
            rig.dt()
        )));
    }
    Ok(us as u32)
}
