//! Policy files for plumbing tests and the benchmark: random weights written through the
//! runtime's own encoder.

use policy_runtime::format::{self, LayerSpec, PolicySpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

use crate::HilError;

/// Network dimensions `obs-h1-h2-act`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Observation size.
    pub obs: usize,
    /// First hidden layer width.
    pub h1: usize,
    /// Second hidden layer width.
    pub h2: usize,
    /// Action size.
    pub act: usize,
}

impl Dims {
    /// Multiply-adds of one forward pass.
    pub fn multiply_adds(&self) -> usize {
        self.obs * self.h1 + self.h1 * self.h2 + self.h2 * self.act
    }
}

impl std::fmt::Display for Dims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}-{}", self.obs, self.h1, self.h2, self.act)
    }
}

/// Encodes a policy with uniform random weights (Glorot-like scale, seeded) and action bounds
/// `[-2, 2]` (the pendulum's torque limit).
pub fn random_policy(dims: Dims, seed: u64) -> Result<Vec<u8>, HilError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layer = |i: usize, o: usize| -> (Vec<f32>, Vec<f32>) {
        let bound = (6.0 / (i + o) as f32).sqrt();
        let u = Uniform::new(-bound, bound).expect("bound is positive");
        let w = (0..i * o).map(|_| u.sample(&mut rng)).collect();
        let b = (0..o).map(|_| u.sample(&mut rng) * 0.1).collect();
        (w, b)
    };
    let (w1, b1) = layer(dims.obs, dims.h1);
    let (w2, b2) = layer(dims.h1, dims.h2);
    let (w3, b3) = layer(dims.h2, dims.act);
    let low = vec![-2.0f32; dims.act];
    let high = vec![2.0f32; dims.act];
    let spec = PolicySpec {
        obs_offset: None,
        obs_scale: None,
        layers: [
            LayerSpec {
                in_dim: dims.obs,
                out_dim: dims.h1,
                weights: &w1,
                bias: &b1,
            },
            LayerSpec {
                in_dim: dims.h1,
                out_dim: dims.h2,
                weights: &w2,
                bias: &b2,
            },
            LayerSpec {
                in_dim: dims.h2,
                out_dim: dims.act,
                weights: &w3,
                bias: &b3,
            },
        ],
        action_low: &low,
        action_high: &high,
    };
    let len = format::encoded_len(&spec).map_err(|e| HilError::Encode(e.to_string()))?;
    let mut out = vec![0u8; len];
    let n = format::encode(&spec, &mut out).map_err(|e| HilError::Encode(e.to_string()))?;
    out.truncate(n);
    Ok(out)
}

/// Dimensions of a policy file, validated by the runtime's decoder.
pub fn dims_of(bytes: &[u8]) -> Result<Dims, HilError> {
    let view = format::decode(bytes).map_err(|e| HilError::Policy(e.to_string()))?;
    let (h1, h2) = view.hidden();
    Ok(Dims {
        obs: view.obs_dim(),
        h1,
        h2,
        act: view.act_dim(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_policy_decodes_with_its_dims() {
        let dims = Dims {
            obs: 3,
            h1: 8,
            h2: 5,
            act: 1,
        };
        let bytes = random_policy(dims, 1).unwrap();
        assert_eq!(dims_of(&bytes).unwrap(), dims);
        assert_eq!(random_policy(dims, 1).unwrap(), bytes);
        assert_ne!(random_policy(dims, 2).unwrap(), bytes);
        assert!(dims_of(&bytes[..bytes.len() - 1]).is_err());
    }
}
