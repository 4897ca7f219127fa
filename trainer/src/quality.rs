//! Control-quality evaluation: what a control engineer reads off a controller, next to the
//! rig's swing-up + LQR baseline on the same episodes.
//!
//! Per episode (true plant state after each step, wrapped to `[-π, π)`; `u` the torque command
//! the plant received after clipping, so a held command counts as applied again):
//!
//! | figure | definition |
//! |---|---|
//! | return | sum of the rig's rewards |
//! | success | `|θ| < 0.1 rad` over each of the last [`SUCCESS_WINDOW`] steps |
//! | steady-state error | mean `|θ|` over the last [`SUCCESS_WINDOW`] steps (successful episodes only in the summary) |
//! | settling step | the first step `k` such that `|θ_j| < 0.1 rad` for every `j ≥ k` (none when the last step is outside) |
//! | chatter | mean `|u_k − u_{k−1}|` over the last [`CHATTER_WINDOW`] steps [N·m per step] |
//! | peak / RMS torque | `max |u|` and `sqrt(mean u²)` over the episode [N·m] |
//!
//! Link loss is simulated with a hold probability `p`: at each step, with probability `p` the
//! controller's new command is lost and the plant keeps the previous one (zero-order hold, the
//! first previous command being 0), drawn from a generator seeded with the episode's seed, so a
//! policy and the baseline see the same losses on the same episode.

use crate::error::TrainError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use sim::{Environment, Rig, RigPlant, wrap_angle};

/// Steps at the end of an episode over which success and steady-state error are judged.
pub const SUCCESS_WINDOW: usize = 50;
/// Angle bound of success and settling \[rad\].
pub const SUCCESS_ANGLE: f64 = 0.1;
/// Steps at the end of an episode over which chatter is measured.
pub const CHATTER_WINDOW: usize = 100;

/// The figures of one episode (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpisodeQuality {
    /// Seed of the episode (initial state, randomisation, noise, losses).
    pub seed: u64,
    /// Undiscounted return.
    pub ret: f64,
    /// Upright over the whole success window.
    pub success: bool,
    /// Mean |θ| over the success window \[rad\].
    pub tail_abs_theta: f64,
    /// First step after which |θ| stays below the success angle.
    pub settling_step: Option<usize>,
    /// Mean |Δu| over the chatter window [N·m per step].
    pub chatter: f64,
    /// Largest |u| [N·m].
    pub peak_torque: f64,
    /// RMS of u [N·m].
    pub rms_torque: f64,
}

/// Computes an episode's figures from its wrapped angles (after each step) and commands.
pub fn episode_quality(seed: u64, ret: f64, theta: &[f64], torque: &[f64]) -> EpisodeQuality {
    let n = theta.len();
    let tail = &theta[n.saturating_sub(SUCCESS_WINDOW)..];
    let success = !tail.is_empty() && tail.iter().all(|t| t.abs() < SUCCESS_ANGLE);
    let tail_abs_theta = tail.iter().map(|t| t.abs()).sum::<f64>() / tail.len().max(1) as f64;
    let settling_step = match theta.iter().rposition(|t| t.abs() >= SUCCESS_ANGLE) {
        None if n > 0 => Some(0),
        Some(k) if k + 1 < n => Some(k + 1),
        _ => None,
    };
    let m = torque.len();
    let start = m.saturating_sub(CHATTER_WINDOW).max(1);
    let diffs = torque
        .get(start..)
        .unwrap_or(&[])
        .iter()
        .zip(&torque[start - 1..])
        .map(|(u, prev)| (u - prev).abs());
    let count = m.saturating_sub(start);
    let chatter = diffs.sum::<f64>() / count.max(1) as f64;
    let peak_torque = torque.iter().fold(0.0f64, |a, u| a.max(u.abs()));
    let rms_torque = (torque.iter().map(|u| u * u).sum::<f64>() / m.max(1) as f64).sqrt();
    EpisodeQuality {
        seed,
        ret,
        success,
        tail_abs_theta,
        settling_step,
        chatter,
        peak_torque,
        rms_torque,
    }
}

/// Summary over episodes (the JSON object of `trainer eval --json`, per controller).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualitySummary {
    /// Episodes.
    pub episodes: usize,
    /// Mean return.
    pub mean_return: f64,
    /// Standard error of the mean return (sample standard deviation / √n).
    pub stderr_return: f64,
    /// Lowest return.
    pub worst_return: f64,
    /// Fraction of successful episodes (0..1).
    pub success_rate: f64,
    /// Mean over successful episodes of the tail mean |θ| \[rad\] (NaN → null if none).
    pub steady_state_abs_theta: Option<f64>,
    /// Mean settling step over successful episodes (null if none).
    pub settling_steps: Option<f64>,
    /// Mean chatter over all episodes [N·m per step].
    pub chatter: f64,
    /// Largest |u| over all episodes [N·m].
    pub peak_torque: f64,
    /// Mean over episodes of the episode's RMS torque [N·m].
    pub rms_torque: f64,
}

/// Mean and standard error (sample standard deviation / √n) of `x`.
pub fn mean_stderr(x: &[f64]) -> (f64, f64) {
    let n = x.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    (mean, (var / n as f64).sqrt())
}

impl QualitySummary {
    /// Summarises episodes.
    pub fn of(eps: &[EpisodeQuality]) -> Self {
        let returns: Vec<f64> = eps.iter().map(|e| e.ret).collect();
        let (mean_return, stderr_return) = mean_stderr(&returns);
        let ok: Vec<&EpisodeQuality> = eps.iter().filter(|e| e.success).collect();
        let mean_of = |f: &dyn Fn(&EpisodeQuality) -> f64| {
            (!ok.is_empty()).then(|| ok.iter().map(|e| f(e)).sum::<f64>() / ok.len() as f64)
        };
        let n = eps.len().max(1) as f64;
        Self {
            episodes: eps.len(),
            mean_return,
            stderr_return,
            worst_return: returns.iter().copied().fold(f64::INFINITY, f64::min),
            success_rate: ok.len() as f64 / n,
            steady_state_abs_theta: mean_of(&|e| e.tail_abs_theta),
            settling_steps: mean_of(&|e| e.settling_step.unwrap_or(0) as f64),
            chatter: eps.iter().map(|e| e.chatter).sum::<f64>() / n,
            peak_torque: eps.iter().fold(0.0f64, |a, e| a.max(e.peak_torque)),
            rms_torque: eps.iter().map(|e| e.rms_torque).sum::<f64>() / n,
        }
    }
}

/// A deterministic controller: writes the command for an observation.
pub trait Controller: Sync {
    /// The command for `obs` (into `action`).
    fn act(&self, obs: &[f32], action: &mut [f32]);

    /// Inputs the controller takes: the plant's observation (3), or 4 for a policy that also
    /// observes the previous applied action (`sim::feedback`, appended by the episode loop).
    fn input_dim(&self) -> usize {
        3
    }
}

impl Controller for sim::controllers::EnergySwingUp {
    fn act(&self, obs: &[f32], action: &mut [f32]) {
        let o = [obs[0], obs[1], obs[2]];
        action[0] = sim::controllers::EnergySwingUp::act(self, &o);
    }
}

/// Angle, velocity and torque of one episode over time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeTrace {
    /// Control period \[s\] between samples.
    pub dt: f64,
    /// True angle θ \[rad\] after each step (wrapped; 0 = upright).
    pub theta: Vec<f64>,
    /// True angular velocity θ̇ [rad/s] after each step.
    pub theta_dot: Vec<f64>,
    /// Torque command the plant received at each step [N·m].
    pub torque: Vec<f64>,
}

/// The conditions of an evaluation's episodes beyond the rig itself.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Conditions {
    /// Link loss: the probability that a step's new command is lost (0 = none; see the
    /// [module docs](self)).
    pub hold_prob: f64,
    /// Fast starts: when set, each episode starts from θ ~ U(±π), θ̇ ~ U(±this) \[rad/s\]
    /// ([`fast_start`], drawn from the episode's seed) instead of the rig's reset state; the
    /// plant's randomisation is the rig's as usual.
    pub fast_start_speed: Option<f64>,
}

impl Conditions {
    /// Link loss with hold probability `hold_prob`, the rig's own starts.
    pub fn hold(hold_prob: f64) -> Self {
        Self {
            hold_prob,
            fast_start_speed: None,
        }
    }
}

/// A fast start `(θ, θ̇)`: θ ~ U(±π), θ̇ ~ U(±`speed`) \[rad, rad/s\].
pub fn fast_start(rng: &mut impl Rng, speed: f64) -> (f64, f64) {
    let th = rng.random_range(-std::f64::consts::PI..std::f64::consts::PI);
    let w = if speed > 0.0 {
        rng.random_range(-speed..=speed)
    } else {
        0.0
    };
    (th, w)
}

/// Runs one episode of `ctrl` on `plant` from `seed` with hold probability `hold_prob`;
/// returns its figures and fills `trace`.
pub fn run_episode(
    plant: &mut RigPlant,
    ctrl: &dyn Controller,
    seed: u64,
    hold_prob: f64,
    trace: &mut EpisodeTrace,
) -> EpisodeQuality {
    run_episode_in(plant, ctrl, seed, Conditions::hold(hold_prob), trace)
}

/// [`run_episode`] under `conditions`.
pub fn run_episode_in(
    plant: &mut RigPlant,
    ctrl: &dyn Controller,
    seed: u64,
    conditions: Conditions,
    trace: &mut EpisodeTrace,
) -> EpisodeQuality {
    let hold_prob = conditions.hold_prob;
    // The plant's observation, then (for a controller with 4 inputs) the previous applied
    // command: the convention of `sim::feedback`.
    let mut obs = [0.0f32; 4];
    let inputs = ctrl.input_dim().clamp(3, 4);
    let mut action = [0.0f32; 1];
    let (low, high) = (plant.action_low()[0], plant.action_high()[0]);
    plant.reset(seed, &mut obs[..3]);
    if let Some(speed) = conditions.fast_start_speed {
        let mut starts = ChaCha8Rng::seed_from_u64(seed);
        starts.set_stream(9);
        let (th, w) = fast_start(&mut starts, speed);
        plant.set_state(nalgebra::Vector2::new(th, w));
        obs[..3].copy_from_slice(&plant.observation());
    }
    let mut losses = ChaCha8Rng::seed_from_u64(seed);
    losses.set_stream(7);
    trace.dt = plant.dt();
    trace.theta.clear();
    trace.theta_dot.clear();
    trace.torque.clear();
    let mut held = 0.0f32;
    let mut ret = 0.0;
    for _ in 0..plant.max_episode_steps() {
        ctrl.act(&obs[..inputs], &mut action);
        let lost = hold_prob > 0.0 && losses.random_bool(hold_prob.min(1.0));
        if !lost {
            held = sim::feedback::applied_action(action[0], low, high);
        }
        let r = plant.step(&[held], &mut obs[..3]);
        obs[3] = held;
        ret += r.reward;
        let s = plant.state();
        trace.theta.push(wrap_angle(s.x));
        trace.theta_dot.push(s.y);
        trace.torque.push(f64::from(held));
        if r.terminated || r.truncated {
            break;
        }
    }
    episode_quality(seed, ret, &trace.theta, &trace.torque)
}

/// The seed of evaluation episode `i` of an evaluation seeded with `eval_seed`.
pub fn episode_seed(eval_seed: u64, i: usize) -> u64 {
    eval_seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i as u64)
}

/// Runs `episodes` episodes (seeds from [`episode_seed`]) of `ctrl` on `rig`, split over
/// `threads` threads (the result does not depend on the split).
pub fn evaluate(
    rig: &Rig,
    ctrl: &dyn Controller,
    eval_seed: u64,
    episodes: usize,
    hold_prob: f64,
    threads: usize,
) -> Result<Vec<EpisodeQuality>, TrainError> {
    let conditions = Conditions::hold(hold_prob);
    evaluate_in(rig, ctrl, eval_seed, episodes, conditions, threads)
}

/// [`evaluate`] under `conditions`.
pub fn evaluate_in(
    rig: &Rig,
    ctrl: &dyn Controller,
    eval_seed: u64,
    episodes: usize,
    conditions: Conditions,
    threads: usize,
) -> Result<Vec<EpisodeQuality>, TrainError> {
    let plant = rig.build().map_err(TrainError::from)?;
    let threads = threads.clamp(1, episodes.max(1));
    let chunk = episodes.div_ceil(threads);
    let mut out = vec![None; episodes];
    std::thread::scope(|s| {
        for (c, slots) in out.chunks_mut(chunk.max(1)).enumerate() {
            let mut plant = plant.clone();
            s.spawn(move || {
                let mut trace = EpisodeTrace::default();
                for (j, slot) in slots.iter_mut().enumerate() {
                    let seed = episode_seed(eval_seed, c * chunk + j);
                    *slot = Some(run_episode_in(
                        &mut plant, ctrl, seed, conditions, &mut trace,
                    ));
                }
            });
        }
    });
    Ok(out.into_iter().flatten().collect())
}

/// Threads for evaluation: `TRAINER_EVAL_THREADS` when set to a positive number (a sweep sets
/// 1 for its jobs, which already fill the cores), else the machine's cores. Results do not
/// depend on it.
pub fn default_threads() -> usize {
    std::env::var(EVAL_THREADS_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| (1..=256).contains(&n))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The environment variable that caps [`default_threads`].
pub const EVAL_THREADS_VAR: &str = "TRAINER_EVAL_THREADS";

/// Per-episode CSV of a policy and the baseline on the same episodes.
pub fn episodes_csv(policy: &[EpisodeQuality], baseline: &[EpisodeQuality]) -> String {
    episode_rows_csv(&[("policy", policy), ("baseline", baseline)])
}

/// One row per episode of each named controller (the columns of [`episodes_csv`]).
pub fn episode_rows_csv(groups: &[(&str, &[EpisodeQuality])]) -> String {
    let rows = groups.iter().flat_map(|(name, eps)| {
        eps.iter().enumerate().map(move |(i, e)| EpisodeRow {
            controller: std::borrow::Cow::Borrowed(name),
            episode: i,
            seed: e.seed,
            r#return: e.ret,
            success: u8::from(e.success),
            tail_abs_theta: e.tail_abs_theta,
            settling_step: e.settling_step,
            chatter: e.chatter,
            peak_torque: e.peak_torque,
            rms_torque: e.rms_torque,
        })
    });
    crate::metrics::csv_text(rows, true)
}

/// Reads back the episodes of `controller` from a CSV written by [`episode_rows_csv`].
pub fn read_episode_rows(
    path: &std::path::Path,
    controller: &str,
) -> Result<Vec<EpisodeQuality>, TrainError> {
    let bad = |e: csv::Error| TrainError::Mismatch(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(bad)?;
    let mut eps = Vec::new();
    for row in reader.deserialize::<EpisodeRow>() {
        let r = row.map_err(bad)?;
        if r.controller == controller {
            eps.push(EpisodeQuality {
                seed: r.seed,
                ret: r.r#return,
                success: r.success != 0,
                tail_abs_theta: r.tail_abs_theta,
                settling_step: r.settling_step,
                chatter: r.chatter,
                peak_torque: r.peak_torque,
                rms_torque: r.rms_torque,
            });
        }
    }
    Ok(eps)
}

/// A row of the per-episode CSV.
#[derive(Serialize, serde::Deserialize)]
struct EpisodeRow<'a> {
    controller: std::borrow::Cow<'a, str>,
    episode: usize,
    seed: u64,
    r#return: f64,
    success: u8,
    tail_abs_theta: f64,
    settling_step: Option<usize>,
    chatter: f64,
    peak_torque: f64,
    rms_torque: f64,
}

/// A policy and the rig's baseline on the same episodes (the object `trainer eval --json`
/// prints).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The rig's name.
    pub rig: String,
    /// Episodes per controller.
    pub episodes: usize,
    /// Evaluation seed.
    pub seed: u64,
    /// Probability that a step's new command is lost (held).
    pub hold_prob: f64,
    /// Fast starts (`trainer eval --fast-start-speed`): the episodes started from θ ~ U(±π),
    /// θ̇ ~ U(±this) \[rad/s\] instead of the rig's resets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fast_start_speed: Option<f64>,
    /// The policy's figures.
    pub policy: QualitySummary,
    /// The swing-up + LQR baseline's figures.
    pub baseline: QualitySummary,
    /// Mean of the per-episode return differences, policy minus baseline.
    pub paired_diff_mean: f64,
    /// Standard error of that mean.
    pub paired_diff_stderr: f64,
    /// Episodes the policy keeps upright that the baseline does not.
    pub policy_only_successes: usize,
    /// Episodes the baseline keeps upright that the policy does not.
    pub baseline_only_successes: usize,
    /// The optimal-control reference on the same episodes (`trainer eval --optimum`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimum: Option<OptimumComparison>,
}

/// The optimiser's figures and both controllers' paired gaps to it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OptimumComparison {
    /// The optimiser's figures (its sequences replayed on the rig).
    pub summary: QualitySummary,
    /// Optimum minus policy, per episode.
    pub policy_gap: crate::optimum::Gap,
    /// Optimum minus baseline, per episode.
    pub baseline_gap: crate::optimum::Gap,
}

impl Comparison {
    /// Pairs the per-episode figures of a policy and the baseline (same seeds, same order).
    pub fn of(
        rig: &str,
        seed: u64,
        hold_prob: f64,
        policy: &[EpisodeQuality],
        baseline: &[EpisodeQuality],
    ) -> Self {
        let diffs: Vec<f64> = policy
            .iter()
            .zip(baseline)
            .map(|(p, b)| p.ret - b.ret)
            .collect();
        let (paired_diff_mean, paired_diff_stderr) = mean_stderr(&diffs);
        let count = |f: &dyn Fn(&EpisodeQuality, &EpisodeQuality) -> bool| {
            policy.iter().zip(baseline).filter(|(p, b)| f(p, b)).count()
        };
        Self {
            rig: rig.to_string(),
            episodes: policy.len(),
            seed,
            hold_prob,
            fast_start_speed: None,
            policy: QualitySummary::of(policy),
            baseline: QualitySummary::of(baseline),
            paired_diff_mean,
            paired_diff_stderr,
            policy_only_successes: count(&|p, b| p.success && !b.success),
            baseline_only_successes: count(&|p, b| b.success && !p.success),
            optimum: None,
        }
    }

    /// Adds the optimal-control reference (same episodes, same order as the controllers').
    pub fn with_optimum(
        mut self,
        optimum: &[EpisodeQuality],
        policy: &[EpisodeQuality],
        baseline: &[EpisodeQuality],
    ) -> Self {
        self.optimum = Some(OptimumComparison {
            summary: QualitySummary::of(optimum),
            policy_gap: crate::optimum::Gap::of(optimum, policy),
            baseline_gap: crate::optimum::Gap::of(optimum, baseline),
        });
        self
    }

    /// The side-by-side table printed by `trainer eval`.
    pub fn table(&self) -> String {
        let opt =
            |x: Option<f64>, prec: usize| x.map_or("-".to_string(), |v| format!("{v:.prec$}"));
        type Cell = dyn Fn(&QualitySummary) -> String;
        let rows: [(&str, Box<Cell>); 8] = [
            (
                "mean return ± s.e.",
                Box::new(|q| format!("{:.1} ± {:.1}", q.mean_return, q.stderr_return)),
            ),
            (
                "worst return",
                Box::new(|q| format!("{:.1}", q.worst_return)),
            ),
            (
                "success rate",
                Box::new(|q| format!("{:.1} %", 100.0 * q.success_rate)),
            ),
            (
                "steady-state |θ| [rad]",
                Box::new(move |q| opt(q.steady_state_abs_theta, 4)),
            ),
            (
                "settling [steps]",
                Box::new(move |q| opt(q.settling_steps, 1)),
            ),
            (
                "chatter [N·m/step]",
                Box::new(|q| format!("{:.4}", q.chatter)),
            ),
            (
                "peak torque [N·m]",
                Box::new(|q| format!("{:.3}", q.peak_torque)),
            ),
            (
                "RMS torque [N·m]",
                Box::new(|q| format!("{:.3}", q.rms_torque)),
            ),
        ];
        let optimum = self.optimum.as_ref().map(|o| &o.summary);
        let mut s = format!("{:<24} {:>18} {:>18}", "", "policy", "swing-up + LQR");
        if optimum.is_some() {
            s.push_str(&format!(" {:>18}", "optimum (iLQR)"));
        }
        s.push('\n');
        for (name, cell) in rows {
            s.push_str(&format!(
                "{name:<24} {:>18} {:>18}",
                cell(&self.policy),
                cell(&self.baseline)
            ));
            if let Some(o) = optimum {
                s.push_str(&format!(" {:>18}", cell(o)));
            }
            s.push('\n');
        }
        s.push_str(&format!(
            "{:<24} {:>18} {:>18}\n",
            "upright only with", self.policy_only_successes, self.baseline_only_successes
        ));
        s.push_str(&format!(
            "paired return difference (policy − baseline): {:.1} ± {:.1}\n",
            self.paired_diff_mean, self.paired_diff_stderr
        ));
        if let Some(o) = &self.optimum {
            for (who, g) in [("policy", &o.policy_gap), ("baseline", &o.baseline_gap)] {
                s.push_str(&format!(
                    "gap to the optimum ({who}): {:.2} ± {:.2}, worst {:.1} (episode seed {}); {} episodes where the {who} beat the optimiser\n",
                    g.mean, g.stderr, g.worst, g.worst_seed, g.controller_better
                ));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_offset_gives_the_hand_computed_steady_state_error() {
        // Falls for 100 steps, then holds at 0.05 rad for the last 100 steps.
        let theta: Vec<f64> = (0..200).map(|k| if k < 100 { 2.0 } else { 0.05 }).collect();
        let torque = vec![0.5; 200];
        let q = episode_quality(1, -10.0, &theta, &torque);
        assert!(q.success);
        assert!((q.tail_abs_theta - 0.05).abs() < 1e-12);
        assert_eq!(q.settling_step, Some(100));
        assert_eq!(q.chatter, 0.0);
        assert_eq!(q.peak_torque, 0.5);
        assert!((q.rms_torque - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_known_chatter_gives_the_hand_computed_figures() {
        // ±0.2 N·m alternating every step: |Δu| = 0.4 on every step of the window.
        let theta = vec![0.0; 200];
        let torque: Vec<f64> = (0..200)
            .map(|k| if k % 2 == 0 { 0.2 } else { -0.2 })
            .collect();
        let q = episode_quality(0, 0.0, &theta, &torque);
        assert!((q.chatter - 0.4).abs() < 1e-12, "{}", q.chatter);
        assert!((q.rms_torque - 0.2).abs() < 1e-12);
        assert_eq!(q.settling_step, Some(0));
        // A ramp 0, 0.01, 0.02, ...: chatter 0.01 per step.
        let ramp: Vec<f64> = (0..200).map(|k| 0.01 * k as f64).collect();
        let q = episode_quality(0, 0.0, &theta, &ramp);
        assert!((q.chatter - 0.01).abs() < 1e-12);
    }

    #[test]
    fn failure_and_late_fall_are_not_success() {
        let mut theta = vec![0.0; 200];
        theta[199] = 0.2; // falls out on the last step
        let q = episode_quality(0, 0.0, &theta, &[0.0; 200]);
        assert!(!q.success);
        assert_eq!(q.settling_step, None);
        let s = QualitySummary::of(&[q]);
        assert_eq!(s.success_rate, 0.0);
        assert_eq!(s.steady_state_abs_theta, None);
    }

    #[test]
    fn a_lost_command_is_held_and_losses_are_paired() {
        let rig = Rig::preset("reference").unwrap();
        let lqr = rig.baseline().unwrap();
        let mut plant = rig.build().unwrap();
        let mut trace = EpisodeTrace::default();
        // Every command lost: the plant only ever sees the initial 0.
        let q = run_episode(&mut plant, &lqr, 3, 1.0, &mut trace);
        assert!(trace.torque.iter().all(|&u| u == 0.0));
        assert_eq!(q.peak_torque, 0.0);
        // Half lost: same episode, same losses, so the same trace twice.
        run_episode(&mut plant, &lqr, 3, 0.5, &mut trace);
        let first = trace.clone();
        run_episode(&mut plant, &lqr, 3, 0.5, &mut trace);
        assert_eq!(first, trace);
        let held = first.torque.windows(2).filter(|w| w[0] == w[1]).count();
        assert!(held > 50, "about half of 200 steps hold: {held}");
    }

    #[test]
    fn fast_starts_spin_the_rod_and_are_the_same_for_every_controller() {
        let rig = Rig::preset("realistic").unwrap();
        let mut plant = rig.build().unwrap();
        let lqr = rig.baseline().unwrap();
        let fast = Conditions {
            hold_prob: 0.0,
            fast_start_speed: Some(8.0),
        };
        let mut trace = EpisodeTrace::default();
        let (mut fastest, mut nominal_fastest) = (0.0f64, 0.0f64);
        for seed in 0..40 {
            run_episode_in(&mut plant, &lqr, seed, fast, &mut trace);
            fastest = fastest.max(trace.theta_dot[0].abs());
            let first = (trace.theta[0], trace.theta_dot[0]);
            // The same seed starts the same way (so policy and baseline are paired).
            run_episode_in(&mut plant, &lqr, seed, fast, &mut trace);
            assert_eq!((trace.theta[0], trace.theta_dot[0]), first);
            run_episode(&mut plant, &lqr, seed, 0.0, &mut trace);
            nominal_fastest = nominal_fastest.max(trace.theta_dot[0].abs());
        }
        // The resets draw θ̇ ~ U(±1); one 50 ms step changes it by at most ~0.6 rad/s.
        assert!(nominal_fastest < 2.0, "{nominal_fastest}");
        assert!(fastest > 6.0, "{fastest}");
        // A start speed of 0 starts at rest.
        let rest = Conditions {
            fast_start_speed: Some(0.0),
            ..fast
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(fast_start(&mut rng, 0.0).1, 0.0);
        run_episode_in(&mut plant, &lqr, 3, rest, &mut trace);
        assert!(trace.theta_dot[0].abs() < 1.0, "{}", trace.theta_dot[0]);
    }

    /// A controller with 4 inputs that commands 1 minus its 4th input (so its commands
    /// alternate 1, 0, 1, ... while none is lost) and records its 4th inputs.
    struct Toggle(std::sync::Mutex<Vec<f32>>);

    impl Controller for Toggle {
        fn act(&self, obs: &[f32], action: &mut [f32]) {
            assert_eq!(obs.len(), 4);
            self.0.lock().unwrap().push(obs[3]);
            action[0] = 1.0 - obs[3];
        }

        fn input_dim(&self) -> usize {
            4
        }
    }

    #[test]
    fn a_four_input_controller_observes_the_previous_applied_command() {
        let rig = Rig::preset("realistic").unwrap();
        let mut plant = rig.build().unwrap();
        let mut trace = EpisodeTrace::default();
        let toggle = Toggle(std::sync::Mutex::new(Vec::new()));
        run_episode(&mut plant, &toggle, 1, 0.0, &mut trace);
        let seen = std::mem::take(&mut *toggle.0.lock().unwrap());
        // 0 after the reset, then the applied command.
        assert_eq!(&seen[..6], &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        assert_eq!(seen.len(), trace.torque.len());
        // Under link loss the held command is what the plant applied, and what is fed back.
        run_episode(&mut plant, &toggle, 1, 0.5, &mut trace);
        let seen = std::mem::take(&mut *toggle.0.lock().unwrap());
        assert_eq!(seen[0], 0.0);
        for (k, &u) in trace.torque.iter().enumerate().take(seen.len() - 1) {
            assert_eq!(seen[k + 1], u as f32, "step {k}");
        }
        // Commands were lost (a command repeated), and yet the feedback followed the plant.
        assert!(trace.torque.windows(2).any(|w| w[0] == w[1]));
    }

    #[test]
    fn the_rig_baseline_swings_up_and_holds_the_realistic_rig() {
        let rig = Rig::preset("realistic").unwrap();
        let lqr = rig.baseline().unwrap();
        let eps = evaluate(&rig, &lqr, 0, 50, 0.0, 2).unwrap();
        let s = QualitySummary::of(&eps);
        assert_eq!(s.success_rate, 1.0, "{s:?}");
        assert!(s.steady_state_abs_theta.unwrap() < 0.01, "{s:?}");
        // The split over threads does not change the result.
        assert_eq!(evaluate(&rig, &lqr, 0, 50, 0.0, 1).unwrap(), eps);
    }

    #[test]
    fn summary_stderr_is_sample_std_over_sqrt_n() {
        let eps: Vec<EpisodeQuality> = [1.0, 2.0, 3.0, 4.0]
            .iter()
            .map(|&r| episode_quality(0, r, &[0.0; 60], &[0.0; 60]))
            .collect();
        let s = QualitySummary::of(&eps);
        assert_eq!(s.mean_return, 2.5);
        // sample variance 5/3, /4 → sqrt(5/12)
        assert!((s.stderr_return - (5.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.worst_return, 1.0);
        assert_eq!(s.success_rate, 1.0);
    }
}
