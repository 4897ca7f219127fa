//! Rig files: one description of a plant (model, physics, imperfections, per-episode
//! randomisation, control period, episode length) that training, evaluation and the
//! hardware-in-the-loop host all read, so one name means one plant everywhere.
//!
//! A rig is a TOML file:
//!
//! ```toml
//! name = "my-rig"                 # shown in reports and in the exported policy's summary
//! description = "what it is"
//! model = "hifi"                  # "reference" (Gym Pendulum-v1) or "hifi" (HiFiPendulum)
//!
//! [plant]                         # every field of sim::HiFiParams (unit, range, default there)
//! mass = 0.08
//! dt = 0.01
//!
//! [plant.imperfections]           # every field of sim::Imperfections, incl. randomisation
//! encoder_counts_per_rev = 1024
//! mass_scale = { min = 0.9, max = 1.2 }
//! ```
//!
//! | key | type | meaning | default |
//! |---|---|---|---|
//! | `name` | string | the rig's name (a preset's name, or the file stem when empty) | file stem |
//! | `description` | string | one line for reports | empty |
//! | `model` | `"reference"` \| `"hifi"` | which model integrates the plant | `"hifi"` |
//! | `plant` | table | [`HiFiParams`] (physics, `dt`, `max_torque`, `velocity_range`, `max_episode_steps`) | [`HiFiParams::default`] |
//! | `plant.imperfections` | table | [`crate::Imperfections`] (sensor, actuator, randomisation ranges) | all off |
//!
//! Missing keys take their defaults; unknown keys are errors naming the key; every value is
//! checked against its documented range and an error names the field.
//!
//! `model = "reference"` is Gym Pendulum-v1 exactly ([`Pendulum`]): it uses `gravity`,
//! `mass`, `length`, `dt`, `max_torque`, `max_episode_steps`, and `velocity_range` as the
//! velocity clip `max_speed`; damping, Coulomb friction and every imperfection must be off
//! (use `model = "hifi"` for those).
//!
//! The presets [`PRESETS`] ship as files in the repository's `rigs/` folder and are compiled in,
//! so `--rig realistic` works from any directory.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::controllers::EnergySwingUp;
use crate::env::{Environment, StepResult};
use crate::error::ParamError;
use crate::hifi::{EpisodePhysics, HiFiParams, HiFiPendulum, Imperfections};
use crate::pendulum::{Pendulum, PendulumParams};
use nalgebra::Vector2;

/// The shipped rig presets: `(name, TOML text)`, from the repository's `rigs/` folder.
pub const PRESETS: &[(&str, &str)] = &[
    ("reference", include_str!("../../rigs/reference.toml")),
    ("hifi-ideal", include_str!("../../rigs/hifi-ideal.toml")),
    ("realistic", include_str!("../../rigs/realistic.toml")),
    ("desktop", include_str!("../../rigs/desktop.toml")),
];

/// Which model integrates a rig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RigModel {
    /// Gym Pendulum-v1 exactly ([`Pendulum`]).
    Reference,
    /// The high-fidelity plant ([`HiFiPendulum`]).
    #[default]
    Hifi,
}

/// A rig could not be found, read, parsed or validated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RigError {
    /// Neither a preset name nor an existing file.
    #[error("no rig named `{spec}`: not a preset ({presets}) and no such file")]
    NotFound {
        /// What was asked for.
        spec: String,
        /// The preset names.
        presets: String,
    },
    /// The file could not be read.
    #[error("cannot read rig file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown key or a wrong type.
    #[error("invalid rig {origin}: {message}")]
    Parse {
        /// The file or preset.
        origin: String,
        /// What the TOML parser said (it names the key).
        message: String,
    },
    /// A value is outside its documented range.
    #[error("invalid rig `{rig}`: {source}")]
    Param {
        /// The rig's name.
        rig: String,
        /// The rejected parameter.
        source: ParamError,
    },
    /// The trajectory optimiser needs a deterministic rig with the reference model.
    #[error(
        "rig `{rig}`: the optimal-control reference needs a deterministic rig with model = \"reference\" (Gym Pendulum-v1 dynamics), e.g. the `reference` preset"
    )]
    NotDeterministicReference {
        /// The rig's name.
        rig: String,
    },
    /// `model = "reference"` with a field the reference model does not have.
    #[error(
        "invalid rig `{rig}`: `{field}` must be off for model = \"reference\" (Gym Pendulum-v1 exactly); use model = \"hifi\""
    )]
    NotReference {
        /// The rig's name.
        rig: String,
        /// The field that is set.
        field: &'static str,
    },
}

/// A plant description; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Rig {
    /// Name shown in reports (a preset's name, or the file stem when left empty).
    pub name: String,
    /// One line describing the rig.
    pub description: String,
    /// Which model integrates the plant.
    pub model: RigModel,
    /// Physics, imperfections, randomisation, control period and episode length.
    pub plant: HiFiParams,
}

impl Rig {
    /// The preset called `name`, if there is one.
    pub fn preset(name: &str) -> Option<Rig> {
        let (_, text) = PRESETS.iter().find(|(n, _)| *n == name)?;
        Some(Self::from_toml_str(text, name).expect("shipped presets are valid"))
    }

    /// A preset name or a path to a rig file.
    pub fn resolve(spec: &str) -> Result<Rig, RigError> {
        if let Some(r) = Self::preset(spec) {
            return Ok(r);
        }
        let path = Path::new(spec);
        if path.is_file() {
            return Self::from_file(path);
        }
        Err(RigError::NotFound {
            spec: spec.to_string(),
            presets: PRESETS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Reads and validates a rig file (an empty `name` becomes the file stem).
    pub fn from_file(path: &Path) -> Result<Rig, RigError> {
        let text = std::fs::read_to_string(path).map_err(|source| RigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut rig = Self::parse(&text, &path.display().to_string())?;
        if rig.name.is_empty() {
            rig.name = stem;
        }
        rig.validate()?;
        Ok(rig)
    }

    /// Parses and validates rig TOML (`default_name` is used when the text has no `name`).
    pub fn from_toml_str(text: &str, default_name: &str) -> Result<Rig, RigError> {
        let mut rig = Self::parse(text, default_name)?;
        if rig.name.is_empty() {
            rig.name = default_name.to_string();
        }
        rig.validate()?;
        Ok(rig)
    }

    fn parse(text: &str, origin: &str) -> Result<Rig, RigError> {
        toml::from_str(text).map_err(|e| RigError::Parse {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// The rig as TOML (what a run directory's `rig.toml` holds; parses back to `self`).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a Rig always serialises")
    }

    /// Checks every field (see the [module docs](self)).
    pub fn validate(&self) -> Result<(), RigError> {
        self.plant.validate().map_err(|source| RigError::Param {
            rig: self.name.clone(),
            source,
        })?;
        if self.model == RigModel::Reference {
            let p = &self.plant;
            let not_ref = |field| {
                Err(RigError::NotReference {
                    rig: self.name.clone(),
                    field,
                })
            };
            if p.damping != 0.0 {
                return not_ref("damping");
            }
            if p.coulomb_friction != 0.0 {
                return not_ref("coulomb_friction");
            }
            if p.imperfections != Imperfections::default() {
                return not_ref("imperfections");
            }
        }
        Ok(())
    }

    /// The reference model's parameters of a `model = "reference"` rig.
    pub fn reference_params(&self) -> PendulumParams {
        let p = &self.plant;
        PendulumParams {
            gravity: p.gravity,
            mass: p.mass,
            length: p.length,
            dt: p.dt,
            max_speed: p.velocity_range,
            max_torque: p.max_torque,
            max_episode_steps: p.max_episode_steps,
        }
    }

    /// The same rig with every per-episode draw switched off (nominal parameters).
    pub fn nominal(&self) -> Rig {
        let mut r = self.clone();
        r.plant.imperfections = r.plant.imperfections.without_randomisation();
        r
    }

    /// Control period \[s\].
    pub fn dt(&self) -> f64 {
        self.plant.dt
    }

    /// The longest actuator delay an episode can draw \[control periods\]: 0 when the command
    /// always acts in the period it is sent (every `model = "reference"` rig).
    pub fn max_actuator_delay_steps(&self) -> u32 {
        let imp = &self.plant.imperfections;
        imp.actuator_delay_steps
            .max(imp.actuator_delay_steps_max.unwrap_or(0))
    }

    /// Episode length \[steps\].
    pub fn max_episode_steps(&self) -> usize {
        self.plant.max_episode_steps
    }

    /// Builds the plant.
    pub fn build(&self) -> Result<RigPlant, RigError> {
        self.validate()?;
        let err = |source| RigError::Param {
            rig: self.name.clone(),
            source,
        };
        Ok(match self.model {
            RigModel::Reference => {
                RigPlant::Reference(Pendulum::new(self.reference_params()).map_err(err)?)
            }
            RigModel::Hifi => RigPlant::Hifi(HiFiPendulum::new(self.plant.clone()).map_err(err)?),
        })
    }

    /// The energy swing-up + LQR baseline designed for this rig's nominal parameters
    /// ([`EnergySwingUp::new`] for the reference model, [`EnergySwingUp::for_hifi`] otherwise:
    /// damping and the motor's torque limit included).
    pub fn baseline(&self) -> Result<EnergySwingUp, RigError> {
        let err = |source| RigError::Param {
            rig: self.name.clone(),
            source,
        };
        match self.model {
            RigModel::Reference => EnergySwingUp::new(&self.reference_params()).map_err(err),
            RigModel::Hifi => EnergySwingUp::for_hifi(&self.plant).map_err(err),
        }
    }
}

/// The plant of a rig: either model behind one type.
// One plant per evaluation thread, stepped in tight loops: boxing the larger variant would only
// add an indirection to every step.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum RigPlant {
    /// Gym Pendulum-v1.
    Reference(Pendulum),
    /// The high-fidelity plant.
    Hifi(HiFiPendulum),
}

impl RigPlant {
    /// True state `(θ, θ̇)` (θ = 0 upright, not wrapped).
    pub fn state(&self) -> Vector2<f64> {
        match self {
            RigPlant::Reference(p) => p.state(),
            RigPlant::Hifi(p) => p.state(),
        }
    }

    /// Overwrites the true state (a fresh measurement is taken on the high-fidelity plant).
    pub fn set_state(&mut self, s: Vector2<f64>) {
        match self {
            RigPlant::Reference(p) => p.set_state(s),
            RigPlant::Hifi(p) => p.set_state(s),
        }
    }

    /// The latest observation `[cos θ, sin θ, θ̇]`.
    pub fn observation(&self) -> [f32; 3] {
        match self {
            RigPlant::Reference(p) => p.observation(),
            RigPlant::Hifi(p) => p.observation(),
        }
    }

    /// Control period \[s\].
    pub fn dt(&self) -> f64 {
        match self {
            RigPlant::Reference(p) => p.params().dt,
            RigPlant::Hifi(p) => p.params().dt,
        }
    }

    /// This episode's physical parameters (`None` for the reference model).
    pub fn episode_physics(&self) -> Option<EpisodePhysics> {
        match self {
            RigPlant::Reference(_) => None,
            RigPlant::Hifi(p) => Some(p.episode_physics()),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            RigPlant::Reference($p) => $e,
            RigPlant::Hifi($p) => $e,
        }
    };
}

impl Environment for RigPlant {
    fn observation_dim(&self) -> usize {
        delegate!(self, p => p.observation_dim())
    }
    fn action_dim(&self) -> usize {
        delegate!(self, p => p.action_dim())
    }
    fn action_low(&self) -> &[f32] {
        delegate!(self, p => p.action_low())
    }
    fn action_high(&self) -> &[f32] {
        delegate!(self, p => p.action_high())
    }
    fn observation_low(&self) -> &[f32] {
        delegate!(self, p => p.observation_low())
    }
    fn observation_high(&self) -> &[f32] {
        delegate!(self, p => p.observation_high())
    }
    fn max_episode_steps(&self) -> usize {
        delegate!(self, p => p.max_episode_steps())
    }
    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        delegate!(self, p => p.reset(seed, obs))
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> StepResult {
        delegate!(self, p => p.step(action, obs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_validates_and_round_trips() {
        for (name, _) in PRESETS {
            let r = Rig::preset(name).unwrap();
            assert_eq!(&r.name, name);
            let back = Rig::from_toml_str(&r.to_toml(), "x").unwrap();
            assert_eq!(back, r, "{name}");
            r.build().unwrap();
            r.baseline().unwrap();
        }
    }

    #[test]
    fn the_longest_delay_is_the_fixed_one_or_the_drawn_maximum() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../rigs/examples/");
        for (name, want) in [("realistic", 0), ("reference", 0), ("desktop", 0)] {
            assert_eq!(
                Rig::preset(name).unwrap().max_actuator_delay_steps(),
                want,
                "{name}"
            );
        }
        for (file, want) in [
            ("lab-50hz-delay", 1),
            ("strong-motor", 1),
            ("weak-motor", 0),
        ] {
            let rig = Rig::from_file(Path::new(&format!("{dir}{file}.toml"))).unwrap();
            assert_eq!(rig.max_actuator_delay_steps(), want, "{file}");
        }
        let mut rig = Rig::preset("realistic").unwrap();
        rig.plant.imperfections.actuator_delay_steps = 2;
        assert_eq!(rig.max_actuator_delay_steps(), 2);
        rig.plant.imperfections.actuator_delay_steps_max = Some(5);
        assert_eq!(rig.max_actuator_delay_steps(), 5);
    }
}
