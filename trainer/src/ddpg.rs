//! The DDPG agent (Lillicrap et al. 2015): actor, critic, their target networks, the Adam
//! optimisers and one gradient step.

use crate::action_head::ActionHead;
use crate::config::TrainConfig;
use crate::denormals::FlushDenormals;
use crate::error::TrainError;
use crate::network::{MlpParams, TargetMlp, TrainableMlp, mlp_forward};
use crate::optimizer::Adam;
use crate::regularisers::{OtherRows, Regularisers};
use crate::replay::Batch;
use crate::worker::Worker;
use candle_core::{Device, Tensor, backprop::GradStore};
use rand::{Rng, SeedableRng};

/// Final-layer initialisation bound of actor and critic (DDPG paper).
pub const FINAL_LAYER_INIT: f32 = 3e-3;

/// Fixed input/output scaling of the actor: observations are normalised as
/// `(obs − offset)·scale` before the first layer, and `tanh` outputs are mapped to `[low, high]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scaling {
    /// Observation offsets.
    pub obs_offset: Vec<f32>,
    /// Observation scales.
    pub obs_scale: Vec<f32>,
    /// Lower action bounds.
    pub action_low: Vec<f32>,
    /// Upper action bounds.
    pub action_high: Vec<f32>,
}

impl Scaling {
    /// Normalisation from the observation bounds (to [-1, 1] where both bounds are finite,
    /// identity elsewhere, or everywhere when `normalize` is false).
    pub fn from_bounds(
        obs_low: &[f32],
        obs_high: &[f32],
        action_low: &[f32],
        action_high: &[f32],
        normalize: bool,
    ) -> Self {
        let (mut obs_offset, mut obs_scale) = (Vec::new(), Vec::new());
        for (&lo, &hi) in obs_low.iter().zip(obs_high) {
            if normalize && lo.is_finite() && hi.is_finite() && hi > lo {
                obs_offset.push(0.5 * (lo + hi));
                obs_scale.push(2.0 / (hi - lo));
            } else {
                obs_offset.push(0.0);
                obs_scale.push(1.0);
            }
        }
        Self {
            obs_offset,
            obs_scale,
            action_low: action_low.to_vec(),
            action_high: action_high.to_vec(),
        }
    }

    /// Normalises rows of observations from `raw` into `out` (same length).
    pub fn normalize_into(&self, raw: &[f32], out: &mut Vec<f32>) {
        let d = self.obs_offset.len();
        out.clear();
        out.extend(raw.iter().enumerate().map(|(i, &x)| {
            let k = i % d;
            (x - self.obs_offset[k]) * self.obs_scale[k]
        }));
    }
}

/// Losses and Q estimate of one gradient step.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UpdateStats {
    /// Mean squared TD error of the critic.
    pub critic_loss: f32,
    /// −mean Q(s, μ(s)) plus the regularisers (NaN on a step without an actor update).
    pub actor_loss: f32,
    /// Mean Q(s, a) over the batch.
    pub mean_q: f32,
}

/// The TD target `y = r + γ·(1 − terminated)·q_next` (all tensors of the same shape,
/// `terminated` holding 1.0 or 0.0). Truncated transitions have `terminated = 0`, so the
/// target bootstraps through time limits.
pub fn td_target(
    rewards: &Tensor,
    terminated: &Tensor,
    q_next: &Tensor,
    gamma: f64,
) -> candle_core::Result<Tensor> {
    // On host vectors: one allocation instead of three graph nodes (no gradient flows here).
    use crate::fused_mlp::host_values as flat;
    let (r, d, q) = (flat(rewards)?, flat(terminated)?, flat(q_next)?);
    if r.len() != d.len() || r.len() != q.len() {
        candle_core::bail!(
            "TD target: {} rewards, {} end flags, {} next values",
            r.len(),
            d.len(),
            q.len()
        );
    }
    let (g, a) = (-gamma as f32, gamma as f32);
    // γ(1 − d) = −γ·d + γ
    let y: Vec<f32> = r
        .iter()
        .zip(&d)
        .zip(&q)
        .map(|((&r, &d), &q)| r + (d * g + a) * q)
        .collect();
    Tensor::from_vec(y, q_next.shape(), q_next.device())
}

/// Actor, critic, both targets and both optimisers.
#[derive(Debug)]
pub struct Ddpg {
    /// The policy μ(s).
    pub actor: TrainableMlp,
    /// The action-value function Q(s, a).
    pub critic: TrainableMlp,
    /// Target actor μ'.
    pub actor_target: TargetMlp,
    /// Target critic Q'.
    pub critic_target: TargetMlp,
    /// Adam of the actor.
    pub actor_opt: Adam,
    /// Adam of the critic.
    pub critic_opt: Adam,
    /// Input/output scaling.
    pub scaling: Scaling,
    gamma: f64,
    tau: f32,
    device: Device,
    /// The actor's regulariser terms.
    regularisers: Regularisers,
    /// The actor's output head `mid + half·tanh(z)`.
    head: ActionHead,
    /// Action mid-points and half-ranges, `1 × act` (target-policy noise bounds).
    act_mid: Tensor,
    act_half: Tensor,
    /// Runs the regularisers' pass beside the critic's step (`parallel_update`).
    worker: Worker,
    /// TD3's second critic, its target and its optimiser (`twin_critics`).
    pub twin: Option<Twin>,
    policy_delay: u64,
    updates: u64,
    target_noise: f32,
    target_noise_clip: f32,
    noise_rng: rand_chacha::ChaCha8Rng,
    scratch_s: Vec<f32>,
    scratch_s2: Vec<f32>,
}

/// A second critic with its target network and optimiser (TD3's clipped double Q).
#[derive(Debug)]
pub struct Twin {
    /// The critic.
    pub critic: TrainableMlp,
    /// Its target.
    pub target: TargetMlp,
    /// Its Adam.
    pub opt: Adam,
}

/// The saved form of a [`Twin`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TwinState {
    /// Critic parameters.
    pub critic: MlpParams,
    /// Target parameters.
    pub target: MlpParams,
    /// Optimiser.
    pub opt: Adam,
}

/// Everything needed to rebuild a [`Ddpg`] exactly (what a checkpoint stores).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DdpgState {
    /// Actor parameters.
    pub actor: MlpParams,
    /// Critic parameters.
    pub critic: MlpParams,
    /// Target actor parameters.
    pub actor_target: MlpParams,
    /// Target critic parameters.
    pub critic_target: MlpParams,
    /// Actor optimiser.
    pub actor_opt: Adam,
    /// Critic optimiser.
    pub critic_opt: Adam,
    /// Scaling.
    pub scaling: Scaling,
    /// The second critic (TD3), if configured.
    pub twin: Option<TwinState>,
    /// Gradient steps done (for the delayed actor updates).
    pub updates: u64,
    /// State of the generator of the target-policy noise.
    pub noise_rng: crate::checkpoint::RngState,
}

impl DdpgState {
    /// The first network or optimiser holding a non-finite value (`None` when all are finite).
    pub fn first_non_finite(&self) -> Option<&'static str> {
        let mut nets = vec![
            ("an actor weight", &self.actor, Some(&self.actor_opt)),
            ("a target-actor weight", &self.actor_target, None),
            ("a critic weight", &self.critic, Some(&self.critic_opt)),
            ("a target-critic weight", &self.critic_target, None),
        ];
        if let Some(t) = &self.twin {
            nets.push(("a second-critic weight", &t.critic, Some(&t.opt)));
            nets.push(("a second-target-critic weight", &t.target, None));
        }
        nets.into_iter().find_map(|(name, p, opt)| {
            if !p.is_finite() {
                Some(name)
            } else if opt.is_some_and(|o| !o.is_finite()) {
                Some("an optimiser moment estimate")
            } else {
                None
            }
        })
    }

    /// Checks every network, target and optimiser against the widths `config` and the plant
    /// (`obs_dim`, `act_dim`) imply, and that every value is finite (what a loaded checkpoint
    /// must satisfy before it is used); returns the first problem, naming the part.
    pub fn check(
        &self,
        config: &TrainConfig,
        obs_dim: usize,
        act_dim: usize,
    ) -> Result<(), String> {
        let actor = [obs_dim, config.actor_hidden1, config.actor_hidden2, act_dim];
        let critic = [
            obs_dim + act_dim,
            config.critic_hidden1,
            config.critic_hidden2,
            1,
        ];
        let mut nets = vec![
            ("actor", &self.actor, &actor[..], Some(&self.actor_opt)),
            ("target actor", &self.actor_target, &actor[..], None),
            ("critic", &self.critic, &critic[..], Some(&self.critic_opt)),
            ("target critic", &self.critic_target, &critic[..], None),
        ];
        match (&self.twin, config.twin_critics) {
            (Some(t), true) => {
                nets.push(("second critic", &t.critic, &critic[..], Some(&t.opt)));
                nets.push(("second target critic", &t.target, &critic[..], None));
            }
            (None, false) => {}
            (t, want) => {
                return Err(format!(
                    "the config says twin_critics = {want} but the state {} a second critic",
                    if t.is_some() { "holds" } else { "lacks" }
                ));
            }
        }
        for (name, params, sizes, opt) in nets {
            params
                .check_shape(sizes)
                .map_err(|e| format!("{name}: {e}"))?;
            if let Some(opt) = opt {
                opt.check_shape(params)
                    .map_err(|e| format!("{name} optimiser: {e}"))?;
            }
        }
        if let Some(what) = self.first_non_finite() {
            return Err(format!("{what} is not finite"));
        }
        let s = &self.scaling;
        let dims = [
            s.obs_offset.len(),
            s.obs_scale.len(),
            s.action_low.len(),
            s.action_high.len(),
        ];
        if dims != [obs_dim, obs_dim, act_dim, act_dim] {
            return Err(format!(
                "scaling widths {dims:?}, expected [{obs_dim}, {obs_dim}, {act_dim}, {act_dim}]"
            ));
        }
        let all = s
            .obs_offset
            .iter()
            .chain(&s.obs_scale)
            .chain(&s.action_low)
            .chain(&s.action_high);
        if !all.clone().all(|x| x.is_finite()) {
            return Err("scaling holds a non-finite value".into());
        }
        Ok(())
    }
}

impl Ddpg {
    /// Fresh networks for `obs_dim` observations and `scaling.action_low.len()` actions,
    /// initialised from `rng`; targets are exact copies.
    pub fn new<R: Rng>(
        config: &TrainConfig,
        scaling: Scaling,
        rng: &mut R,
    ) -> Result<Self, TrainError> {
        let obs_dim = scaling.obs_offset.len();
        let act_dim = scaling.action_low.len();
        let actor = MlpParams::init(
            &[obs_dim, config.actor_hidden1, config.actor_hidden2, act_dim],
            FINAL_LAYER_INIT,
            rng,
        );
        let critic = MlpParams::init(
            &[
                obs_dim + act_dim,
                config.critic_hidden1,
                config.critic_hidden2,
                1,
            ],
            FINAL_LAYER_INIT,
            rng,
        );
        let adam = |p: &MlpParams, lr: f64| {
            Adam::new(p, lr, config.adam_beta1, config.adam_beta2, config.adam_eps)
        };
        // Drawn after the actor and the first critic, so a DDPG run's weights do not change
        // when TD3 options are added elsewhere.
        let twin = config.twin_critics.then(|| {
            let c = MlpParams::init(
                &[
                    obs_dim + act_dim,
                    config.critic_hidden1,
                    config.critic_hidden2,
                    1,
                ],
                FINAL_LAYER_INIT,
                rng,
            );
            TwinState {
                target: c.clone(),
                opt: adam(&c, config.critic_lr),
                critic: c,
            }
        });
        let mut noise_rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed);
        noise_rng.set_stream(4);
        let state = DdpgState {
            actor_target: actor.clone(),
            critic_target: critic.clone(),
            actor_opt: adam(&actor, config.actor_lr),
            critic_opt: adam(&critic, config.critic_lr),
            actor,
            critic,
            scaling,
            twin,
            updates: 0,
            noise_rng: crate::checkpoint::RngState::capture(&noise_rng),
        };
        Self::from_state(state, config)
    }

    /// Rebuilds an agent from a saved state (γ and τ come from `config`).
    pub fn from_state(state: DdpgState, config: &TrainConfig) -> Result<Self, TrainError> {
        let device = Device::Cpu;
        let s = &state.scaling;
        let act_dim = s.action_low.len();
        let mid: Vec<f32> = s
            .action_low
            .iter()
            .zip(&s.action_high)
            .map(|(l, h)| 0.5 * (l + h))
            .collect();
        let half: Vec<f32> = s
            .action_low
            .iter()
            .zip(&s.action_high)
            .map(|(l, h)| 0.5 * (h - l))
            .collect();
        Ok(Self {
            actor: TrainableMlp::new(state.actor, &device)?,
            critic: TrainableMlp::new(state.critic, &device)?,
            actor_target: TargetMlp::new(state.actor_target, &device)?,
            critic_target: TargetMlp::new(state.critic_target, &device)?,
            actor_opt: state.actor_opt,
            critic_opt: state.critic_opt,
            regularisers: Regularisers::new(config, s.obs_offset.len(), &mid, &half, &device)?,
            head: ActionHead::new(mid.clone(), half.clone()),
            act_mid: Tensor::from_slice(&mid, (1, act_dim), &device)?,
            act_half: Tensor::from_slice(&half, (1, act_dim), &device)?,
            worker: if config.parallel_update && crate::quality::default_threads() > 1 {
                Worker::spawn("update-worker")
            } else {
                Worker::inline()
            },
            twin: match state.twin {
                Some(t) => Some(Twin {
                    critic: TrainableMlp::new(t.critic, &device)?,
                    target: TargetMlp::new(t.target, &device)?,
                    opt: t.opt,
                }),
                None => None,
            },
            policy_delay: config.policy_delay.max(1),
            updates: state.updates,
            target_noise: config.target_noise as f32,
            target_noise_clip: config.target_noise_clip as f32,
            noise_rng: state.noise_rng.restore(),
            scaling: state.scaling,
            gamma: config.gamma,
            tau: config.tau as f32,
            device,
            scratch_s: Vec::new(),
            scratch_s2: Vec::new(),
        })
    }

    /// A copy of the full state.
    pub fn state(&self) -> DdpgState {
        DdpgState {
            actor: self.actor.params.clone(),
            critic: self.critic.params.clone(),
            actor_target: self.actor_target.params.clone(),
            critic_target: self.critic_target.params.clone(),
            actor_opt: self.actor_opt.clone(),
            critic_opt: self.critic_opt.clone(),
            scaling: self.scaling.clone(),
            twin: self.twin.as_ref().map(|t| TwinState {
                critic: t.critic.params.clone(),
                target: t.target.params.clone(),
                opt: t.opt.clone(),
            }),
            updates: self.updates,
            noise_rng: crate::checkpoint::RngState::capture(&self.noise_rng),
        }
    }

    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.scaling.obs_offset.len()
    }

    /// Action width.
    pub fn act_dim(&self) -> usize {
        self.scaling.action_low.len()
    }

    /// Maps pre-activations to actions: `tanh(z)·half_range + mid`.
    fn actor_head(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        self.head.apply(z)
    }

    /// Deterministic actions μ(s) for `n` raw observations (row-major `n × obs_dim`), computed
    /// by the candle actor (this is what the exported file must reproduce).
    pub fn act_batch(&mut self, raw_obs: &[f32], n: usize) -> Result<Vec<f32>, TrainError> {
        let mut norm = std::mem::take(&mut self.scratch_s);
        self.scaling.normalize_into(raw_obs, &mut norm);
        let s = Tensor::from_slice(&norm, (n, self.obs_dim()), &self.device)?;
        self.scratch_s = norm;
        let a = self.actor_head(&mlp_forward(&self.actor.detached(), &s)?)?;
        Ok(a.flatten_all()?.to_vec1::<f32>()?)
    }

    /// μ(s) for one raw observation.
    pub fn act(&mut self, raw_obs: &[f32]) -> Result<Vec<f32>, TrainError> {
        self.act_batch(raw_obs, 1)
    }

    /// One DDPG gradient step on `batch`: critic towards the TD target, actor along ∇ₐQ, then
    /// soft target updates. Returns the losses; a non-finite loss or weight is reported as
    /// [`TrainError::Diverged`] (with `step` 0: the caller fills in its counter).
    pub fn update(&mut self, batch: &Batch) -> Result<UpdateStats, TrainError> {
        // Subnormal gradients (a saturated tanh) cost ~100× in Adam and gemm: see `denormals`.
        let _flush = FlushDenormals::new();
        let (n, od, ad) = (batch.size, self.obs_dim(), self.act_dim());
        let dev = &self.device;
        let mut s_buf = std::mem::take(&mut self.scratch_s);
        let mut s2_buf = std::mem::take(&mut self.scratch_s2);
        self.scaling.normalize_into(&batch.obs, &mut s_buf);
        self.scaling.normalize_into(&batch.next_obs, &mut s2_buf);
        let s = Tensor::from_slice(&s_buf, (n, od), dev)?;
        let s2 = Tensor::from_slice(&s2_buf, (n, od), dev)?;
        self.scratch_s = s_buf;
        self.scratch_s2 = s2_buf;
        let a = Tensor::from_slice(&batch.actions, (n, ad), dev)?;
        let r = Tensor::from_slice(&batch.rewards, (n, 1), dev)?;
        let term = Tensor::from_slice(&batch.terminated, (n, 1), dev)?;

        // The regularisers need only the actor: their pass runs beside the critic's step.
        let actor_due = (self.updates + 1) % self.policy_delay == 0;
        let regularised = if actor_due {
            self.start_regularisers(&s, &s2)
        } else {
            None
        };

        // Critic(s): y = r + γ(1 − d)·min_i Q'_i(s', μ'(s') + ε), loss = mean (Q_i(s, a) − y)².
        let a2 = self.target_action(&s2)?;
        let sa2 = Tensor::cat(&[&s2, &a2], 1)?;
        let mut q2 = mlp_forward(&self.critic_target.weights(), &sa2)?;
        if let Some(t) = &self.twin {
            q2 = q2.minimum(&mlp_forward(&t.target.weights(), &sa2)?)?;
        }
        let y = td_target(&r, &term, &q2, self.gamma)?;
        let sa = Tensor::cat(&[&s, &a], 1)?;
        let (critic_loss, mean_q) =
            critic_step(&mut self.critic, &mut self.critic_opt, &sa, &y, "critic")?;
        if let Some(t) = &mut self.twin {
            critic_step(&mut t.critic, &mut t.opt, &sa, &y, "second critic")?;
        }
        self.updates += 1;
        if self.updates % self.policy_delay != 0 {
            return Ok(UpdateStats {
                critic_loss,
                actor_loss: f32::NAN,
                mean_q,
            });
        }
        let actor_loss = self.actor_step(&s, regularised)?;

        // Targets: θ' ← τθ + (1 − τ)θ'.
        self.actor_target
            .soft_update(&self.actor.params, self.tau)?;
        self.critic_target
            .soft_update(&self.critic.params, self.tau)?;
        if let Some(t) = &mut self.twin {
            t.target.soft_update(&t.critic.params, self.tau)?;
        }
        Ok(UpdateStats {
            critic_loss,
            actor_loss,
            mean_q,
        })
    }

    /// μ'(s'), plus TD3's clipped target-policy noise when configured, clipped to the bounds.
    fn target_action(&mut self, s2: &Tensor) -> Result<Tensor, TrainError> {
        let a2 = self.actor_head(&mlp_forward(&self.actor_target.weights(), s2)?)?;
        if self.target_noise <= 0.0 {
            return Ok(a2);
        }
        let (n, ad) = a2.dims2()?;
        let (sigma, clip) = (self.target_noise, self.target_noise_clip);
        let eps: Vec<f32> = (0..n * ad)
            .map(|_| {
                let z: f32 = self.noise_rng.sample(rand_distr::StandardNormal);
                (sigma * z).clamp(-clip, clip)
            })
            .collect();
        let (mid, half) = (&self.act_mid, &self.act_half);
        let eps = Tensor::from_slice(&eps, (n, ad), &self.device)?.broadcast_mul(half)?;
        let low = mid.sub(half)?;
        let high = mid.add(half)?;
        Ok(a2
            .add(&eps)?
            .broadcast_maximum(&low)?
            .broadcast_minimum(&high)?)
    }

    /// One actor step: loss = −mean Q(s, μ(s)) (the critic's weights detached) plus the
    /// regularisers, split by rows (see [`Regularisers`]): here the gradient through the batch
    /// rows μ(s), the other rows' values held fixed; `others` delivers μ(s) (with its graph),
    /// the other rows' values (mirror, s + ε, s') and the gradient through them. The gradients
    /// are summed before Adam. Returns the loss.
    fn actor_step(&mut self, s: &Tensor, others: Option<OtherRows>) -> Result<f32, TrainError> {
        let (mu, fixed) = match &others {
            Some(job) => {
                let (mu, values) = job.values()?;
                (mu, Some(values))
            }
            None => (
                self.actor_head(&mlp_forward(&self.actor.tracked(), s)?)?,
                None,
            ),
        };
        let qa = mlp_forward(&self.critic.detached(), &Tensor::cat(&[s, &mu], 1)?)?;
        let mut loss = qa.mean_all()?.neg()?;
        if let Some(values) = &fixed
            && let Some(reg) = self.regularisers.loss(&mu, values)?
        {
            loss = loss.add(&reg)?;
        }
        let actor_loss = loss.to_scalar::<f32>()?;
        if !actor_loss.is_finite() {
            return Err(diverged("actor loss"));
        }
        let mut grad = flat_grad(&loss.backward()?, &self.actor)?;
        if let Some(job) = others {
            let other = job.grad()?;
            grad.iter_mut().zip(&other).for_each(|(g, o)| *g += o);
        }
        let g = self.actor.params.split_flat(&grad);
        self.actor_opt.step(&mut self.actor.params, &g);
        if !self.actor.params.is_finite() {
            return Err(diverged("an actor weight"));
        }
        self.actor.sync_vars()?;
        Ok(actor_loss)
    }

    /// Starts the regularisers' pass over the other rows for this update's actor step (on the
    /// worker thread when there is one); `None` when no regulariser is on.
    fn start_regularisers(&self, s: &Tensor, s2: &Tensor) -> Option<OtherRows> {
        let theta = self.actor.var().as_tensor();
        self.regularisers
            .start(&self.worker, theta, &self.actor.params.sizes, s, s2)
    }
}

/// One critic regression step towards `y`; returns the loss and the mean Q.
fn critic_step(
    critic: &mut TrainableMlp,
    opt: &mut Adam,
    sa: &Tensor,
    y: &Tensor,
    name: &str,
) -> Result<(f32, f32), TrainError> {
    let q = mlp_forward(&critic.tracked(), sa)?;
    let loss_t = crate::losses::mean_squared_error(&q, y)?;
    let loss = loss_t.to_scalar::<f32>()?;
    let qs = q.flatten_all()?.to_vec1::<f32>()?;
    let mean_q = qs.iter().sum::<f32>() / qs.len().max(1) as f32;
    if !loss.is_finite() {
        return Err(diverged(&format!("{name} loss")));
    }
    let grads = loss_t.backward()?;
    let g = collect_grads(&grads, critic)?;
    opt.step(&mut critic.params, &g);
    if !critic.params.is_finite() {
        return Err(diverged(&format!("a {name} weight")));
    }
    critic.sync_vars()?;
    Ok((loss, mean_q))
}

fn diverged(what: &str) -> TrainError {
    TrainError::Diverged {
        step: 0,
        what: what.to_string(),
        checkpoint: None,
    }
}

/// The gradient of `net`'s flat parameters (zeros when the loss does not depend on them).
fn flat_grad(grads: &GradStore, net: &TrainableMlp) -> candle_core::Result<Vec<f32>> {
    match grads.get(net.var().as_tensor()) {
        Some(g) => g.to_vec1::<f32>(),
        None => Ok(vec![0.0; net.params.num_params()]),
    }
}

/// The gradient of `net`'s parameters as host vectors shaped like its tensors (zeros when
/// the loss does not depend on them).
fn collect_grads(grads: &GradStore, net: &TrainableMlp) -> candle_core::Result<Vec<Vec<f32>>> {
    match grads.get(net.var().as_tensor()) {
        Some(g) => Ok(net.params.split_flat(&g.to_vec1::<f32>()?)),
        None => Ok(net
            .params
            .tensors
            .iter()
            .map(|t| vec![0.0; t.len()])
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The update as it was before the fused MLP and the stacked actor pass: per-layer
    /// `Linear`/`relu` graphs, one actor pass per loss term. Returns the new parameters of
    /// (actor, critic, target actor, target critic).
    fn graph_update(agent: &Ddpg, batch: &Batch) -> [MlpParams; 4] {
        use candle_core::Var;
        use candle_nn::{Linear, Module};
        let dev = &agent.device;
        let vars = |p: &MlpParams| -> Vec<Var> {
            (0..p.tensors.len())
                .map(|i| Var::from_slice(&p.tensors[i], p.shape(i), dev).unwrap())
                .collect()
        };
        let fwd = |vs: &[Tensor], x: &Tensor| -> Tensor {
            let mut h = x.clone();
            for (l, wb) in vs.chunks(2).enumerate() {
                h = Linear::new(wb[0].clone(), Some(wb[1].clone()))
                    .forward(&h)
                    .unwrap();
                if 2 * (l + 1) < vs.len() {
                    h = h.relu().unwrap();
                }
            }
            h
        };
        let plain = |p: &MlpParams| -> Vec<Tensor> {
            vars(p).iter().map(|v| v.as_tensor().detach()).collect()
        };
        let tracked =
            |v: &[Var]| -> Vec<Tensor> { v.iter().map(|v| v.as_tensor().clone()).collect() };
        let grads_of = |loss: &Tensor, v: &[Var]| -> Vec<Vec<f32>> {
            let g = loss.backward().unwrap();
            v.iter()
                .map(|v| {
                    g.get(v.as_tensor())
                        .unwrap()
                        .flatten_all()
                        .unwrap()
                        .to_vec1()
                        .unwrap()
                })
                .collect()
        };
        let (n, od, ad) = (batch.size, agent.obs_dim(), agent.act_dim());
        let (mut s_buf, mut s2_buf) = (Vec::new(), Vec::new());
        agent.scaling.normalize_into(&batch.obs, &mut s_buf);
        agent.scaling.normalize_into(&batch.next_obs, &mut s2_buf);
        let s = Tensor::from_slice(&s_buf, (n, od), dev).unwrap();
        let s2 = Tensor::from_slice(&s2_buf, (n, od), dev).unwrap();
        let a = Tensor::from_slice(&batch.actions, (n, ad), dev).unwrap();
        let r = Tensor::from_slice(&batch.rewards, (n, 1), dev).unwrap();
        let term = Tensor::from_slice(&batch.terminated, (n, 1), dev).unwrap();
        let head = |z: Tensor| agent.actor_head(&z).unwrap();

        let a2 = head(fwd(&plain(&agent.actor_target.params), &s2));
        let sa2 = Tensor::cat(&[&s2, &a2], 1).unwrap();
        let q2 = fwd(&plain(&agent.critic_target.params), &sa2);
        let y = td_target(&r, &term, &q2, agent.gamma).unwrap();
        let sa = Tensor::cat(&[&s, &a], 1).unwrap();
        let cv = vars(&agent.critic.params);
        let closs = fwd(&tracked(&cv), &sa)
            .sub(&y)
            .unwrap()
            .sqr()
            .unwrap()
            .mean_all()
            .unwrap();
        let mut critic = agent.critic.params.clone();
        agent
            .critic_opt
            .clone()
            .step(&mut critic, &grads_of(&closs, &cv));

        let av = vars(&agent.actor.params);
        let mu_of = |x: &Tensor| head(fwd(&tracked(&av), x));
        let mu = mu_of(&s);
        let qa = fwd(&plain(&critic), &Tensor::cat(&[&s, &mu], 1).unwrap());
        let mut loss = qa.mean_all().unwrap().neg().unwrap();
        let mu_m = mu_of(&s.broadcast_mul(&agent.regularisers.mirror_sign).unwrap());
        let odd = mu
            .add(&mu_m)
            .unwrap()
            .broadcast_div(&agent.act_half)
            .unwrap();
        let odd = odd.sqr().unwrap().mean_all().unwrap();
        loss = loss
            .add(&odd.affine(agent.regularisers.odd_weight, 0.0).unwrap())
            .unwrap();
        for (w, other) in [
            (
                agent.regularisers.spatial_weight,
                s.add(&agent.regularisers.spatial_eps).unwrap(),
            ),
            (agent.regularisers.smooth_weight, s2.clone()),
        ] {
            let jump = mu
                .sub(&mu_of(&other))
                .unwrap()
                .broadcast_div(&agent.act_half)
                .unwrap();
            let jump = jump.abs().unwrap().mean_all().unwrap();
            loss = loss.add(&jump.affine(w, 0.0).unwrap()).unwrap();
        }
        let mut actor = agent.actor.params.clone();
        agent
            .actor_opt
            .clone()
            .step(&mut actor, &grads_of(&loss, &av));
        let mut actor_target = agent.actor_target.params.clone();
        actor_target.soft_update_from(&actor, agent.tau);
        let mut critic_target = agent.critic_target.params.clone();
        critic_target.soft_update_from(&critic, agent.tau);
        [actor, critic, actor_target, critic_target]
    }

    /// The fused, stacked update computes what the per-layer candle graph computes (to float
    /// rounding): same TD target, losses, gradients, Adam steps and soft updates, with every
    /// actor regulariser on. Checked after updates from a trained-for-a-while state too, where
    /// the Adam moments are not zero.
    /// The regularisers' pass gives the same bits whether it runs on the worker thread or on
    /// the caller (`parallel_update`): 30 updates of two agents from the same seed end in
    /// identical states, moments included.
    #[test]
    fn the_parallel_update_is_bit_identical_to_the_inline_one() {
        let run = |parallel: bool| {
            let config = TrainConfig {
                batch_size: 32,
                spatial_smoothness_weight: 0.3,
                parallel_update: parallel,
                ..TrainConfig::default()
            };
            let scaling =
                Scaling::from_bounds(&[-1.0, -1.0, -8.0], &[1.0, 1.0, 8.0], &[-2.0], &[2.0], true);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
            let mut agent = Ddpg::new(&config, scaling, &mut rng).unwrap();
            assert_eq!(
                agent.worker.is_threaded(),
                parallel && crate::quality::default_threads() > 1
            );
            let mut replay = crate::replay::ReplayBuffer::new(500, 3, 1);
            for _ in 0..500 {
                let th: f32 = rng.random_range(-3.0..3.0);
                let obs = [th.cos(), th.sin(), rng.random_range(-8.0..8.0)];
                replay.push(&obs, &[rng.random_range(-2.0..2.0)], -th * th, false, &obs);
            }
            let mut batch = Batch::default();
            for _ in 0..30 {
                replay.sample(&mut rng, config.batch_size, &mut batch);
                agent.update(&batch).unwrap();
            }
            agent.state()
        };
        assert_eq!(run(true), run(false));
    }

    #[test]
    fn update_equals_the_per_layer_candle_graph() {
        let config = TrainConfig {
            batch_size: 32,
            actor_hidden1: 16,
            actor_hidden2: 12,
            critic_hidden1: 12,
            critic_hidden2: 16,
            odd_policy_weight: 1.0,
            smoothness_weight: 0.1,
            spatial_smoothness_weight: 0.3,
            ..TrainConfig::default()
        };
        let scaling =
            Scaling::from_bounds(&[-1.0, -1.0, -8.0], &[1.0, 1.0, 8.0], &[-2.0], &[2.0], true);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut agent = Ddpg::new(&config, scaling, &mut rng).unwrap();
        let mut replay = crate::replay::ReplayBuffer::new(1_000, 3, 1);
        for _ in 0..1_000 {
            let th: f32 = rng.random_range(-3.0..3.0);
            let obs = [th.cos(), th.sin(), rng.random_range(-8.0..8.0)];
            let a = [rng.random_range(-2.0..2.0)];
            replay.push(&obs, &a, -th * th, rng.random_bool(0.1), &obs);
        }
        let mut batch = Batch::default();
        for step in 0..20 {
            replay.sample(&mut rng, config.batch_size, &mut batch);
            let want = graph_update(&agent, &batch);
            agent.update(&batch).unwrap();
            let got = [
                &agent.actor.params,
                &agent.critic.params,
                &agent.actor_target.params,
                &agent.critic_target.params,
            ];
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                for (x, y) in g.tensors.iter().flatten().zip(w.tensors.iter().flatten()) {
                    assert!(
                        (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                        "update {step}, network {k}: fused {x}, graph {y}"
                    );
                }
            }
        }
    }

    #[test]
    fn td_target_matches_hand_numbers() {
        let dev = Device::Cpu;
        let r = Tensor::from_slice(&[-1.0f32, 2.0, 0.5], (3, 1), &dev).unwrap();
        let d = Tensor::from_slice(&[0.0f32, 1.0, 0.0], (3, 1), &dev).unwrap();
        let q = Tensor::from_slice(&[10.0f32, 10.0, -4.0], (3, 1), &dev).unwrap();
        let y = td_target(&r, &d, &q, 0.9)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        // −1 + 0.9·10 = 8; terminal: 2 + 0 = 2; 0.5 + 0.9·(−4) = −3.1
        let expect = [8.0f32, 2.0, -3.1];
        for (a, b) in y.iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{y:?}");
        }
    }

    #[test]
    fn scaling_normalises_to_unit_range() {
        let s = Scaling::from_bounds(
            &[-1.0, -8.0, f32::NEG_INFINITY],
            &[1.0, 8.0, 1.0],
            &[-2.0],
            &[2.0],
            true,
        );
        assert_eq!(s.obs_scale, vec![1.0, 0.125, 1.0]);
        let mut out = Vec::new();
        s.normalize_into(&[0.5, 8.0, 3.0], &mut out);
        assert_eq!(out, vec![0.5, 1.0, 3.0]);
    }
}
