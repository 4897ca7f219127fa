//! Multi-layer perceptrons (candle-nn `Linear` layers, ReLU hidden activations) for the actor
//! and the critic, with host-side parameter copies used for soft updates, checkpoints and export.

use candle_core::{Device, Tensor, Var};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Host copy of an MLP's parameters.
///
/// `tensors` holds, per layer, the weights (row-major `[out][in]`, as candle's `Linear` and the
/// policy file store them) followed by the bias: `[w0, b0, w1, b1, …]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpParams {
    /// Layer widths from input to output, e.g. `[3, 64, 64, 1]`.
    pub sizes: Vec<usize>,
    /// `[w0, b0, w1, b1, …]`.
    pub tensors: Vec<Vec<f32>>,
}

impl MlpParams {
    /// Initialises like PyTorch's `nn.Linear` (weights and biases uniform in ±1/√fan_in), except
    /// the final layer, drawn uniform in ±`final_bound` (3e-3 in DDPG).
    pub fn init<R: Rng>(sizes: &[usize], final_bound: f32, rng: &mut R) -> Self {
        let layers = sizes.len() - 1;
        let mut tensors = Vec::with_capacity(2 * layers);
        for l in 0..layers {
            let (fan_in, fan_out) = (sizes[l], sizes[l + 1]);
            let bound = if l + 1 == layers {
                final_bound
            } else {
                1.0 / (fan_in as f32).sqrt()
            };
            let mut draw = |n: usize| -> Vec<f32> {
                (0..n).map(|_| rng.random_range(-bound..=bound)).collect()
            };
            tensors.push(draw(fan_in * fan_out));
            tensors.push(draw(fan_out));
        }
        Self {
            sizes: sizes.to_vec(),
            tensors,
        }
    }

    /// Shape of parameter tensor `i` (`(out, in)` for weights, `(out,)` as `(out, 0)` for biases).
    pub fn shape(&self, i: usize) -> Vec<usize> {
        let l = i / 2;
        if i % 2 == 0 {
            vec![self.sizes[l + 1], self.sizes[l]]
        } else {
            vec![self.sizes[l + 1]]
        }
    }

    /// Total number of scalars.
    pub fn num_params(&self) -> usize {
        self.tensors.iter().map(Vec::len).sum()
    }

    /// Polyak update `self ← τ·src + (1 − τ)·self` (the target-network soft update).
    pub fn soft_update_from(&mut self, src: &MlpParams, tau: f32) {
        for (t, s) in self.tensors.iter_mut().zip(&src.tensors) {
            for (x, &y) in t.iter_mut().zip(s) {
                *x = tau * y + (1.0 - tau) * *x;
            }
        }
    }

    /// Checks that the layer widths are `expected` and every tensor has the length its shape
    /// implies; returns what differs.
    pub fn check_shape(&self, expected: &[usize]) -> Result<(), String> {
        if self.sizes != expected {
            return Err(format!(
                "layer widths {:?}, expected {expected:?}",
                self.sizes
            ));
        }
        let layers = expected.len().saturating_sub(1);
        if self.tensors.len() != 2 * layers {
            return Err(format!(
                "{} parameter tensors, expected {}",
                self.tensors.len(),
                2 * layers
            ));
        }
        for (i, t) in self.tensors.iter().enumerate() {
            let want: usize = self.shape(i).iter().product();
            if t.len() != want {
                return Err(format!(
                    "parameter tensor {i} holds {} values, expected {want}",
                    t.len()
                ));
            }
        }
        Ok(())
    }

    /// True if every parameter is finite.
    pub fn is_finite(&self) -> bool {
        self.tensors.iter().flatten().all(|x| x.is_finite())
    }

    /// The parameters as one flat (untracked) candle tensor, `tensors` concatenated: the
    /// layout [`fused_mlp`](crate::fused_mlp) reads.
    pub fn to_flat(&self, device: &Device) -> candle_core::Result<Tensor> {
        Tensor::from_vec(self.tensors.concat(), self.num_params(), device)
    }

    /// `flat` (laid out like [`MlpParams::to_flat`]) cut into tensors shaped like these.
    pub fn split_flat(&self, flat: &[f32]) -> Vec<Vec<f32>> {
        let mut rest = flat;
        self.tensors
            .iter()
            .map(|t| {
                let (head, tail) = rest.split_at(t.len().min(rest.len()));
                rest = tail;
                head.to_vec()
            })
            .collect()
    }
}

/// An MLP as the candle graph sees it: its parameters in one flat tensor, its layer widths,
/// and whether gradients flow into the parameters.
#[derive(Debug, Clone)]
pub struct MlpTensors<'a> {
    /// Every parameter, laid out like [`MlpParams::to_flat`].
    pub theta: Tensor,
    /// Layer widths from input to output.
    pub sizes: &'a [usize],
    /// Whether the backward pass computes the parameters' gradient.
    pub param_grad: bool,
}

/// Forward pass of an MLP: linear layers with ReLU between them and no activation after the
/// last, as one fused candle operation ([`fused_mlp`](crate::fused_mlp)).
pub fn mlp_forward(net: &MlpTensors<'_>, x: &Tensor) -> candle_core::Result<Tensor> {
    crate::fused_mlp::forward(&net.theta, net.sizes, x, net.param_grad)
}

/// A trainable MLP: a candle variable (for autograd) mirrored by [`MlpParams`] on the host.
///
/// The host copy is the source of truth; [`TrainableMlp::sync_vars`] pushes it into the
/// variable after an optimiser step.
#[derive(Debug)]
pub struct TrainableMlp {
    /// Host parameters.
    pub params: MlpParams,
    var: Var,
    device: Device,
}

impl TrainableMlp {
    /// Wraps host parameters into a candle variable.
    pub fn new(params: MlpParams, device: &Device) -> candle_core::Result<Self> {
        let var = Var::from_tensor(&params.to_flat(device)?)?;
        Ok(Self {
            params,
            var,
            device: device.clone(),
        })
    }

    /// The variable holding every parameter (layout of [`MlpParams::to_flat`]).
    pub fn var(&self) -> &Var {
        &self.var
    }

    /// The network with its parameters tracked by autograd.
    pub fn tracked(&self) -> MlpTensors<'_> {
        MlpTensors {
            theta: self.var.as_tensor().clone(),
            sizes: &self.params.sizes,
            param_grad: true,
        }
    }

    /// The network with parameters sharing storage but not tracked (no gradients flow into
    /// them).
    pub fn detached(&self) -> MlpTensors<'_> {
        MlpTensors {
            theta: self.var.as_tensor().detach(),
            sizes: &self.params.sizes,
            param_grad: false,
        }
    }

    /// Copies the host parameters into the candle variable.
    pub fn sync_vars(&self) -> candle_core::Result<()> {
        self.var.set(&self.params.to_flat(&self.device)?)
    }
}

/// A target network: host parameters plus their candle tensor (rebuilt after each update).
#[derive(Debug)]
pub struct TargetMlp {
    /// Host parameters.
    pub params: MlpParams,
    theta: Tensor,
    device: Device,
}

impl TargetMlp {
    /// A target network initialised as an exact copy of `params`.
    pub fn new(params: MlpParams, device: &Device) -> candle_core::Result<Self> {
        let theta = params.to_flat(device)?;
        Ok(Self {
            params,
            theta,
            device: device.clone(),
        })
    }

    /// The network (untracked).
    pub fn weights(&self) -> MlpTensors<'_> {
        MlpTensors {
            theta: self.theta.clone(),
            sizes: &self.params.sizes,
            param_grad: false,
        }
    }

    /// Soft update `θ' ← τθ + (1 − τ)θ'` from the online parameters.
    pub fn soft_update(&mut self, online: &MlpParams, tau: f32) -> candle_core::Result<()> {
        self.params.soft_update_from(online, tau);
        self.theta = self.params.to_flat(&self.device)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn soft_update_matches_hand_numbers() {
        let src = MlpParams {
            sizes: vec![1, 1],
            tensors: vec![vec![1.0], vec![-2.0]],
        };
        let mut dst = MlpParams {
            sizes: vec![1, 1],
            tensors: vec![vec![0.0], vec![2.0]],
        };
        dst.soft_update_from(&src, 0.1);
        // 0.1·1 + 0.9·0 = 0.1; 0.1·(−2) + 0.9·2 = 1.6
        assert!((dst.tensors[0][0] - 0.1).abs() < 1e-7);
        assert!((dst.tensors[1][0] - 1.6).abs() < 1e-6);
        dst.soft_update_from(&src, 1.0);
        assert_eq!(dst, src);
    }

    #[test]
    fn target_starts_as_exact_copy_and_follows() {
        let dev = Device::Cpu;
        let p = MlpParams::init(&[3, 8, 8, 1], 3e-3, &mut ChaCha8Rng::seed_from_u64(0));
        let mut target = TargetMlp::new(p.clone(), &dev).unwrap();
        assert_eq!(target.params, p);
        let mut moved = p.clone();
        moved.tensors[0][0] += 1.0;
        target.soft_update(&moved, 0.5).unwrap();
        let w = target.weights().theta.to_vec1::<f32>().unwrap();
        assert!((w[0] - (p.tensors[0][0] + 0.5)).abs() < 1e-6);
        assert_eq!(w[1], p.tensors[0][1]);
    }

    #[test]
    fn init_bounds() {
        let p = MlpParams::init(&[4, 16, 2], 3e-3, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(p.tensors[0].iter().all(|x| x.abs() <= 0.5));
        assert!(p.tensors[2].iter().all(|x| x.abs() <= 3e-3));
        assert!(p.tensors[3].iter().all(|x| x.abs() <= 3e-3));
        assert_eq!(p.num_params(), 4 * 16 + 16 + 16 * 2 + 2);
        assert_eq!(p.shape(2), vec![2, 16]);
    }

    #[test]
    fn forward_is_linear_relu_linear() {
        let dev = Device::Cpu;
        let p = MlpParams {
            sizes: vec![2, 2, 1],
            tensors: vec![
                vec![1.0, 0.0, 0.0, -1.0],
                vec![0.0, 0.5],
                vec![2.0, 3.0],
                vec![0.25],
            ],
        };
        let x = Tensor::from_slice(&[1.0f32, 2.0], (1, 2), &dev).unwrap();
        let net = MlpTensors {
            theta: p.to_flat(&dev).unwrap(),
            sizes: &p.sizes,
            param_grad: false,
        };
        let y = mlp_forward(&net, &x).unwrap();
        // h = relu([1, −2 + 0.5]) = [1, 0]; y = 2·1 + 3·0 + 0.25
        assert_eq!(
            y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            vec![2.25]
        );
    }
}
