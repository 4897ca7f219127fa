//! Shared helpers of the integration tests: random policies, encoding, an f64 reference.
#![allow(dead_code)]

use policy_runtime::Shape;
use policy_runtime::format::{self, LayerSpec, PolicySpec};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

/// A policy with owned row-major weights.
#[derive(Debug, Clone)]
pub struct RawPolicy {
    pub shape: Shape,
    pub offset: Option<Vec<f32>>,
    pub scale: Option<Vec<f32>>,
    /// Per layer: (weights row-major [out][in], bias).
    pub layers: [(Vec<f32>, Vec<f32>); 3],
    pub low: Vec<f32>,
    pub high: Vec<f32>,
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

impl RawPolicy {
    /// Random weights scaled like a trained network (uniform ±1/sqrt(fan_in)).
    pub fn random(shape: Shape, normalization: bool, seed: u64) -> Self {
        let mut rng = rng(seed);
        let dims = [shape.obs, shape.hidden1, shape.hidden2, shape.act];
        let layers = [0, 1, 2].map(|l| {
            let (i, o) = (dims[l], dims[l + 1]);
            let r = 1.0 / (i as f32).sqrt();
            let w = (0..i * o).map(|_| rng.random_range(-r..r)).collect();
            let b = (0..o).map(|_| rng.random_range(-r..r)).collect();
            (w, b)
        });
        let (offset, scale) = if normalization {
            (
                Some(
                    (0..shape.obs)
                        .map(|_| rng.random_range(-1.0..1.0))
                        .collect(),
                ),
                Some((0..shape.obs).map(|_| rng.random_range(0.1..3.0)).collect()),
            )
        } else {
            (None, None)
        };
        let low: Vec<f32> = (0..shape.act)
            .map(|_| rng.random_range(-3.0..-0.5))
            .collect();
        let high = low.iter().map(|l| l + rng.random_range(0.5..5.0)).collect();
        Self {
            shape,
            offset,
            scale,
            layers,
            low,
            high,
        }
    }

    pub fn spec(&self) -> PolicySpec<'_> {
        let dims = [
            self.shape.obs,
            self.shape.hidden1,
            self.shape.hidden2,
            self.shape.act,
        ];
        PolicySpec {
            obs_offset: self.offset.as_deref(),
            obs_scale: self.scale.as_deref(),
            layers: [0, 1, 2].map(|l| LayerSpec {
                in_dim: dims[l],
                out_dim: dims[l + 1],
                weights: &self.layers[l].0,
                bias: &self.layers[l].1,
            }),
            action_low: &self.low,
            action_high: &self.high,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let spec = self.spec();
        let mut buf = vec![0u8; format::encoded_len(&spec).unwrap()];
        let n = format::encode(&spec, &mut buf).unwrap();
        assert_eq!(n, buf.len());
        buf
    }

    /// Layer `l` as nested row-major arrays.
    pub fn weights<const IN: usize, const OUT: usize>(&self, l: usize) -> [[f32; IN]; OUT] {
        let w = &self.layers[l].0;
        std::array::from_fn(|o| std::array::from_fn(|i| w[o * IN + i]))
    }

    pub fn array<const N: usize>(v: &[f32]) -> [f32; N] {
        v.try_into().unwrap()
    }

    /// Plain f64 forward pass of the same network.
    pub fn reference(&self, obs: &[f32]) -> Vec<f64> {
        let mut x: Vec<f64> = obs.iter().map(|&v| f64::from(v)).collect();
        if let (Some(off), Some(sc)) = (&self.offset, &self.scale) {
            for ((x, &o), &s) in x.iter_mut().zip(off).zip(sc) {
                *x = (*x - f64::from(o)) * f64::from(s);
            }
        }
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let n_in = x.len();
            let y: Vec<f64> = b
                .iter()
                .enumerate()
                .map(|(o, &bias)| {
                    let s: f64 = (0..n_in)
                        .map(|i| f64::from(w[o * n_in + i]) * x[i])
                        .sum::<f64>()
                        + f64::from(bias);
                    if l < 2 { s.max(0.0) } else { s.tanh() }
                })
                .collect();
            x = y;
        }
        x.iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(&t, (&lo, &hi))| {
                let (lo, hi) = (f64::from(lo), f64::from(hi));
                lo + (t + 1.0) * 0.5 * (hi - lo)
            })
            .collect()
    }
}

pub const fn shape(obs: usize, hidden1: usize, hidden2: usize, act: usize) -> Shape {
    Shape {
        obs,
        hidden1,
        hidden2,
        act,
    }
}

/// `format::encode_int8` into a vector of exactly the written length (without the `alloc`
/// feature's `encode_int8_to_vec`).
pub fn encode_int8(
    file: &policy_runtime::format::Int8File<'_>,
) -> Result<Vec<u8>, policy_runtime::EncodeError> {
    let mut buf = vec![0u8; 1 << 20];
    let n = policy_runtime::format::encode_int8(file, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}
