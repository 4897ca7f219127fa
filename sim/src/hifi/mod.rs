//! The high-fidelity plant: a uniform rod on a pivot with viscous and Coulomb friction,
//! integrated with classic RK4, plus switchable sensor, actuator and parameter imperfections.
//!
//! # Equations
//!
//! Uniform rod of mass `m` and length `l` about its end (inertia `J = m l²/3`), θ = 0 upright:
//!
//! ```text
//! J·θ̈ = m g (l/2)·sin θ + τ(t) − b·θ̇ − τ_c·tanh(θ̇ / v_s)
//! ```
//!
//! i.e. `θ̈ = 3g/(2l)·sin θ + 3/(m l²)·(τ − b θ̇ − τ_c tanh(θ̇/v_s))`, the same acceleration as
//! the reference model when `b = τ_c = 0`. Coulomb friction `τ_c·sgn(θ̇)` is replaced by the
//! smooth `τ_c·tanh(θ̇/v_s)`, which is 0 at θ̇ = 0 and within 2 % of `±τ_c` for
//! `|θ̇| > 2.3·v_s`; stiction is not modelled (a rod at rest with a net torque below `τ_c`
//! creeps at a speed of order `v_s`).
//!
//! Each control period `dt` is integrated with `n = ceil(dt·rate)` classic fourth-order
//! Runge–Kutta sub-steps of `h = dt/n` (local error `O(h⁵)`). The command path is:
//! clip to `±max_torque` → whole-period delay line → first-order lag `T·τ̇ = u − τ`, solved in
//! closed form `τ(t) = u + (τ₀ − u)e^{−t/T}` at the RK4 stage times → saturation `±torque_limit`.
//!
//! The observation `[cos θ_m, sin θ_m, θ̇_m]` is taken from a measured angle
//! `θ_m = quantise(θ + noise)` and velocity `θ̇_m = clip(θ̇ + noise, ±velocity_range)`.
//! The reward is the reference reward `−(wrap(θ)² + 0.1·θ̇² + 0.001·u²)` of the *true* state
//! before the step and the clipped command `u`.
//!
//! Per-episode perturbation multiplies `m`, `l` and `b` by factors drawn uniformly from their
//! ranges at reset. All randomness (initial state, factors, noise) comes from one `ChaCha8Rng`
//! seeded with the reset seed; the initial state is drawn first, exactly as in
//! [`crate::Pendulum`], so both models start from the same state for the same seed.

mod actuator;
mod params;
mod sensor;

use core::f64::consts::PI;

use nalgebra::Vector2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use params::{HiFiParams, Imperfections, MAX_DELAY_STEPS, MAX_SUBSTEPS, ScaleRange};

use crate::angle::wrap_angle;
use crate::env::StepResult;
use crate::error::ParamError;
use crate::model::{PendulumModel, Spaces, initial_state};
use actuator::Actuator;
use sensor::Sensor;

/// Physical parameters in force for the current episode (after domain randomisation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodePhysics {
    /// Mass \[kg\].
    pub mass: f64,
    /// Length \[m\].
    pub length: f64,
    /// Viscous damping [N·m·s/rad].
    pub damping: f64,
    /// Coulomb friction torque [N·m].
    pub coulomb_friction: f64,
    /// Torque the motor delivers at most [N·m] (`None`: only the command clip acts).
    pub torque_limit: Option<f64>,
    /// Actuator lag time constant \[s\] (`None`: no lag).
    pub actuator_time_constant: Option<f64>,
    /// Whole-period actuator delay [control periods].
    pub actuator_delay_steps: u32,
    /// Factor on both sensor noise standard deviations (1 = nominal).
    pub sensor_noise_scale: f64,
}

impl EpisodePhysics {
    /// The nominal values of `p` (no randomisation).
    pub fn nominal(p: &HiFiParams) -> Self {
        let imp = &p.imperfections;
        Self {
            mass: p.mass,
            length: p.length,
            damping: p.damping,
            coulomb_friction: p.coulomb_friction,
            torque_limit: imp.torque_limit,
            actuator_time_constant: imp.actuator_time_constant,
            actuator_delay_steps: imp.actuator_delay_steps,
            sensor_noise_scale: 1.0,
        }
    }

    /// Draws this episode's parameters from the randomisation ranges of `p` (see
    /// [`Imperfections`] for the order of the draws).
    fn draw<R: Rng>(p: &HiFiParams, rng: &mut R) -> Self {
        let imp = &p.imperfections;
        let mut draw = |r: &Option<ScaleRange>| match r {
            Some(r) if r.max > r.min => rng.random_range(r.min..=r.max),
            Some(r) => r.min,
            None => 1.0,
        };
        let (fm, fl, fb) = (
            draw(&imp.mass_scale),
            draw(&imp.length_scale),
            draw(&imp.damping_scale),
        );
        let fc = draw(&imp.coulomb_friction_scale);
        let ft = draw(&imp.torque_limit_scale);
        let fa = draw(&imp.actuator_time_constant_scale);
        let fs = draw(&imp.sensor_noise_scale);
        let base_limit = imp
            .torque_limit
            .or(imp.torque_limit_scale.map(|_| p.max_torque));
        let d0 = imp.actuator_delay_steps;
        let delay = match imp.actuator_delay_steps_max {
            Some(max) if max > d0 => rng.random_range(d0..=max),
            _ => d0,
        };
        Self {
            mass: p.mass * fm,
            length: p.length * fl,
            damping: p.damping * fb,
            coulomb_friction: p.coulomb_friction * fc,
            torque_limit: base_limit.map(|l| l * ft),
            actuator_time_constant: imp.actuator_time_constant.map(|t| t * fa),
            actuator_delay_steps: delay,
            sensor_noise_scale: fs,
        }
    }
}

/// Pre-computed coefficients of `θ̈ = a sin θ + k (τ − b θ̇ − τ_c tanh(θ̇/v_s))`.
#[derive(Debug, Clone, Copy)]
struct Coefficients {
    a: f64,
    k: f64,
    b: f64,
    tau_c: f64,
    inv_vs: f64,
}

impl Coefficients {
    fn new(p: &HiFiParams, e: &EpisodePhysics) -> Self {
        Self {
            a: 3.0 * p.gravity / (2.0 * e.length),
            k: 3.0 / (e.mass * e.length * e.length),
            b: e.damping,
            tau_c: e.coulomb_friction,
            inv_vs: 1.0 / p.friction_smoothing_speed,
        }
    }

    /// Time derivative of `(θ, θ̇)` under torque `tau`.
    #[inline]
    fn deriv(&self, x: Vector2<f64>, tau: f64) -> Vector2<f64> {
        let friction = if self.tau_c > 0.0 {
            self.tau_c * (x.y * self.inv_vs).tanh()
        } else {
            0.0
        };
        let acc = self.a * x.x.sin() + self.k * (tau - self.b * x.y - friction);
        Vector2::new(x.y, acc)
    }
}

/// The high-fidelity plant; see the [module docs](self) for the model.
///
/// Before the first [`Environment::reset`](crate::Environment::reset) the rod hangs down at rest (`θ = π`, `θ̇ = 0`) with
/// the nominal parameters and an RNG seeded with 0.
#[derive(Debug, Clone)]
pub struct HiFiPendulum {
    params: HiFiParams,
    physics: EpisodePhysics,
    coeffs: Coefficients,
    state: Vector2<f64>,
    steps: usize,
    substeps: usize,
    h: f64,
    rng: ChaCha8Rng,
    actuator: Actuator,
    sensor: Sensor,
    last_obs: [f32; 3],
    spaces: Spaces,
}

impl Default for HiFiPendulum {
    fn default() -> Self {
        Self::new(HiFiParams::default()).expect("default parameters are valid")
    }
}

impl HiFiPendulum {
    /// Builds the plant after validating `params`.
    pub fn new(params: HiFiParams) -> Result<Self, ParamError> {
        params.validate()?;
        let substeps = params.substeps() as usize;
        let h = params.dt / substeps as f64;
        let imp = &params.imperfections;
        let actuator = Actuator::new(
            imp.max_delay_steps(),
            imp.actuator_delay_steps,
            imp.actuator_time_constant,
            imp.torque_limit,
            h,
        );
        let sensor = Sensor {
            angle_noise_std: imp.angle_noise_std,
            velocity_noise_std: imp.velocity_noise_std,
            noise_scale: 1.0,
            quantum: imp.encoder_counts_per_rev.map(sensor::quantum),
            velocity_range: params.velocity_range,
        };
        let physics = EpisodePhysics::nominal(&params);
        let mut plant = Self {
            coeffs: Coefficients::new(&params, &physics),
            physics,
            state: Vector2::new(PI, 0.0),
            steps: 0,
            substeps,
            h,
            rng: ChaCha8Rng::seed_from_u64(0),
            actuator,
            sensor,
            last_obs: [0.0; 3],
            spaces: Spaces::new(params.max_torque, params.velocity_range),
            params,
        };
        plant.actuator.reset();
        plant.last_obs = plant.sensor.measure(plant.state, &mut plant.rng);
        Ok(plant)
    }

    /// The parameters this plant was built with.
    pub fn params(&self) -> &HiFiParams {
        &self.params
    }

    /// The physical parameters in force this episode (the nominal values unless domain
    /// randomisation is switched on).
    pub fn episode_physics(&self) -> EpisodePhysics {
        self.physics
    }

    /// True state `(θ, θ̇)` in (rad, rad/s); θ is not wrapped.
    pub fn state(&self) -> Vector2<f64> {
        self.state
    }

    /// Overwrites the true state and takes a fresh measurement of it (drawing sensor noise from
    /// the episode RNG). The step counter, actuator state and episode physics are left
    /// untouched: truncation still happens `max_episode_steps` steps after the last reset.
    pub fn set_state(&mut self, s: Vector2<f64>) {
        self.state = s;
        self.last_obs = self.sensor.measure(self.state, &mut self.rng);
    }

    /// The latest observation (the measurement taken at the last reset, step or `set_state`;
    /// calling this does not draw new noise).
    pub fn observation(&self) -> [f32; 3] {
        self.last_obs
    }

    /// Torque currently acting on the rod [N·m], after delay, lag and saturation.
    pub fn applied_torque(&self) -> f64 {
        self.actuator.applied()
    }

    /// Steps taken since the last reset.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Total mechanical energy `½(m l²/3)θ̇² + m g (l/2) cos θ` \[J\] of the true state with this
    /// episode's mass and length (zero at the horizontal, `m g l/2` upright at rest).
    pub fn energy(&self) -> f64 {
        let (m, l, g) = (self.physics.mass, self.physics.length, self.params.gravity);
        0.5 * (m * l * l / 3.0) * self.state.y * self.state.y
            + m * g * (l / 2.0) * self.state.x.cos()
    }

    /// Starts a new episode seeded with `seed` (see the [module docs](self)); typed form of
    /// [`Environment::reset`](crate::Environment::reset).
    pub fn reset_seeded(&mut self, seed: u64) -> [f32; 3] {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.state = initial_state(&mut self.rng);
        let p = &self.params;
        self.physics = EpisodePhysics::draw(p, &mut self.rng);
        self.coeffs = Coefficients::new(p, &self.physics);
        let e = &self.physics;
        self.actuator.configure(
            e.actuator_delay_steps,
            e.actuator_time_constant,
            e.torque_limit,
            self.h,
        );
        self.sensor.noise_scale = e.sensor_noise_scale;
        self.actuator.reset();
        self.steps = 0;
        self.last_obs = self.sensor.measure(self.state, &mut self.rng);
        self.last_obs
    }

    /// Advances one control period with torque command `u` [N·m] (clipped to `±max_torque`;
    /// NaN counts as zero), returns reward and end flags; the new observation is
    /// [`HiFiPendulum::observation`]. Typed form of [`Environment::step`](crate::Environment::step).
    pub fn step_torque(&mut self, u: f64) -> StepResult {
        let p = &self.params;
        let u = if u.is_nan() {
            0.0
        } else {
            u.clamp(-p.max_torque, p.max_torque)
        };
        let (th, thdot) = (self.state.x, self.state.y);
        let cost = wrap_angle(th).powi(2) + 0.1 * thdot * thdot + 0.001 * (u * u);

        let command = self.actuator.delayed(u);
        let (h, c) = (self.h, self.coeffs);
        let mut x = self.state;
        for _ in 0..self.substeps {
            let tau = self.actuator.substep(command);
            let k1 = c.deriv(x, tau.start);
            let k2 = c.deriv(x + k1 * (0.5 * h), tau.mid);
            let k3 = c.deriv(x + k2 * (0.5 * h), tau.mid);
            let k4 = c.deriv(x + k3 * h, tau.end);
            x += (k1 + (k2 + k3) * 2.0 + k4) * (h / 6.0);
        }
        self.state = x;
        self.steps += 1;
        self.last_obs = self.sensor.measure(self.state, &mut self.rng);
        StepResult {
            reward: -cost,
            terminated: false,
            truncated: self.steps >= self.params.max_episode_steps,
        }
    }
}

impl PendulumModel for HiFiPendulum {
    fn spaces(&self) -> &Spaces {
        &self.spaces
    }
    fn max_episode_steps(&self) -> usize {
        self.params.max_episode_steps
    }
    fn reset_seeded(&mut self, seed: u64) -> [f32; 3] {
        HiFiPendulum::reset_seeded(self, seed)
    }
    fn step_torque(&mut self, u: f64) -> StepResult {
        HiFiPendulum::step_torque(self, u)
    }
    fn observation(&self) -> [f32; 3] {
        HiFiPendulum::observation(self)
    }
}
