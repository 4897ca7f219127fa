//! The actor's output head `a = mid + half·tanh(z)` as one candle operation.
//!
//! Written with candle's ops it is three graph nodes forward (`tanh`, `broadcast_mul`,
//! `broadcast_add`) and three backward, each with its allocation; at the trainer's sizes
//! (64–128 rows, one action) that bookkeeping costs more than the arithmetic. The backward
//! pass is `∂L/∂z = ∂L/∂a · half·(1 − tanh²z)`, with `tanh z` recomputed from `z` so it is the
//! forward pass's value exactly.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use crate::fused_mlp::{host_values, slice};

/// `mid + half·tanh(z)` per action column, for `z` of shape `[n × a]`.
#[derive(Debug, Clone)]
pub struct ActionHead {
    mid: Vec<f32>,
    half: Vec<f32>,
}

impl ActionHead {
    /// A head mapping each column `j` to `mid[j] ± half[j]`.
    pub fn new(mid: Vec<f32>, half: Vec<f32>) -> Self {
        Self { mid, half }
    }

    /// `mid + half·tanh(z)`, with gradients flowing to `z`.
    pub fn apply(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        z.contiguous()?.apply_op1(self.clone())
    }

    fn check(&self, l: &Layout) -> candle_core::Result<usize> {
        match l.dims() {
            &[_, a] if a == self.half.len() && a == self.mid.len() => Ok(a),
            dims => candle_core::bail!(
                "action head: input of shape {dims:?}, expected [n, {}]",
                self.half.len()
            ),
        }
    }
}

impl CustomOp1 for ActionHead {
    fn name(&self) -> &'static str {
        "action-head"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let a = self.check(l)?;
        let z = slice(s, l, "pre-activation")?;
        let y: Vec<f32> = z
            .chunks_exact(a)
            .flat_map(|row| {
                row.iter()
                    .zip(self.mid.iter().zip(&self.half))
                    .map(|(&v, (&m, &h))| m + h * v.tanh())
            })
            .collect();
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, z: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let (n, a) = z.dims2()?;
        let (zs, gs) = (host_values(z)?, host_values(grad)?);
        let dz: Vec<f32> = zs
            .chunks_exact(a)
            .zip(gs.chunks_exact(a))
            .flat_map(|(zr, gr)| {
                zr.iter().zip(gr).zip(&self.half).map(|((&v, &g), &h)| {
                    let t = v.tanh();
                    g * h * (1.0 - t * t)
                })
            })
            .collect();
        Ok(Some(Tensor::from_vec(dz, (n, a), z.device())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Value and gradient equal candle's `tanh`/`broadcast_mul`/`broadcast_add` graph.
    #[test]
    fn matches_candles_ops() {
        let dev = Device::Cpu;
        let zv: Vec<f32> = (0..12).map(|i| (i as f32 - 6.0) * 0.7).collect();
        let (mid, half) = (vec![0.5f32, -1.0], vec![2.0f32, 0.25]);
        let z = Var::from_slice(&zv, (6, 2), &dev).unwrap();
        let w = Tensor::from_slice(&[1.0f32, -2.0, 3.0, 0.5, -1.5, 2.5], (6, 1), &dev).unwrap();
        let head = ActionHead::new(mid.clone(), half.clone());
        let ours = head.apply(z.as_tensor()).unwrap();
        let m = Tensor::from_slice(&mid, (1, 2), &dev).unwrap();
        let h = Tensor::from_slice(&half, (1, 2), &dev).unwrap();
        let theirs = z
            .as_tensor()
            .tanh()
            .unwrap()
            .broadcast_mul(&h)
            .unwrap()
            .broadcast_add(&m)
            .unwrap();
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(flat(&ours), flat(&theirs));
        let grad_of = |y: &Tensor| {
            let loss = y.broadcast_mul(&w).unwrap().sum_all().unwrap();
            flat(loss.backward().unwrap().get(z.as_tensor()).unwrap())
        };
        for (a, b) in grad_of(&ours).iter().zip(grad_of(&theirs)) {
            assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn a_wrong_width_is_an_error() {
        let z = Tensor::zeros((4, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
        let err = ActionHead::new(vec![0.0], vec![1.0]).apply(&z).unwrap_err();
        assert!(err.to_string().contains("expected [n, 1]"), "{err}");
    }
}
