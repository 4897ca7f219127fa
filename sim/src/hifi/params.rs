//! Parameters of the high-fidelity plant.

use serde::{Deserialize, Serialize};

use crate::error::{ParamError, at_least_one, non_negative, positive};

/// Largest number of RK4 sub-steps per control period accepted by validation.
pub const MAX_SUBSTEPS: u64 = 1_000_000;
/// Largest actuator delay, in control periods, accepted by validation.
pub const MAX_DELAY_STEPS: u64 = 10_000;

/// A closed range `[min, max]` of positive scale factors; a factor is drawn uniformly from it at
/// every reset (`min == max` gives a fixed factor).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleRange {
    /// Smallest factor; finite, > 0.
    pub min: f64,
    /// Largest factor; finite, ≥ `min`.
    pub max: f64,
}

impl ScaleRange {
    /// The range `[min, max]` (not validated until the plant is built).
    pub const fn new(min: f64, max: f64) -> Self {
        Self { min, max }
    }

    fn validate(&self, name: &'static str) -> Result<(), ParamError> {
        let ok = self.min.is_finite() && self.max.is_finite() && self.min > 0.0;
        if ok && self.min <= self.max {
            Ok(())
        } else {
            Err(ParamError::InvalidRange {
                name,
                min: self.min,
                max: self.max,
            })
        }
    }
}

/// Individually switchable imperfections of the high-fidelity plant. `None` (or `0` for the
/// delay) switches an imperfection off; [`Imperfections::default`] switches all of them off.
///
/// | field | unit | valid range | default | `realistic()` |
/// |---|---|---|---|---|
/// | `angle_noise_std` | rad | finite, ≥ 0 | off | 0.002 |
/// | `velocity_noise_std` | rad/s | finite, ≥ 0 | off | 0.05 |
/// | `encoder_counts_per_rev` | counts/rev | ≥ 1 | off | 2048 |
/// | `actuator_time_constant` | s | finite, > 0 | off | 0.02 |
/// | `actuator_delay_steps` | control periods | 0 ..= 10 000 | 0 | 0 |
/// | `torque_limit` | N·m | finite, > 0 | off | 1.8 |
/// | `mass_scale` | factor | 0 < min ≤ max | off | [0.9, 1.1] |
/// | `length_scale` | factor | 0 < min ≤ max | off | [0.95, 1.05] |
/// | `damping_scale` | factor | 0 < min ≤ max | off | [0.5, 1.5] |
/// | `coulomb_friction_scale` | factor | 0 < min ≤ max | off | off |
/// | `torque_limit_scale` | factor | 0 < min ≤ max | off | off |
/// | `actuator_time_constant_scale` | factor | 0 < min ≤ max, needs a lag | off | off |
/// | `actuator_delay_steps_max` | periods | `actuator_delay_steps` ..= 10 000 | off | off |
/// | `sensor_noise_scale` | factor | 0 < min ≤ max | off | off |
///
/// The `*_scale` ranges and `actuator_delay_steps_max` are *domain randomisation*: a factor (or
/// a delay) is drawn uniformly at every reset from the episode's RNG, after the initial state
/// and in the order of the table, and only for the ranges that are switched on (so switching one
/// on does not change the draws of the others).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Imperfections {
    /// Standard deviation \[rad\] of zero-mean Gaussian noise added to the measured angle (before
    /// encoder quantisation); finite, ≥ 0; default off.
    pub angle_noise_std: Option<f64>,
    /// Standard deviation [rad/s] of zero-mean Gaussian noise added to the measured angular
    /// velocity; finite, ≥ 0; default off.
    pub velocity_noise_std: Option<f64>,
    /// Encoder resolution [counts per revolution]: the measured angle is rounded to the nearest
    /// multiple of `2π / counts`; ≥ 1; default off. The velocity is not quantised.
    pub encoder_counts_per_rev: Option<u32>,
    /// Time constant `T` \[s\] of a first-order actuator lag `T·τ̇ = u − τ` between the command
    /// and the torque; finite, > 0; default off (torque follows the command instantly).
    pub actuator_time_constant: Option<f64>,
    /// Whole-period transport delay [control periods]: the command given at step `k` reaches
    /// the actuator at step `k + d` (zero torque is commanded for the first `d` steps of an
    /// episode); 0 ..= 10 000; default 0 (off).
    pub actuator_delay_steps: u32,
    /// Torque the motor can actually deliver [N·m]: the applied torque (after lag) is clipped to
    /// `±torque_limit`; finite, > 0; default off (only the command clip `±max_torque` acts).
    pub torque_limit: Option<f64>,
    /// Per-episode factor applied to the mass; default off (factor 1).
    pub mass_scale: Option<ScaleRange>,
    /// Per-episode factor applied to the length; default off (factor 1).
    pub length_scale: Option<ScaleRange>,
    /// Per-episode factor applied to the viscous damping `b`; default off (factor 1).
    pub damping_scale: Option<ScaleRange>,
    /// Per-episode factor applied to the Coulomb friction `τ_c`; default off (factor 1).
    pub coulomb_friction_scale: Option<ScaleRange>,
    /// Per-episode factor applied to the motor's torque limit (`torque_limit`, or `max_torque`
    /// when `torque_limit` is off: a weaker motor than the command range); default off.
    pub torque_limit_scale: Option<ScaleRange>,
    /// Per-episode factor applied to the actuator lag's time constant (needs
    /// `actuator_time_constant`); default off (factor 1).
    pub actuator_time_constant_scale: Option<ScaleRange>,
    /// Largest whole-period delay [control periods]: when set, each episode's delay is drawn
    /// uniformly from `actuator_delay_steps ..= actuator_delay_steps_max`; ≤ 10 000; default
    /// off (the delay is always `actuator_delay_steps`).
    pub actuator_delay_steps_max: Option<u32>,
    /// Per-episode factor applied to both sensor noise standard deviations; default off.
    pub sensor_noise_scale: Option<ScaleRange>,
}

impl Imperfections {
    /// The moderate levels used by [`HiFiParams::realistic`] (see the table above): a
    /// 2048-count encoder with 0.002 rad of noise ahead of it, 0.05 rad/s of velocity noise,
    /// a 20 ms actuator lag, a 1.8 N·m motor limit below the 2 N·m command range, and ±10 %
    /// mass, ±5 % length and ±50 % damping spread between episodes. The whole-period delay stays
    /// off: one 50 ms period is a severe latency for this plant, so it is opted into explicitly.
    pub fn realistic() -> Self {
        Self {
            angle_noise_std: Some(0.002),
            velocity_noise_std: Some(0.05),
            encoder_counts_per_rev: Some(2048),
            actuator_time_constant: Some(0.02),
            actuator_delay_steps: 0,
            torque_limit: Some(1.8),
            mass_scale: Some(ScaleRange::new(0.9, 1.1)),
            length_scale: Some(ScaleRange::new(0.95, 1.05)),
            damping_scale: Some(ScaleRange::new(0.5, 1.5)),
            ..Self::default()
        }
    }

    /// Largest whole-period delay any episode can have [control periods].
    pub fn max_delay_steps(&self) -> u32 {
        self.actuator_delay_steps_max
            .unwrap_or(self.actuator_delay_steps)
            .max(self.actuator_delay_steps)
    }

    /// The same imperfections with every per-episode draw switched off (the nominal plant).
    pub fn without_randomisation(&self) -> Self {
        Self {
            mass_scale: None,
            length_scale: None,
            damping_scale: None,
            coulomb_friction_scale: None,
            torque_limit_scale: None,
            actuator_time_constant_scale: None,
            actuator_delay_steps_max: None,
            sensor_noise_scale: None,
            ..self.clone()
        }
    }

    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<(), ParamError> {
        if let Some(s) = self.angle_noise_std {
            non_negative("angle_noise_std", s)?;
        }
        if let Some(s) = self.velocity_noise_std {
            non_negative("velocity_noise_std", s)?;
        }
        if let Some(c) = self.encoder_counts_per_rev {
            at_least_one("encoder_counts_per_rev", u64::from(c))?;
        }
        if let Some(t) = self.actuator_time_constant {
            positive("actuator_time_constant", t)?;
        }
        let d = u64::from(self.actuator_delay_steps);
        if d > MAX_DELAY_STEPS {
            return Err(ParamError::TooLarge {
                name: "actuator_delay_steps",
                value: d,
                max: MAX_DELAY_STEPS,
            });
        }
        if let Some(t) = self.torque_limit {
            positive("torque_limit", t)?;
        }
        if let Some(max) = self.actuator_delay_steps_max {
            let max = u64::from(max);
            if max > MAX_DELAY_STEPS {
                return Err(ParamError::TooLarge {
                    name: "actuator_delay_steps_max",
                    value: max,
                    max: MAX_DELAY_STEPS,
                });
            }
            if max < d {
                return Err(ParamError::InvalidRange {
                    name: "actuator_delay_steps_max",
                    min: d as f64,
                    max: max as f64,
                });
            }
        }
        if self.actuator_time_constant_scale.is_some() && self.actuator_time_constant.is_none() {
            return Err(ParamError::Requires {
                name: "actuator_time_constant_scale",
                requires: "actuator_time_constant",
            });
        }
        for (name, range) in [
            ("mass_scale", &self.mass_scale),
            ("length_scale", &self.length_scale),
            ("damping_scale", &self.damping_scale),
            ("coulomb_friction_scale", &self.coulomb_friction_scale),
            ("torque_limit_scale", &self.torque_limit_scale),
            (
                "actuator_time_constant_scale",
                &self.actuator_time_constant_scale,
            ),
            ("sensor_noise_scale", &self.sensor_noise_scale),
        ] {
            if let Some(r) = range {
                r.validate(name)?;
            }
        }
        Ok(())
    }
}

/// Parameters of the high-fidelity plant. [`HiFiParams::default`] has the reference model's
/// constants, zero damping and friction, and every imperfection off.
///
/// | field | unit | valid range | default | `realistic()` |
/// |---|---|---|---|---|
/// | `gravity` | m/s² | finite, > 0 | 10.0 | 10.0 |
/// | `mass` | kg | finite, > 0 | 1.0 | 1.0 |
/// | `length` | m | finite, > 0 | 1.0 | 1.0 |
/// | `damping` | N·m·s/rad | finite, ≥ 0 | 0.0 | 0.02 |
/// | `coulomb_friction` | N·m | finite, ≥ 0 | 0.0 | 0.02 |
/// | `friction_smoothing_speed` | rad/s | finite, > 0 | 0.01 | 0.01 |
/// | `dt` | s | finite, > 0 | 0.05 | 0.05 |
/// | `integration_rate_hz` | Hz | finite, > 0, ≤ 10⁶ sub-steps per `dt` | 1000 | 1000 |
/// | `max_torque` | N·m | finite, > 0 | 2.0 | 2.0 |
/// | `velocity_range` | rad/s | finite, > 0 | 8.0 | 8.0 |
/// | `max_episode_steps` | steps | ≥ 1 | 200 | 200 |
/// | `imperfections` | — | see [`Imperfections`] | all off | see [`Imperfections::realistic`] |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HiFiParams {
    /// Gravitational acceleration `g` [m/s²]; finite, > 0; default 10.0.
    pub gravity: f64,
    /// Rod mass `m` \[kg\] (uniform rod); finite, > 0; default 1.0.
    pub mass: f64,
    /// Rod length `l` \[m\], pivot at one end; finite, > 0; default 1.0.
    pub length: f64,
    /// Viscous damping coefficient `b` [N·m·s/rad]; finite, ≥ 0; default 0.0.
    pub damping: f64,
    /// Coulomb friction torque `τ_c` [N·m]; finite, ≥ 0; default 0.0.
    pub coulomb_friction: f64,
    /// Speed `v_s` [rad/s] below which the Coulomb friction is smoothed: friction torque is
    /// `τ_c·tanh(θ̇ / v_s)`; finite, > 0; default 0.01.
    pub friction_smoothing_speed: f64,
    /// Control period `dt` \[s\]: one [`crate::Environment::step`] advances this much; finite,
    /// > 0; default 0.05.
    pub dt: f64,
    /// Internal RK4 rate \[Hz\]: each period is split into `n = ceil(dt·rate)` equal sub-steps
    /// of `dt / n`; finite, > 0, `n` ≤ 10⁶; default 1000 (50 sub-steps of 1 ms).
    pub integration_rate_hz: f64,
    /// Command clip [N·m]: actions are clipped to `±max_torque` (the action bounds); finite,
    /// > 0; default 2.0.
    pub max_torque: f64,
    /// Full-scale range of the velocity sensor [rad/s]: the *observed* θ̇ is clipped to
    /// `±velocity_range` (the observation bounds); the physics is not clipped; finite, > 0;
    /// default 8.0.
    pub velocity_range: f64,
    /// Steps after which an episode is truncated; ≥ 1; default 200.
    pub max_episode_steps: usize,
    /// Sensor, actuator and parameter imperfections (all off by default).
    pub imperfections: Imperfections,
}

impl Default for HiFiParams {
    fn default() -> Self {
        Self {
            gravity: 10.0,
            mass: 1.0,
            length: 1.0,
            damping: 0.0,
            coulomb_friction: 0.0,
            friction_smoothing_speed: 0.01,
            dt: 0.05,
            integration_rate_hz: 1000.0,
            max_torque: 2.0,
            velocity_range: 8.0,
            max_episode_steps: 200,
            imperfections: Imperfections::default(),
        }
    }
}

impl HiFiParams {
    /// A plant with moderate damping (0.02 N·m·s/rad) and Coulomb friction (0.02 N·m) and the
    /// imperfections of [`Imperfections::realistic`] switched on.
    pub fn realistic() -> Self {
        Self {
            damping: 0.02,
            coulomb_friction: 0.02,
            imperfections: Imperfections::realistic(),
            ..Self::default()
        }
    }

    /// The torque the motor delivers at most with the nominal parameters [N·m]: the smaller of
    /// the command clip `max_torque` and `imperfections.torque_limit`.
    pub fn motor_torque_limit(&self) -> f64 {
        self.imperfections
            .torque_limit
            .map_or(self.max_torque, |t| t.min(self.max_torque))
    }

    /// Number of RK4 sub-steps per control period, `ceil(dt · integration_rate_hz)` (at least 1).
    pub fn substeps(&self) -> u64 {
        // A small tolerance keeps e.g. 0.05 s · 1000 Hz at 50 despite rounding.
        let n = (self.dt * self.integration_rate_hz - 1e-9).ceil();
        if n.is_finite() && n >= 1.0 {
            n as u64
        } else {
            1
        }
    }

    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<(), ParamError> {
        positive("gravity", self.gravity)?;
        positive("mass", self.mass)?;
        positive("length", self.length)?;
        non_negative("damping", self.damping)?;
        non_negative("coulomb_friction", self.coulomb_friction)?;
        positive("friction_smoothing_speed", self.friction_smoothing_speed)?;
        positive("dt", self.dt)?;
        positive("integration_rate_hz", self.integration_rate_hz)?;
        let n = (self.dt * self.integration_rate_hz).ceil();
        if !n.is_finite() || n > MAX_SUBSTEPS as f64 {
            return Err(ParamError::TooManySubsteps {
                substeps: if n.is_finite() { n as u64 } else { u64::MAX },
                max: MAX_SUBSTEPS,
            });
        }
        positive("max_torque", self.max_torque)?;
        positive("velocity_range", self.velocity_range)?;
        at_least_one("max_episode_steps", self.max_episode_steps as u64)?;
        self.imperfections.validate()
    }
}
