//! The critic's regression loss as one candle operation.
//!
//! `mean (q − y)²` written with candle's ops is three graph nodes forward (`sub`, `sqr`,
//! `mean_all`) and three backward; [`mean_squared_error`] is one node with the backward pass
//! `∂L/∂q = 2(q − y)/n`. The target `y` is a constant (no gradient flows to it).

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};

use crate::fused_mlp::{host_values, slice};

/// `mean (q − y)²` over all elements of two tensors of the same shape, as a scalar tensor;
/// gradients flow to `q` only.
pub fn mean_squared_error(q: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    q.contiguous()?
        .apply_op2(&y.contiguous()?, MeanSquaredError)
}

struct MeanSquaredError;

impl CustomOp2 for MeanSquaredError {
    fn name(&self) -> &'static str {
        "mean-squared-error"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if l1.dims() != l2.dims() {
            candle_core::bail!(
                "mean squared error: values {:?} and targets {:?} differ in shape",
                l1.dims(),
                l2.dims()
            );
        }
        let (q, y) = (slice(s1, l1, "values")?, slice(s2, l2, "targets")?);
        let sum: f32 = q.iter().zip(y).map(|(q, y)| (q - y) * (q - y)).sum();
        let loss = sum / q.len().max(1) as f32;
        Ok((CpuStorage::F32(vec![loss]), Shape::from(())))
    }

    fn bwd(
        &self,
        q: &Tensor,
        y: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let g = grad.to_scalar::<f32>()?;
        let (qv, yv) = (host_values(q)?, host_values(y)?);
        let c = 2.0 * g / qv.len().max(1) as f32;
        let dq: Vec<f32> = qv.iter().zip(&yv).map(|(q, y)| c * (q - y)).collect();
        Ok((Some(Tensor::from_vec(dq, q.shape(), q.device())?), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn matches_candles_ops() {
        let dev = Device::Cpu;
        let qv: Vec<f32> = (0..8).map(|i| (i as f32 - 3.5) * 0.9).collect();
        let yv: Vec<f32> = (0..8).map(|i| ((i * 5 % 7) as f32 - 3.0) * 0.4).collect();
        let q = Var::from_slice(&qv, (8, 1), &dev).unwrap();
        let y = Tensor::from_slice(&yv, (8, 1), &dev).unwrap();
        let ours = mean_squared_error(q.as_tensor(), &y).unwrap();
        let theirs = q
            .as_tensor()
            .sub(&y)
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap();
        let (a, b) = (
            ours.to_scalar::<f32>().unwrap(),
            theirs.to_scalar::<f32>().unwrap(),
        );
        assert!((a - b).abs() <= 1e-6 * b.abs(), "{a} vs {b}");
        let grad = |l: &Tensor| {
            let g = l.backward().unwrap();
            g.get(q.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        for (x, y) in grad(&ours).iter().zip(grad(&theirs)) {
            assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    #[test]
    fn different_shapes_are_an_error() {
        let dev = Device::Cpu;
        let q = Tensor::zeros((4, 1), candle_core::DType::F32, &dev).unwrap();
        let y = Tensor::zeros((5, 1), candle_core::DType::F32, &dev).unwrap();
        let err = mean_squared_error(&q, &y).unwrap_err().to_string();
        assert!(err.contains("differ in shape"), "{err}");
    }
}
