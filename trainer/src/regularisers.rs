//! The actor's regulariser terms, their gradient split by rows, and their loss as one candle
//! operation.
//!
//! The terms, each on `n` batch rows with actions `μ(s)` scaled by the half-range `h`:
//!
//! - oddness, weight `w_o`: `w_o·mean ((μ(s) + μ(mirror s)) / h)²`;
//! - spatial smoothness (CAPS), weight `w_x`: `w_x·mean |μ(s) − μ(s + ε)| / h`;
//! - temporal smoothness (CAPS), weight `w_t`: `w_t·mean |μ(s) − μ(s')| / h`.
//!
//! **The split by rows.** The loss depends on the batch rows `μ(s)` and on the other rows
//! `μ(mirror s)`, `μ(s + ε)`, `μ(s')`. By the chain rule its gradient with respect to the
//! actor's weights is the sum of two parts: through the batch rows with the other rows held
//! at their values, and through the other rows with the batch rows held at theirs. The second
//! part needs only the update's starting actor weights, so [`Regularisers::start`] runs it
//! beside the critic's step (on the [`Worker`]). The same job computes the batch rows'
//! actions μ(s) with their graph, and sends them and the other rows' values as soon as its
//! forward passes are done; the first part joins the Q term's backward pass
//! ([`Ddpg::update`](crate::ddpg::Ddpg::update)). The sum equals the gradient of the loss
//! taken in one pass, to float rounding (the update test checks it against candle's
//! per-layer graph).
//!
//! **The loss as one operation.** [`RegLoss`] computes all the terms from `μ(s)` and the
//! stacked other rows in one candle node with its own backward pass, instead of about twenty
//! nodes of `add`/`sub`/`abs`/`sqr`/`mean`/`affine`, whose bookkeeping cost more than their
//! arithmetic at these sizes. `|x|`'s derivative is taken as `+1` at `x = 0`, as candle's.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use candle_core::{CpuStorage, CustomOp2, Device, Layout, Shape, Tensor};
use rand::{Rng, SeedableRng};

use crate::action_head::ActionHead;
use crate::config::TrainConfig;
use crate::denormals::FlushDenormals;
use crate::fused_mlp::{host_values, slice};
use crate::network::{MlpTensors, mlp_forward};
use crate::worker::{Pending, Worker};

/// The configured terms, and what their pass needs (owned, so it can run on the worker).
#[derive(Debug, Clone)]
pub(crate) struct Regularisers {
    head: ActionHead,
    /// Half-range of each action \[N·m\].
    half: Vec<f32>,
    /// `(1, −1, −1)`: the mirror image of a normalised observation (oddness term).
    pub(crate) mirror_sign: Tensor,
    pub(crate) odd_weight: f64,
    pub(crate) smooth_weight: f64,
    pub(crate) spatial_weight: f64,
    /// Fixed perturbations (batch × obs, normal with σ = `spatial_smoothness_sigma`) for the
    /// spatial smoothness term, drawn once from the run's seed.
    pub(crate) spatial_eps: Tensor,
}

/// How one block of other rows enters the loss.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Term {
    /// `((μ + o) / h)²`.
    Odd,
    /// `|μ − o| / h`.
    Jump,
}

impl Regularisers {
    /// The terms of `config` for observations of width `obs_dim` and actions in
    /// `mid ± half`.
    pub(crate) fn new(
        config: &TrainConfig,
        obs_dim: usize,
        mid: &[f32],
        half: &[f32],
        device: &Device,
    ) -> candle_core::Result<Self> {
        let sign: Vec<f32> = (0..obs_dim)
            .map(|i| if i == 0 { 1.0 } else { -1.0 })
            .collect();
        Ok(Self {
            head: ActionHead::new(mid.to_vec(), half.to_vec()),
            half: half.to_vec(),
            mirror_sign: Tensor::from_slice(&sign, (1, obs_dim), device)?,
            odd_weight: config.odd_policy_weight,
            smooth_weight: config.smoothness_weight,
            spatial_weight: config.spatial_smoothness_weight,
            spatial_eps: spatial_perturbations(config, obs_dim, device)?,
        })
    }

    /// True when some term has a positive weight.
    pub(crate) fn any(&self) -> bool {
        self.odd_weight > 0.0 || self.smooth_weight > 0.0 || self.spatial_weight > 0.0
    }

    /// Whether the spatial term applies to a batch of `n` rows (its perturbations match `n`).
    fn spatial_on(&self, n: usize) -> bool {
        self.spatial_weight > 0.0 && self.spatial_eps.dims()[0] == n
    }

    /// The terms in force for a batch of `n` rows, in the order of the other rows' blocks:
    /// mirror s, s + ε, s'.
    fn terms(&self, n: usize) -> Vec<(Term, f32)> {
        let spatial = self.spatial_on(n);
        [
            (Term::Odd, self.odd_weight, self.odd_weight > 0.0),
            (Term::Jump, self.spatial_weight, spatial),
            (Term::Jump, self.smooth_weight, self.smooth_weight > 0.0),
        ]
        .into_iter()
        .filter(|&(_, _, on)| on)
        .map(|(t, w, _)| (t, w as f32))
        .collect()
    }

    /// The other rows' inputs, stacked: mirror s, s + ε, s' (each when its term is on).
    fn other_inputs(&self, s: &Tensor, s2: &Tensor) -> candle_core::Result<Tensor> {
        let mut inputs = Vec::new();
        if self.odd_weight > 0.0 {
            inputs.push(s.broadcast_mul(&self.mirror_sign)?);
        }
        if self.spatial_on(s.dim(0)?) {
            inputs.push(s.add(&self.spatial_eps)?);
        }
        if self.smooth_weight > 0.0 {
            inputs.push(s2.clone());
        }
        Tensor::cat(&inputs, 0)
    }

    /// The loss from the batch rows' actions `mu` (`n × a`) and the stacked other rows
    /// `others` (`k·n × a`, blocks in the order of [`Regularisers::other_inputs`]); `None`
    /// when no term is on.
    pub(crate) fn loss(&self, mu: &Tensor, others: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let terms = self.terms(mu.dim(0)?);
        if terms.is_empty() {
            return Ok(None);
        }
        let op = RegLoss {
            terms,
            half: self.half.clone(),
        };
        mu.contiguous()?
            .apply_op2(&others.contiguous()?, op)
            .map(Some)
    }

    /// Starts the pass over the other rows of batch `s` (successors `s2`) for the actor with
    /// flat parameters `theta` (its tracked variable) and layer widths `sizes`, on `worker`;
    /// `None` when no term is on.
    pub(crate) fn start(
        &self,
        worker: &Worker,
        theta: &Tensor,
        sizes: &[usize],
        s: &Tensor,
        s2: &Tensor,
    ) -> Option<OtherRows> {
        if !self.any() {
            return None;
        }
        let (regs, theta, sizes) = (self.clone(), theta.clone(), sizes.to_vec());
        let (s, s2) = (s.clone(), s2.clone());
        let (tx, values) = sync_channel(1);
        let grad = worker.submit(move || {
            let _flush = FlushDenormals::new();
            regs.other_rows_grad(&theta, &sizes, &s, &s2, &tx)
        });
        Some(OtherRows { grad, values })
    }

    /// The gradient through the other rows (the batch rows held at their values) with
    /// respect to `theta`. Sends the batch rows' actions μ(s) (tracked: the caller's backward
    /// pass goes through them) and the other rows' values (fixed) on `values` as soon as the
    /// forward passes are done, before the backward pass.
    fn other_rows_grad(
        &self,
        theta: &Tensor,
        sizes: &[usize],
        s: &Tensor,
        s2: &Tensor,
        values: &SyncSender<(Tensor, Tensor)>,
    ) -> candle_core::Result<Vec<f32>> {
        let tracked = MlpTensors {
            theta: theta.clone(),
            sizes,
            param_grad: true,
        };
        let mu = self.head.apply(&mlp_forward(&tracked, s)?)?;
        let others = self
            .head
            .apply(&mlp_forward(&tracked, &self.other_inputs(s, s2)?)?)?;
        // The caller may have stopped waiting (its update failed): nothing to deliver then.
        let _ = values.send((mu.clone(), others.detach()));
        let Some(loss) = self.loss(&mu.detach(), &others)? else {
            return Ok(vec![0.0; theta.elem_count()]);
        };
        match loss.backward()?.get(theta) {
            Some(g) => g.to_vec1::<f32>(),
            None => Ok(vec![0.0; theta.elem_count()]),
        }
    }
}

/// The pass over the other rows, running: their values arrive first, the gradient through
/// them when the pass ends.
pub(crate) struct OtherRows {
    grad: Pending<candle_core::Result<Vec<f32>>>,
    values: Receiver<(Tensor, Tensor)>,
}

impl OtherRows {
    /// The batch rows' actions μ(s) (tracked: gradients flow to the actor's weights) and the
    /// other rows' actions (fixed values, stacked). If the worker has not started the pass,
    /// it runs here first.
    pub(crate) fn values(&self) -> candle_core::Result<(Tensor, Tensor)> {
        self.grad.run_here_if_queued();
        self.values.recv().map_err(|_| pass_failed())
    }

    /// The gradient through the other rows, when the pass has ended.
    pub(crate) fn grad(self) -> candle_core::Result<Vec<f32>> {
        self.grad.wait().ok_or_else(pass_failed)?
    }
}

fn pass_failed() -> candle_core::Error {
    candle_core::Error::Msg("the actor regulariser pass did not finish".into())
}

/// `batch_size × obs_dim` normal draws with σ = `spatial_smoothness_sigma`, from a generator
/// seeded with the run's seed (stream 3), so runs stay reproducible.
fn spatial_perturbations(
    config: &TrainConfig,
    obs_dim: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(3);
    let n = config.batch_size * obs_dim;
    let sigma = config.spatial_smoothness_sigma as f32;
    let v: Vec<f32> = (0..n)
        .map(|_| sigma * rng.sample::<f32, _>(rand_distr::StandardNormal))
        .collect();
    Tensor::from_slice(&v, (config.batch_size, obs_dim), device)
}

/// All the terms' loss as one operation of `(μ [n × a], others [k·n × a])` → scalar.
struct RegLoss {
    terms: Vec<(Term, f32)>,
    half: Vec<f32>,
}

impl RegLoss {
    /// `(n, a)` from the two layouts, checked against the terms and the half-ranges.
    fn dims(&self, l_mu: &Layout, l_o: &Layout) -> candle_core::Result<(usize, usize)> {
        let k = self.terms.len();
        match (l_mu.dims(), l_o.dims()) {
            (&[n, a], &[m, b]) if a == b && a == self.half.len() && m == k * n => Ok((n, a)),
            (d1, d2) => candle_core::bail!(
                "regulariser loss: actions {d1:?} and other rows {d2:?} do not match {k} terms of {} actions",
                self.half.len()
            ),
        }
    }

    /// Visits every element: `(term, weight, k, i, μ, o, h)` with `i` the element's index in
    /// `μ` and `k` its block.
    fn each(
        &self,
        mu: &[f32],
        others: &[f32],
        mut f: impl FnMut(Term, f32, usize, usize, f32, f32, f32),
    ) {
        let a = self.half.len();
        let len = mu.len();
        for (k, &(term, w)) in self.terms.iter().enumerate() {
            let block = &others[k * len..(k + 1) * len];
            for (i, (&m, &o)) in mu.iter().zip(block).enumerate() {
                f(term, w, k, i, m, o, self.half[i % a]);
            }
        }
    }
}

impl CustomOp2 for RegLoss {
    fn name(&self) -> &'static str {
        "actor-regularisers"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, a) = self.dims(l1, l2)?;
        let (mu, others) = (slice(s1, l1, "actions")?, slice(s2, l2, "other rows")?);
        let mut sums = vec![0.0f32; self.terms.len()];
        self.each(mu, others, |term, _, k, _, m, o, h| {
            sums[k] += match term {
                Term::Odd => ((m + o) / h) * ((m + o) / h),
                Term::Jump => (m - o).abs() / h,
            };
        });
        let count = (n * a) as f32;
        let loss: f32 = sums
            .iter()
            .zip(&self.terms)
            .map(|(s, &(_, w))| w * (s / count))
            .sum();
        Ok((CpuStorage::F32(vec![loss]), Shape::from(())))
    }

    fn bwd(
        &self,
        mu: &Tensor,
        others: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let g = grad.to_scalar::<f32>()?;
        let (mu_v, o_v) = (host_values(mu)?, host_values(others)?);
        let count = mu_v.len() as f32;
        let mut d_mu = vec![0.0f32; mu_v.len()];
        let mut d_o = vec![0.0f32; o_v.len()];
        self.each(&mu_v, &o_v, |term, w, k, i, m, o, h| {
            let c = g * w / count;
            let (dm, dother) = match term {
                Term::Odd => {
                    let d = 2.0 * (m + o) / (h * h);
                    (d, d)
                }
                Term::Jump => {
                    let sign = if m - o >= 0.0 { 1.0 } else { -1.0 };
                    (sign / h, -sign / h)
                }
            };
            d_mu[i] += c * dm;
            d_o[k * mu_v.len() + i] = c * dother;
        });
        Ok((
            Some(Tensor::from_vec(d_mu, mu.shape(), mu.device())?),
            Some(Tensor::from_vec(d_o, others.shape(), others.device())?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    /// The fused loss and its gradients equal the terms written with candle's ops.
    #[test]
    fn the_fused_loss_matches_candles_ops() {
        let dev = Device::Cpu;
        let config = TrainConfig {
            batch_size: 5,
            odd_policy_weight: 1.3,
            spatial_smoothness_weight: 0.4,
            smoothness_weight: 0.2,
            ..TrainConfig::default()
        };
        let regs = Regularisers::new(&config, 3, &[0.1], &[2.0], &dev).unwrap();
        let mu_v: Vec<f32> = (0..5).map(|i| (i as f32 - 2.0) * 0.6).collect();
        let o_v: Vec<f32> = (0..15).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.3).collect();
        let mu = Var::from_slice(&mu_v, (5, 1), &dev).unwrap();
        let others = Var::from_slice(&o_v, (15, 1), &dev).unwrap();
        let ours = regs
            .loss(mu.as_tensor(), others.as_tensor())
            .unwrap()
            .unwrap();

        let half = Tensor::new(&[[2.0f32]], &dev).unwrap();
        let block = |k: usize| others.as_tensor().narrow(0, 5 * k, 5).unwrap();
        let m = mu.as_tensor();
        let odd = m.add(&block(0)).unwrap().broadcast_div(&half).unwrap();
        let odd = odd
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap()
            .affine(1.3, 0.0)
            .unwrap();
        let jump = |k: usize, w: f64| {
            let d = m.sub(&block(k)).unwrap().broadcast_div(&half).unwrap();
            d.abs().unwrap().mean_all().unwrap().affine(w, 0.0).unwrap()
        };
        let theirs = odd.add(&jump(1, 0.4)).unwrap().add(&jump(2, 0.2)).unwrap();

        let (a, b) = (
            ours.to_scalar::<f32>().unwrap(),
            theirs.to_scalar::<f32>().unwrap(),
        );
        assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "loss {a} vs {b}");
        let (g1, g2) = (ours.backward().unwrap(), theirs.backward().unwrap());
        for v in [&mu, &others] {
            let flat = |g: &candle_core::backprop::GradStore| {
                g.get(v.as_tensor())
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()
            };
            for (x, y) in flat(&g1).iter().zip(flat(&g2)) {
                assert!(
                    (x - y).abs() <= 1e-6 * (1.0 + y.abs()),
                    "gradient {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn mismatched_rows_are_an_error() {
        let dev = Device::Cpu;
        let regs = Regularisers::new(&TrainConfig::default(), 3, &[0.0], &[2.0], &dev).unwrap();
        let mu = Tensor::zeros((4, 1), candle_core::DType::F32, &dev).unwrap();
        let others = Tensor::zeros((5, 1), candle_core::DType::F32, &dev).unwrap();
        let err = regs.loss(&mu, &others).unwrap_err().to_string();
        assert!(err.contains("do not match"), "{err}");
    }
}
