//! Energy-based swing-up with an LQR stabiliser near upright.

use nalgebra::{Matrix2, Matrix3, RowVector2, Vector2};

use super::lqr::discrete_lqr;
use crate::error::ParamError;
use crate::hifi::HiFiParams;
use crate::pendulum::PendulumParams;

/// Energy-based swing-up followed by a linear (LQR) stabiliser, for the reference model.
///
/// With `a = 3g/(2l)` and `b = 3/(m l²)` the model is `θ̈ = a sin θ + b u`. The scaled energy
/// `Ẽ = ½θ̇² + a (cos θ − 1)` is 0 upright at rest and `−2a` hanging at rest, and obeys
/// `dẼ/dt = b u θ̇`, so the swing-up law
///
/// ```text
/// u = clip(k_E · (−Ẽ) · sgn(θ̇), ±u_max)        (sgn(0) taken as +1 to leave the bottom)
/// ```
///
/// pumps energy in until `Ẽ = 0` (the homoclinic orbit through upright). Once
/// `|wrap(θ)| < θ_s`, the stabiliser `u = clip(−K·(wrap(θ), θ̇), ±u_max)` takes over, with `K`
/// the discrete LQR gain of the model linearised at upright under the reference's
/// semi-implicit Euler step,
///
/// ```text
/// A = [[1 + a dt², dt], [a dt, 1]],   B = [b dt², b dt]ᵀ,
/// ```
///
/// and the reward's weights `Q = diag(1, 0.1)`, `R = 0.001`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnergySwingUp {
    a: f64,
    max_torque: f64,
    energy_gain: f64,
    switch_angle: f64,
    gain: RowVector2<f64>,
}

impl Default for EnergySwingUp {
    fn default() -> Self {
        Self::new(&PendulumParams::default()).expect("default parameters are valid")
    }
}

impl EnergySwingUp {
    /// Energy gain `k_E` [N·m·s²/rad²] of the swing-up law.
    pub const ENERGY_GAIN: f64 = 1.0;
    /// Angle `θ_s` \[rad\] from upright inside which the LQR stabiliser acts.
    pub const SWITCH_ANGLE: f64 = 0.5;

    /// Designs the controller for a reference model with `params`.
    pub fn new(params: &PendulumParams) -> Result<Self, ParamError> {
        params.validate()?;
        let (g, m, l, dt) = (params.gravity, params.mass, params.length, params.dt);
        let a = 3.0 * g / (2.0 * l);
        let b = 3.0 / (m * l * l);
        let a_mat = Matrix2::new(1.0 + a * dt * dt, dt, a * dt, 1.0);
        let b_vec = Vector2::new(b * dt * dt, b * dt);
        let q = Matrix2::new(1.0, 0.0, 0.0, 0.1);
        // A valid pendulum linearisation is always controllable, so the iteration converges;
        // fall back to a conservative PD gain should it ever not.
        let gain = discrete_lqr(&a_mat, &b_vec, &q, 0.001)
            .unwrap_or_else(|_| RowVector2::new(2.0 * a / b, 2.0 * a.sqrt() / b));
        Ok(Self {
            a,
            max_torque: params.max_torque,
            energy_gain: Self::ENERGY_GAIN,
            switch_angle: Self::SWITCH_ANGLE,
            gain,
        })
    }

    /// Designs the controller for the *nominal* high-fidelity plant `params` (randomisation
    /// ranges are ignored): `a = 3g/(2l)`, `b = 3/(m l²)`, the viscous damping `c` in the
    /// linearisation `ẋ = [[0, 1], [a, −b c]]·x + [0, b]ᵀ·u`, discretised exactly for a
    /// zero-order hold over `dt` (`[[A_d, B_d], [0, 1]] = exp([[A, B], [0, 0]]·dt)`), the same
    /// weights as [`EnergySwingUp::new`], and the torque bound `min(max_torque, torque_limit)`
    /// (what the motor can deliver). Lag, delay, Coulomb friction and noise are not modelled.
    pub fn for_hifi(params: &HiFiParams) -> Result<Self, ParamError> {
        params.validate()?;
        let (g, m, l, dt) = (params.gravity, params.mass, params.length, params.dt);
        let a = 3.0 * g / (2.0 * l);
        let b = 3.0 / (m * l * l);
        let c = params.damping;
        #[rustfmt::skip]
        let aug = Matrix3::new(
            0.0, 1.0, 0.0,
            a, -b * c, b,
            0.0, 0.0, 0.0,
        ) * dt;
        let e = aug.exp();
        let a_mat = Matrix2::new(e[(0, 0)], e[(0, 1)], e[(1, 0)], e[(1, 1)]);
        let b_vec = Vector2::new(e[(0, 2)], e[(1, 2)]);
        let q = Matrix2::new(1.0, 0.0, 0.0, 0.1);
        let gain = discrete_lqr(&a_mat, &b_vec, &q, 0.001)
            .unwrap_or_else(|_| RowVector2::new(2.0 * a / b, 2.0 * a.sqrt() / b));
        Ok(Self {
            a,
            max_torque: params.motor_torque_limit(),
            energy_gain: Self::ENERGY_GAIN,
            switch_angle: Self::SWITCH_ANGLE,
            gain,
        })
    }

    /// Replaces the energy gain `k_E` (default [`EnergySwingUp::ENERGY_GAIN`]).
    pub fn with_energy_gain(mut self, k: f64) -> Self {
        self.energy_gain = k;
        self
    }

    /// Replaces the switching angle `θ_s` \[rad\] (default [`EnergySwingUp::SWITCH_ANGLE`]).
    pub fn with_switch_angle(mut self, angle: f64) -> Self {
        self.switch_angle = angle;
        self
    }

    /// The stabiliser gain `K` (`u = −K·(θ, θ̇)`).
    pub fn lqr_gain(&self) -> RowVector2<f64> {
        self.gain
    }

    /// Torque [N·m] for an observation `[cos θ, sin θ, θ̇]`; always within `±max_torque`
    /// (0 for a non-finite observation).
    pub fn act(&self, obs: &[f32; 3]) -> f32 {
        let [c, s, w] = obs.map(f64::from);
        if !(c.is_finite() && s.is_finite() && w.is_finite()) {
            return 0.0;
        }
        let th = s.atan2(c);
        let u = if th.abs() < self.switch_angle {
            -(self.gain[0] * th + self.gain[1] * w)
        } else {
            let energy = 0.5 * w * w + self.a * (th.cos() - 1.0);
            let direction = if w >= 0.0 { 1.0 } else { -1.0 };
            self.energy_gain * (-energy) * direction
        };
        u.clamp(-self.max_torque, self.max_torque) as f32
    }
}
