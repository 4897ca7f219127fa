//! The whole multi-layer perceptron as one candle operation, forward and backward.
//!
//! At the trainer's sizes (batch 64, 64-64 hidden layers) a training step costs per candle
//! operation, not per multiply-add: an MLP built from `Linear` and `relu` is about ten graph
//! nodes forward and twenty backward, each with its allocation, reference counting and
//! dispatch. [`FusedMlp`] is one [`CustomOp2`] of `(x, θ)`, with `θ` every parameter of the
//! network in one flat tensor (`[W₀, b₀, W₁, b₁, …]`, each `W` row-major `[out][in]`, the
//! layout of [`MlpParams::tensors`](crate::network::MlpParams) concatenated). Its CPU kernels
//! are `gemm` calls (the crate candle's own CPU matmul uses) on the tensors' storage.
//!
//! The math, with `h₀ = x`, `zₗ = hₗ₋₁ Wₗᵀ + bₗ`, `hₗ = relu(zₗ)` for the hidden layers and
//! `y = z_L`:
//!
//! - backward from `g_L = ∂L/∂y`: `∂L/∂Wₗ = gₗᵀ hₗ₋₁`, `∂L/∂bₗ = Σ_rows gₗ`,
//!   `gₗ₋₁ = (gₗ Wₗ) ⊙ [hₗ₋₁ > 0]`, and `∂L/∂x = g₁ W₁`;
//! - the forward pass keeps `h₁ … h_{L−1}` for the backward pass (the ReLU masks and the
//!   weight gradients' inputs), so nothing is computed twice.
//!
//! The result equals candle's `Linear`/`relu` graph up to the order of floating-point sums
//! (a test checks values and gradients against it).

use std::sync::Mutex;

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};

/// The MLP forward pass as one candle operation of `(x [n × d₀], θ [P])`, output
/// `[n × d_L]`. One instance per application: it keeps that pass's hidden activations for
/// its backward pass.
pub struct FusedMlp {
    sizes: Vec<usize>,
    param_grad: bool,
    hidden: Mutex<Vec<f32>>,
}

impl FusedMlp {
    /// An MLP with layer widths `sizes` (input first, at least two entries). With
    /// `param_grad` false the backward pass returns no gradient for `θ` (a network used with
    /// detached weights) and skips its cost.
    pub fn new(sizes: &[usize], param_grad: bool) -> Self {
        Self {
            sizes: sizes.to_vec(),
            param_grad,
            hidden: Mutex::new(Vec::new()),
        }
    }

    /// Number of parameters, the length `θ` must have.
    pub fn num_params(sizes: &[usize]) -> usize {
        sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// Offsets of `Wₗ` and `bₗ` in `θ`, per layer.
    fn offsets(&self) -> Vec<(usize, usize)> {
        let mut at = 0;
        self.sizes
            .windows(2)
            .map(|w| {
                let (wo, bo) = (at, at + w[0] * w[1]);
                at = bo + w[1];
                (wo, bo)
            })
            .collect()
    }

    fn check_theta(&self, theta: &[f32]) -> candle_core::Result<()> {
        let want = Self::num_params(&self.sizes);
        if self.sizes.len() < 2 || theta.len() != want {
            candle_core::bail!(
                "fused MLP {:?}: {} parameters given, {want} expected",
                self.sizes,
                theta.len()
            );
        }
        Ok(())
    }

    /// The forward pass on host slices: returns `y` and writes the hidden activations.
    fn forward(&self, x: &[f32], n: usize, theta: &[f32], hidden: &mut Vec<f32>) -> Vec<f32> {
        let layers = self.sizes.len() - 1;
        let hidden_len: usize = self.sizes[1..layers].iter().map(|&d| n * d).sum();
        hidden.clear();
        hidden.resize(hidden_len, 0.0);
        let mut y = vec![0.0; n * self.sizes[layers]];
        let mut h_at = 0;
        for (l, (wo, bo)) in self.offsets().into_iter().enumerate() {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            let (done, rest) = hidden.split_at_mut(h_at);
            let input = if l == 0 { x } else { &done[h_at - n * din..] };
            let out = if l + 1 == layers {
                &mut y[..]
            } else {
                &mut rest[..n * dout]
            };
            let w = &theta[wo..wo + dout * din];
            let b = &theta[bo..bo + dout];
            for row in out.chunks_exact_mut(dout) {
                row.copy_from_slice(b);
            }
            // out += input · Wᵀ
            gemm_acc(
                out,
                (n, dout),
                Mat::row_major(input, n, din),
                Mat::transposed(w, dout, din),
            );
            if l + 1 < layers {
                out.iter_mut().for_each(|v| *v = v.max(0.0));
                h_at += n * dout;
            }
        }
        y
    }

    /// The backward pass on host slices: `(∂L/∂x, ∂L/∂θ)` from `g = ∂L/∂y`.
    fn backward(
        &self,
        x: &[f32],
        n: usize,
        theta: &[f32],
        grad_y: &[f32],
    ) -> candle_core::Result<(Vec<f32>, Vec<f32>)> {
        let hidden = self
            .hidden
            .lock()
            .map_err(|_| candle_core::Error::Msg("fused MLP cache poisoned".into()))?;
        let mut grad_theta = vec![0.0; if self.param_grad { theta.len() } else { 0 }];
        let mut g = grad_y.to_vec();
        let mut h_end = hidden.len();
        for (l, (wo, bo)) in self.offsets().into_iter().enumerate().rev() {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            let input = if l == 0 {
                x
            } else {
                &hidden[h_end - n * din..h_end]
            };
            if self.param_grad {
                // ∂L/∂W = gᵀ · input, ∂L/∂b = Σ_rows g.
                gemm_acc(
                    &mut grad_theta[wo..wo + dout * din],
                    (dout, din),
                    Mat::transposed(&g, n, dout),
                    Mat::row_major(input, n, din),
                );
                let gb = &mut grad_theta[bo..bo + dout];
                for row in g.chunks_exact(dout) {
                    gb.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                }
            }
            // g ← (g · W) ⊙ [input > 0] (no mask for ∂L/∂x).
            let mut prev = vec![0.0; n * din];
            gemm_acc(
                &mut prev,
                (n, din),
                Mat::row_major(&g, n, dout),
                Mat::row_major(&theta[wo..wo + dout * din], dout, din),
            );
            if l > 0 {
                prev.iter_mut()
                    .zip(input)
                    .for_each(|(p, &h)| *p = if h > 0.0 { *p } else { 0.0 });
                h_end -= n * din;
            }
            g = prev;
        }
        Ok((g, grad_theta))
    }
}

/// A matrix view for [`gemm_acc`]: `rows × cols`, element `(r, c)` at
/// `data[r·row_stride + c·col_stride]`.
#[derive(Clone, Copy)]
struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Mat<'a> {
    /// `data` as a row-major `rows × cols` matrix.
    fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of `data` stored row-major as `rows × cols`: a `cols × rows` matrix.
    fn transposed(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows: cols,
            cols: rows,
            row_stride: 1,
            col_stride: cols,
        }
    }

    /// True when every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// `dst += lhs · rhs` with `dst` row-major `m × n`, single-threaded.
///
/// # Panics
/// If the shapes do not chain or a view reaches outside its slice (a bug in this module:
/// every caller passes the sizes it allocated).
#[allow(unsafe_code)]
fn gemm_acc(dst: &mut [f32], (m, n): (usize, usize), lhs: Mat<'_>, rhs: Mat<'_>) {
    let k = lhs.cols;
    assert!(
        lhs.rows == m && rhs.rows == k && rhs.cols == n && dst.len() == m * n,
        "gemm shapes: dst {m}×{n}, lhs {}×{}, rhs {}×{}",
        lhs.rows,
        lhs.cols,
        rhs.rows,
        rhs.cols
    );
    assert!(
        lhs.in_bounds() && rhs.in_bounds(),
        "gemm view out of bounds"
    );
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let s = |v: usize| v as isize;
    // SAFETY: the assertions above check that every element gemm reads (`lhs`, `rhs`:
    // (rows − 1)·row stride + (cols − 1)·column stride inside the slice) and writes (`dst`:
    // exactly m × n, row-major) lies inside its slice; `dst` is borrowed mutably, so it does
    // not alias the inputs; the call is single-threaded.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            s(n),
            true,
            lhs.data.as_ptr(),
            s(lhs.col_stride),
            s(lhs.row_stride),
            rhs.data.as_ptr(),
            s(rhs.col_stride),
            s(rhs.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// A tensor's values, flattened, on the host (for the small custom operations' backward
/// passes).
pub(crate) fn host_values(t: &Tensor) -> candle_core::Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

/// The contiguous `f32` slice of a CPU tensor argument.
pub(crate) fn slice<'a>(
    s: &'a CpuStorage,
    l: &Layout,
    what: &str,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        candle_core::bail!("fused MLP: {what} must be f32");
    };
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&v[start..end]),
        None => candle_core::bail!("fused MLP: {what} must be contiguous"),
    }
}

/// The batch size of `x`, checked against the input width.
fn batch(l: &Layout, d0: usize) -> candle_core::Result<usize> {
    match l.dims() {
        &[n, d] if d == d0 => Ok(n),
        dims => candle_core::bail!("fused MLP: input of shape {dims:?}, expected [n, {d0}]"),
    }
}

impl CustomOp2 for FusedMlp {
    fn name(&self) -> &'static str {
        "fused-mlp"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, theta) = (slice(s1, l1, "input")?, slice(s2, l2, "parameters")?);
        self.check_theta(theta)?;
        let n = batch(l1, self.sizes[0])?;
        let mut hidden = self
            .hidden
            .lock()
            .map_err(|_| candle_core::Error::Msg("fused MLP cache poisoned".into()))?;
        let y = self.forward(x, n, theta, &mut hidden);
        let out = *self.sizes.last().unwrap_or(&0);
        Ok((CpuStorage::F32(y), Shape::from((n, out))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        theta: &Tensor,
        _y: &Tensor,
        grad_y: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let n = x.dim(0)?;
        let d0 = self.sizes[0];
        let p = theta.elem_count();
        let both = x.apply_op3_no_bwd(theta, &grad_y.contiguous()?, &Backward(self))?;
        let grad_x = both.narrow(0, 0, n * d0)?.reshape((n, d0))?;
        let grad_theta = self
            .param_grad
            .then(|| both.narrow(0, n * d0, p))
            .transpose()?;
        Ok((Some(grad_x), grad_theta))
    }
}

/// The backward pass as a candle operation of `(x, θ, ∂L/∂y)`: one flat output holding
/// `∂L/∂x` then (with parameter gradients) `∂L/∂θ`.
struct Backward<'a>(&'a FusedMlp);

impl CustomOp3 for Backward<'_> {
    fn name(&self) -> &'static str {
        "fused-mlp-backward"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let op = self.0;
        let (x, theta) = (slice(s1, l1, "input")?, slice(s2, l2, "parameters")?);
        let grad_y = slice(s3, l3, "output gradient")?;
        op.check_theta(theta)?;
        let n = batch(l1, op.sizes[0])?;
        let (mut grad_x, grad_theta) = op.backward(x, n, theta, grad_y)?;
        grad_x.extend_from_slice(&grad_theta);
        let len = grad_x.len();
        Ok((CpuStorage::F32(grad_x), Shape::from(len)))
    }
}

/// `y = MLP(x)` for parameters `theta` (flat, see the module doc) and layer widths `sizes`,
/// as one operation; gradients flow to `x` and, when `param_grad`, to `theta`.
pub fn forward(
    theta: &Tensor,
    sizes: &[usize],
    x: &Tensor,
    param_grad: bool,
) -> candle_core::Result<Tensor> {
    x.contiguous()?
        .apply_op2(theta, FusedMlp::new(sizes, param_grad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};
    use candle_nn::{Linear, Module};
    use rand::{Rng, SeedableRng};

    fn random(n: usize, rng: &mut impl Rng) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    /// candle's `Linear`/`relu` graph on per-layer tensors cut from `theta`.
    fn reference(theta: &Tensor, sizes: &[usize], x: &Tensor) -> Tensor {
        let mut h = x.clone();
        let mut at = 0;
        for (l, w) in sizes.windows(2).enumerate() {
            let wt = theta
                .narrow(0, at, w[0] * w[1])
                .unwrap()
                .reshape((w[1], w[0]));
            at += w[0] * w[1];
            let b = theta.narrow(0, at, w[1]).unwrap();
            at += w[1];
            h = Linear::new(wt.unwrap(), Some(b)).forward(&h).unwrap();
            if l + 2 < sizes.len() {
                h = h.relu().unwrap();
            }
        }
        h
    }

    fn close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                "{what}[{i}]: fused {x}, candle {y}"
            );
        }
    }

    fn flat(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    /// Values and both gradients equal candle's graph (to rounding) for the actor and
    /// critic shapes, a deeper net, a batch of one, and a loss that is not a plain sum.
    #[test]
    fn matches_candles_graph_forward_and_backward() {
        let dev = Device::Cpu;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for (sizes, n) in [
            (vec![3, 64, 64, 1], 64),
            (vec![4, 64, 64, 1], 64),
            (vec![4, 256, 256, 1], 128),
            (vec![5, 7, 3, 6, 2], 9),
            (vec![3, 64, 64, 1], 1),
            (vec![2, 1], 3),
        ] {
            let p = FusedMlp::num_params(&sizes);
            let theta = Var::from_vec(random(p, &mut rng), p, &dev).unwrap();
            let x = Var::from_vec(random(n * sizes[0], &mut rng), (n, sizes[0]), &dev).unwrap();
            let target = Tensor::from_vec(
                random(n * sizes[sizes.len() - 1], &mut rng),
                (n, sizes[sizes.len() - 1]),
                &dev,
            )
            .unwrap();
            let loss = |y: &Tensor| y.sub(&target).unwrap().sqr().unwrap().mean_all().unwrap();
            let yf = forward(theta.as_tensor(), &sizes, x.as_tensor(), true).unwrap();
            let yr = reference(theta.as_tensor(), &sizes, x.as_tensor());
            close(&flat(&yf), &flat(&yr), "y");
            let (gf, gr) = (loss(&yf).backward().unwrap(), loss(&yr).backward().unwrap());
            for (v, what) in [(theta.as_tensor(), "dθ"), (x.as_tensor(), "dx")] {
                close(&flat(gf.get(v).unwrap()), &flat(gr.get(v).unwrap()), what);
            }
            // Detached weights: no θ gradient, the same x gradient.
            let yd = forward(&theta.as_tensor().detach(), &sizes, x.as_tensor(), false).unwrap();
            let gd = loss(&yd).backward().unwrap();
            assert!(gd.get(theta.as_tensor()).is_none());
            close(
                &flat(gd.get(x.as_tensor()).unwrap()),
                &flat(gr.get(x.as_tensor()).unwrap()),
                "dx (detached θ)",
            );
        }
    }

    #[test]
    fn wrong_shapes_are_errors_not_panics() {
        let dev = Device::Cpu;
        let theta = Tensor::zeros(
            FusedMlp::num_params(&[3, 4, 1]),
            candle_core::DType::F32,
            &dev,
        )
        .unwrap();
        let x = Tensor::zeros((2, 3), candle_core::DType::F32, &dev).unwrap();
        assert!(forward(&theta, &[3, 4, 2], &x, false).is_err());
        assert!(forward(&theta, &[2, 4, 1], &x, false).is_err());
        assert!(forward(&theta, &[3, 4, 1], &x, false).is_ok());
    }
}
