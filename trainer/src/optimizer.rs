//! Adam (Kingma & Ba 2015) on the host copies of the parameters, so that its moment estimates
//! are plain vectors that checkpoints can store and restore exactly.
//!
//! Same update as PyTorch's `Adam` / candle-nn's `AdamW` with weight decay 0:
//! `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
//! `θ ← θ − lr·(m / (1−β₁ᵗ)) / (√v / √(1−β₂ᵗ) + ε)`.

use crate::network::MlpParams;
use serde::{Deserialize, Serialize};

/// Adam hyperparameters and state for one network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// Exponential decay of the first moment.
    pub beta1: f64,
    /// Exponential decay of the second moment.
    pub beta2: f64,
    /// Denominator guard.
    pub eps: f64,
    /// Steps taken.
    pub t: u64,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl Adam {
    /// Zero moments shaped like `params`.
    pub fn new(params: &MlpParams, lr: f64, beta1: f64, beta2: f64, eps: f64) -> Self {
        let zeros: Vec<Vec<f32>> = params.tensors.iter().map(|t| vec![0.0; t.len()]).collect();
        Self {
            lr,
            beta1,
            beta2,
            eps,
            t: 0,
            m: zeros.clone(),
            v: zeros,
        }
    }

    /// One update of `params` with gradients `grads` (same layout as `params.tensors`).
    pub fn step(&mut self, params: &mut MlpParams, grads: &[Vec<f32>]) {
        self.t += 1;
        let t = self.t.min(i32::MAX as u64) as i32;
        let bc1 = 1.0 - self.beta1.powi(t);
        let bc2 = 1.0 - self.beta2.powi(t);
        let step_size = (self.lr / bc1) as f32;
        let inv_sqrt_bc2 = (1.0 / bc2.sqrt()) as f32;
        let (b1, b2, eps) = (self.beta1 as f32, self.beta2 as f32, self.eps as f32);
        for (((p, g), m), v) in params
            .tensors
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *p -= step_size * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
            }
        }
    }

    /// Checks that the moment estimates are shaped like `params` and the hyperparameters are
    /// usable; returns what differs.
    pub fn check_shape(&self, params: &MlpParams) -> Result<(), String> {
        for (name, moments) in [("first", &self.m), ("second", &self.v)] {
            let lens: Vec<usize> = moments.iter().map(Vec::len).collect();
            let want: Vec<usize> = params.tensors.iter().map(Vec::len).collect();
            if lens != want {
                return Err(format!(
                    "{name}-moment tensor lengths {lens:?}, expected {want:?}"
                ));
            }
        }
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        if !(ok(self.lr) && ok(self.beta1) && ok(self.beta2) && ok(self.eps)) {
            return Err("non-finite or negative hyperparameter".into());
        }
        Ok(())
    }

    /// True if every moment estimate is finite.
    pub fn is_finite(&self) -> bool {
        self.m
            .iter()
            .chain(&self.v)
            .flatten()
            .all(|x| x.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_candle_nn_adamw_without_weight_decay() {
        use candle_core::{Device, Tensor, Var};
        use candle_nn::{AdamW, Optimizer, ParamsAdamW};
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let init: Vec<f32> = (0..12).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut host = MlpParams {
            sizes: vec![1, 12],
            tensors: vec![init.clone()],
        };
        let dev = Device::Cpu;
        let var = Var::from_slice(&init, 12, &dev).unwrap();
        let params = ParamsAdamW {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        };
        let mut reference = AdamW::new(vec![var.clone()], params).unwrap();
        let mut ours = Adam::new(&host, 1e-2, 0.9, 0.999, 1e-8);
        for _ in 0..20 {
            // Loss Σ c_i·θ_i² with random c: gradient 2·c_i·θ_i, same for both.
            let c: Vec<f32> = (0..12).map(|_| rng.random_range(0.1..2.0)).collect();
            let ct = Tensor::from_slice(&c, 12, &dev).unwrap();
            let loss = var
                .as_tensor()
                .sqr()
                .unwrap()
                .mul(&ct)
                .unwrap()
                .sum_all()
                .unwrap();
            reference.backward_step(&loss).unwrap();
            let g: Vec<f32> = host.tensors[0]
                .iter()
                .zip(&c)
                .map(|(t, c)| 2.0 * c * t)
                .collect();
            ours.step(&mut host, &[g]);
        }
        let theirs = var.as_tensor().to_vec1::<f32>().unwrap();
        for (a, b) in host.tensors[0].iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn first_steps_match_hand_numbers() {
        let mut p = MlpParams {
            sizes: vec![1, 1],
            tensors: vec![vec![1.0], vec![0.0]],
        };
        let mut adam = Adam::new(&p, 0.1, 0.9, 0.999, 1e-8);
        // Step 1: m̂ = g, v̂ = g², so θ moves by lr·sign(g) (up to ε).
        adam.step(&mut p, &[vec![2.0], vec![-0.5]]);
        assert!((p.tensors[0][0] - 0.9).abs() < 1e-6);
        assert!((p.tensors[1][0] - 0.1).abs() < 1e-6);
        // Step 2 with g = 0 on the weight: m = 0.9·0.2 = 0.18, m̂ = 0.18/0.19;
        // v = 0.999·0.004 = 0.003996, v̂ = 0.003996/0.001999; Δ = 0.1·m̂/√v̂.
        adam.step(&mut p, &[vec![0.0], vec![0.0]]);
        let m_hat = 0.18 / 0.19;
        let v_hat = 0.003996f64 / (1.0 - 0.999f64.powi(2));
        let expect = 0.9 - 0.1 * m_hat / v_hat.sqrt();
        assert!(
            (p.tensors[0][0] as f64 - expect).abs() < 1e-5,
            "{}",
            p.tensors[0][0]
        );
    }
}
