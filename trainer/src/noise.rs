//! Exploration noise: Ornstein–Uhlenbeck and Gaussian, selectable at run time.

use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Ornstein–Uhlenbeck process `x ← x + θ(μ − x)dt + σ√dt·n`, `n ~ N(0, 1)` per dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OuNoise {
    /// Mean-reversion rate θ.
    pub theta: f64,
    /// Long-run mean μ.
    pub mu: f64,
    /// Volatility σ (per dimension, in action units).
    pub sigma: Vec<f64>,
    /// Time step dt.
    pub dt: f64,
    state: Vec<f64>,
}

impl OuNoise {
    /// A process at `x = μ` with one dimension per entry of `sigma`.
    pub fn new(theta: f64, mu: f64, sigma: Vec<f64>, dt: f64) -> Self {
        let state = vec![mu; sigma.len()];
        Self {
            theta,
            mu,
            sigma,
            dt,
            state,
        }
    }

    /// Resets the state to μ (call at every episode start).
    pub fn reset(&mut self) {
        self.state.iter_mut().for_each(|x| *x = self.mu);
    }

    /// The current state.
    pub fn state(&self) -> &[f64] {
        &self.state
    }

    /// Advances the process with the given standard-normal draws (one per dimension) and
    /// returns the new state.
    pub fn step_with(&mut self, normals: &[f64]) -> &[f64] {
        let sqrt_dt = self.dt.sqrt();
        for ((x, &s), &n) in self.state.iter_mut().zip(&self.sigma).zip(normals) {
            *x += self.theta * (self.mu - *x) * self.dt + s * sqrt_dt * n;
        }
        &self.state
    }
}

/// Independent Gaussian noise `σ·n`, `n ~ N(0, 1)` per dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianNoise {
    /// Standard deviation per dimension (action units).
    pub sigma: Vec<f64>,
}

/// The exploration noise of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Noise {
    /// Ornstein–Uhlenbeck.
    Ou(OuNoise),
    /// Gaussian.
    Gaussian(GaussianNoise),
}

impl Noise {
    /// Resets the process at an episode start (a no-op for Gaussian noise).
    pub fn reset(&mut self) {
        if let Noise::Ou(ou) = self {
            ou.reset();
        }
    }

    /// Checks that the process has `act_dim` dimensions and finite parameters (what a loaded
    /// checkpoint must satisfy); returns what differs.
    pub fn check(&self, act_dim: usize) -> Result<(), String> {
        let (sigma, state, scalars) = match self {
            Noise::Ou(ou) => (&ou.sigma, &ou.state[..], vec![ou.theta, ou.mu, ou.dt]),
            Noise::Gaussian(g) => (&g.sigma, &g.sigma[..], Vec::new()),
        };
        if sigma.len() != act_dim || state.len() != act_dim {
            return Err(format!(
                "exploration noise has {} dimensions, the run has {act_dim} actions",
                sigma.len().max(state.len())
            ));
        }
        if !sigma
            .iter()
            .chain(state)
            .chain(&scalars)
            .all(|x| x.is_finite())
        {
            return Err("exploration noise holds a non-finite value".into());
        }
        Ok(())
    }

    /// Draws the next noise vector into `out` (length = number of action dimensions).
    pub fn sample<R: Rng>(&mut self, rng: &mut R, out: &mut [f64]) {
        for n in out.iter_mut() {
            *n = rng.sample(StandardNormal);
        }
        match self {
            Noise::Ou(ou) => {
                let x = ou.step_with(out).to_vec();
                out.copy_from_slice(&x);
            }
            Noise::Gaussian(g) => {
                for (n, s) in out.iter_mut().zip(&g.sigma) {
                    *n *= s;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn ou_matches_hand_computation() {
        let mut ou = OuNoise::new(0.15, 0.0, vec![0.2], 0.01);
        // x1 = 0 + 0.15·(0 − 0)·0.01 + 0.2·0.1·1 = 0.02
        assert!((ou.step_with(&[1.0])[0] - 0.02).abs() < 1e-15);
        // x2 = 0.02 + 0.15·(0 − 0.02)·0.01 + 0.2·0.1·(−0.5) = 0.02 − 0.00003 − 0.01 = 0.00997
        assert!((ou.step_with(&[-0.5])[0] - 0.00997).abs() < 1e-15);
        ou.reset();
        assert_eq!(ou.state(), &[0.0]);
        // Mean reversion towards μ = 1 from 0 with no noise: x1 = 0.15·1·0.01 = 0.0015.
        let mut ou = OuNoise::new(0.15, 1.0, vec![0.2], 0.01);
        ou.state[0] = 0.0;
        assert!((ou.step_with(&[0.0])[0] - 0.0015).abs() < 1e-15);
    }

    #[test]
    fn ou_reset_per_episode_and_correlated() {
        let mut noise = Noise::Ou(OuNoise::new(0.15, 0.0, vec![0.2], 0.01));
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut prev = [0.0];
        let mut out = [0.0];
        let mut max_jump: f64 = 0.0;
        for _ in 0..100 {
            noise.sample(&mut rng, &mut out);
            max_jump = max_jump.max((out[0] - prev[0]).abs());
            prev = out;
        }
        // Each increment is σ√dt·n = 0.02·n (plus a tiny reversion term).
        assert!(max_jump < 0.02 * 5.0);
        noise.reset();
        if let Noise::Ou(ou) = &noise {
            assert_eq!(ou.state(), &[0.0]);
        }
    }

    #[test]
    fn gaussian_has_requested_scale() {
        let mut noise = Noise::Gaussian(GaussianNoise { sigma: vec![0.2] });
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 20_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        let mut out = [0.0];
        for _ in 0..n {
            noise.sample(&mut rng, &mut out);
            sum += out[0];
            sq += out[0] * out[0];
        }
        let mean = sum / n as f64;
        let sd = (sq / n as f64 - mean * mean).sqrt();
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((sd - 0.2).abs() < 0.01, "{sd}");
    }
}
