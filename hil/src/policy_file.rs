//! Policy files for plumbing tests and the benchmark: random weights written through the
//! runtime's own encoder.

use policy_runtime::Shape;
use policy_runtime::format::{self, LayerSpec, PolicySpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

use crate::HilError;

/// Encodes a policy with uniform random weights (Glorot-like scale, seeded) and action bounds
/// `[-2, 2]` (the pendulum's torque limit).
pub fn random_policy(dims: Shape, seed: u64) -> Result<Vec<u8>, HilError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut layer = |i: usize, o: usize| -> (Vec<f32>, Vec<f32>) {
        let bound = (6.0 / (i + o) as f32).sqrt();
        let u = Uniform::new(-bound, bound).expect("bound is positive");
        let w = (0..i * o).map(|_| u.sample(&mut rng)).collect();
        let b = (0..o).map(|_| u.sample(&mut rng) * 0.1).collect();
        (w, b)
    };
    let (w1, b1) = layer(dims.obs, dims.hidden1);
    let (w2, b2) = layer(dims.hidden1, dims.hidden2);
    let (w3, b3) = layer(dims.hidden2, dims.act);
    let low = vec![-2.0f32; dims.act];
    let high = vec![2.0f32; dims.act];
    let spec = PolicySpec {
        obs_offset: None,
        obs_scale: None,
        layers: [
            LayerSpec {
                in_dim: dims.obs,
                out_dim: dims.hidden1,
                weights: &w1,
                bias: &b1,
            },
            LayerSpec {
                in_dim: dims.hidden1,
                out_dim: dims.hidden2,
                weights: &w2,
                bias: &b2,
            },
            LayerSpec {
                in_dim: dims.hidden2,
                out_dim: dims.act,
                weights: &w3,
                bias: &b3,
            },
        ],
        action_low: &low,
        action_high: &high,
    };
    format::encode_to_vec(&spec).map_err(HilError::from)
}

/// The shape of a policy file (f32 or int8), validated by the runtime's decoder.
pub fn shape_of(bytes: &[u8]) -> Result<Shape, HilError> {
    if format::precision_of(bytes) == Some(policy_runtime::Precision::Int8) {
        return format::decode_int8(bytes)
            .map(|v| v.shape())
            .map_err(HilError::from);
    }
    format::decode(bytes)
        .map(|v| v.shape())
        .map_err(HilError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_policy_decodes_with_its_dims() {
        let dims = Shape {
            obs: 3,
            hidden1: 8,
            hidden2: 5,
            act: 1,
        };
        let bytes = random_policy(dims, 1).unwrap();
        assert_eq!(shape_of(&bytes).unwrap(), dims);
        assert_eq!(random_policy(dims, 1).unwrap(), bytes);
        assert_ne!(random_policy(dims, 2).unwrap(), bytes);
        assert!(shape_of(&bytes[..bytes.len() - 1]).is_err());
    }
}
