//! The simulated plant on the host.

use nalgebra::Vector2;
use sim::{Environment, HiFiParams, HiFiPendulum, Pendulum};

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

/// Which plant to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlantKind {
    /// `sim::Pendulum`, the Gym Pendulum-v1 reference model.
    Reference,
    /// `sim::HiFiPendulum` with `HiFiParams::realistic()` (imperfections switched on).
    Realistic,
    /// `sim::HiFiPendulum` with `HiFiParams::default()` (imperfections off).
    Hifi,
}

impl PlantKind {
    /// Builds the plant.
    pub fn build(self) -> Result<Box<dyn Plant>, HilError> {
        let err = |e: sim::ParamError| HilError::Plant(e.to_string());
        Ok(match self {
            PlantKind::Reference => Box::new(Pendulum::default()),
            PlantKind::Realistic => {
                Box::new(HiFiPendulum::new(HiFiParams::realistic()).map_err(err)?)
            }
            PlantKind::Hifi => Box::new(HiFiPendulum::new(HiFiParams::default()).map_err(err)?),
        })
    }
}
