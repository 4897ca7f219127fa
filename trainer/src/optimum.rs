//! `trainer eval --optimum`: the optimal-control reference on the evaluation's own episodes.
//!
//! For each episode (same seed, so the same initial state as the policy and the baseline saw),
//! [`sim::optimal::TrajectoryOptimizer`] finds the action sequence with the highest return on the
//! deterministic rig; it is replayed through the rig's plant for the same per-episode figures as
//! a controller (return, success, settling, chatter, torque). The comparison then reports the
//! paired gap `optimum − controller` per episode (mean ± standard error, and the worst episode).
//! The optimiser is a lower bound on the true optimum; episodes on which a controller beats it
//! are counted and reported, not hidden.

use serde::Serialize;
use sim::optimal::{OptimalTrajectory, TrajectoryOptimizer, Workspace};
use sim::{Pendulum, Rig, wrap_angle};

use crate::error::TrainError;
use crate::quality::{EpisodeQuality, episode_quality, episode_seed, mean_stderr};

/// The optimiser's per-episode figures on `episodes` evaluation episodes of `rig` (seeds from
/// [`episode_seed`]), over `threads` threads (the result does not depend on the split).
pub fn evaluate_optimum(
    rig: &Rig,
    eval_seed: u64,
    episodes: usize,
    threads: usize,
) -> Result<Vec<EpisodeQuality>, TrainError> {
    let optimiser = TrajectoryOptimizer::for_rig(rig, threads)?;
    // `for_rig` accepted the rig, so it is the reference model: its plant is this `Pendulum`
    // (same reset, same step).
    let plant = Pendulum::new(rig.reference_params()).map_err(|source| sim::RigError::Param {
        rig: rig.name.clone(),
        source,
    })?;
    let threads = threads.clamp(1, episodes.max(1));
    let chunk = episodes.div_ceil(threads).max(1);
    let mut out = vec![None; episodes];
    std::thread::scope(|s| {
        for (c, slots) in out.chunks_mut(chunk).enumerate() {
            let (mut plant, optimiser) = (plant.clone(), &optimiser);
            s.spawn(move || {
                let mut ws = Workspace::default();
                for (j, slot) in slots.iter_mut().enumerate() {
                    let seed = episode_seed(eval_seed, c * chunk + j);
                    plant.reset_seeded(seed);
                    let best = optimiser.solve(plant.state(), &mut ws);
                    *slot = Some(replay(&mut plant, seed, &best));
                }
            });
        }
    });
    Ok(out.into_iter().flatten().collect())
}

/// Replays an optimised sequence on the plant from its episode's initial state, in `f64`.
///
/// The sequence is open loop around an unstable equilibrium: rounding its torques to `f32`
/// (what a controller's command goes through) perturbs the state by ~1e-8, which grows by
/// e^(√15·t) and loses the upright within the episode. The optimum is a property of the exact
/// model, so it is replayed exactly.
fn replay(plant: &mut Pendulum, seed: u64, best: &OptimalTrajectory) -> EpisodeQuality {
    plant.reset_seeded(seed);
    let (mut theta, mut torque) = (Vec::new(), Vec::new());
    let mut ret = 0.0;
    for &u in &best.actions {
        let r = plant.step_torque(u);
        ret += r.reward;
        theta.push(wrap_angle(plant.state().x));
        torque.push(u);
        if r.terminated || r.truncated {
            break;
        }
    }
    episode_quality(seed, ret, &theta, &torque)
}

/// The paired gap between the optimum and a controller on the same episodes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gap {
    /// Mean of `optimum − controller` over episodes.
    pub mean: f64,
    /// Standard error of that mean.
    pub stderr: f64,
    /// The largest per-episode gap.
    pub worst: f64,
    /// Seed of the episode with the largest gap.
    pub worst_seed: u64,
    /// Episodes on which the controller scored higher than the optimiser (by more than 1e-6).
    pub controller_better: usize,
}

impl Gap {
    /// Pairs `optimum` with `controller` (same seeds, same order).
    pub fn of(optimum: &[EpisodeQuality], controller: &[EpisodeQuality]) -> Self {
        let gaps: Vec<f64> = optimum
            .iter()
            .zip(controller)
            .map(|(o, c)| o.ret - c.ret)
            .collect();
        let (mean, stderr) = mean_stderr(&gaps);
        let (worst_index, worst) =
            gaps.iter()
                .copied()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |b, (i, g)| if g > b.1 { (i, g) } else { b },
                );
        Self {
            mean,
            stderr,
            worst,
            worst_seed: optimum.get(worst_index).map_or(0, |e| e.seed),
            controller_better: gaps.iter().filter(|&&g| g < -1e-6).count(),
        }
    }
}
