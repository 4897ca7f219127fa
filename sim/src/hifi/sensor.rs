//! Sensor model: Gaussian noise, encoder quantisation and the velocity sensor's range.

use core::f64::consts::TAU;

use nalgebra::Vector2;
use rand::Rng;
use rand_distr::StandardNormal;

use crate::angle::wrap_angle;

/// Turns the true state into an observation `[cos θ_m, sin θ_m, θ̇_m]`.
///
/// `θ_m = q·round(wrap(θ + σ_θ·n₁) / q)` with `q = 2π / counts` (no rounding without an
/// encoder), `θ̇_m = clip(θ̇ + σ_ω·n₂, ±range)`, with `n₁, n₂` standard normal draws (only drawn
/// when the corresponding noise is switched on).
#[derive(Debug, Clone)]
pub(crate) struct Sensor {
    pub(crate) angle_noise_std: Option<f64>,
    pub(crate) velocity_noise_std: Option<f64>,
    /// This episode's factor on both noise standard deviations.
    pub(crate) noise_scale: f64,
    /// Encoder quantum `2π / counts` \[rad\].
    pub(crate) quantum: Option<f64>,
    pub(crate) velocity_range: f64,
}

impl Sensor {
    pub(crate) fn measure<R: Rng>(&self, state: Vector2<f64>, rng: &mut R) -> [f32; 3] {
        let mut th = state.x;
        if let Some(s) = self.angle_noise_std {
            th += s * self.noise_scale * rng.sample::<f64, _>(StandardNormal);
        }
        if let Some(q) = self.quantum {
            th = q * (wrap_angle(th) / q).round();
        }
        let mut thdot = state.y;
        if let Some(s) = self.velocity_noise_std {
            thdot += s * self.noise_scale * rng.sample::<f64, _>(StandardNormal);
        }
        let thdot = thdot.clamp(-self.velocity_range, self.velocity_range);
        let (s, c) = th.sin_cos();
        [c as f32, s as f32, thdot as f32]
    }
}

/// Encoder quantum for `counts` per revolution.
pub(crate) fn quantum(counts: u32) -> f64 {
    TAU / f64::from(counts)
}
