//! Evaluation: noise-free episodes of a policy on the reference model or the high-fidelity
//! plant, and loading exported files through `policy-runtime`.

use crate::config::Plant;
use crate::error::TrainError;
use policy_runtime::{Policy, format};
use sim::Environment;

/// The seed of evaluation episode `i` of an evaluation seeded with `eval_seed`.
pub fn episode_seed(eval_seed: u64, i: usize) -> u64 {
    eval_seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i as u64)
}

/// Builds the plant an evaluation runs on.
pub fn make_env(plant: Plant) -> Result<Box<dyn Environment + Send>, TrainError> {
    Ok(match plant {
        Plant::Reference => Box::new(sim::Pendulum::default()),
        Plant::Hifi => Box::new(
            sim::HiFiPendulum::new(sim::HiFiParams::realistic())
                .map_err(|e| TrainError::Env(e.to_string()))?,
        ),
    })
}

/// Angle, velocity and torque of one episode over time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeTrace {
    /// Control period [s] between samples.
    pub dt: f64,
    /// Angle θ [rad] from the observation (atan2(sin θ, cos θ); 0 = upright).
    pub theta: Vec<f64>,
    /// Angular velocity θ̇ [rad/s].
    pub theta_dot: Vec<f64>,
    /// Applied torque [N·m] (clipped to the bounds).
    pub torque: Vec<f64>,
}

/// Returns of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// Seed of each episode.
    pub seeds: Vec<u64>,
    /// Undiscounted return of each episode.
    pub returns: Vec<f64>,
}

impl EvalReport {
    /// Mean return.
    pub fn mean(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len().max(1) as f64
    }

    /// Population standard deviation of the returns.
    pub fn std(&self) -> f64 {
        let m = self.mean();
        let n = self.returns.len().max(1) as f64;
        (self.returns.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / n).sqrt()
    }

    /// Per-episode CSV (`episode,seed,return`).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("episode,seed,return\n");
        for (i, (seed, r)) in self.seeds.iter().zip(&self.returns).enumerate() {
            s.push_str(&format!("{i},{seed},{r}\n"));
        }
        s
    }
}

/// Runs `episodes` full episodes (seeds from [`episode_seed`]) with the deterministic
/// `policy(obs, action_out)`; records episode 0 into `trace` when given.
pub fn evaluate<P>(
    env: &mut dyn Environment,
    mut policy: P,
    eval_seed: u64,
    episodes: usize,
    mut trace: Option<&mut EpisodeTrace>,
) -> Result<EvalReport, TrainError>
where
    P: FnMut(&[f32], &mut [f32]) -> Result<(), TrainError>,
{
    let mut obs = vec![0.0f32; env.observation_dim()];
    let mut next = obs.clone();
    let mut action = vec![0.0f32; env.action_dim()];
    let (low, high) = (env.action_low().to_vec(), env.action_high().to_vec());
    let mut report = EvalReport {
        seeds: Vec::with_capacity(episodes),
        returns: Vec::with_capacity(episodes),
    };
    for i in 0..episodes {
        let seed = episode_seed(eval_seed, i);
        env.reset(seed, &mut obs);
        let mut ret = 0.0;
        for _ in 0..env.max_episode_steps() {
            policy(&obs, &mut action)?;
            if let (0, Some(t)) = (i, trace.as_deref_mut()) {
                t.theta.push(f64::from(obs[1]).atan2(f64::from(obs[0])));
                t.theta_dot.push(f64::from(obs[2]));
                t.torque.push(f64::from(action[0].clamp(low[0], high[0])));
            }
            let res = env.step(&action, &mut next);
            ret += res.reward;
            std::mem::swap(&mut obs, &mut next);
            if res.terminated || res.truncated {
                break;
            }
        }
        report.seeds.push(seed);
        report.returns.push(ret);
    }
    Ok(report)
}

/// A policy loaded through `policy-runtime`, with its dimensions chosen at run time from
/// the file among the compiled-in sizes.
pub trait RuntimeActor {
    /// Writes the action for `obs` into `action`.
    fn act_into(&self, obs: &[f32], action: &mut [f32]);
    /// `(obs, hidden1, hidden2, act)`.
    fn dims(&self) -> (usize, usize, usize, usize);
}

impl<const O: usize, const H1: usize, const H2: usize, const A: usize> RuntimeActor
    for Policy<O, H1, H2, A>
{
    fn act_into(&self, obs: &[f32], action: &mut [f32]) {
        let mut o = [0.0f32; O];
        o.copy_from_slice(obs);
        action.copy_from_slice(&self.act(&o).action);
    }

    fn dims(&self) -> (usize, usize, usize, usize) {
        (O, H1, H2, A)
    }
}

macro_rules! supported_sizes {
    ($($o:literal, $h1:literal, $h2:literal, $a:literal;)*) => {
        /// Network sizes `(obs, hidden1, hidden2, act)` that `eval` can load.
        pub const SUPPORTED_SIZES: &[(usize, usize, usize, usize)] = &[$(($o, $h1, $h2, $a)),*];

        fn load_sized(
            bytes: &[u8],
            dims: (usize, usize, usize, usize),
        ) -> Option<Result<Box<dyn RuntimeActor>, policy_runtime::LoadError>> {
            match dims {
                $(($o, $h1, $h2, $a) => Some(
                    Policy::<$o, $h1, $h2, $a>::from_bytes(bytes)
                        .map(|p| Box::new(p) as Box<dyn RuntimeActor>),
                ),)*
                _ => None,
            }
        }
    };
}

supported_sizes! {
    3, 16, 16, 1;
    3, 32, 32, 1;
    3, 64, 64, 1;
    3, 128, 128, 1;
    3, 256, 256, 1;
    3, 400, 300, 1;
}

/// Loads an exported weight file through `policy-runtime` (`path` is only used in messages).
pub fn load_runtime_policy(bytes: &[u8], path: &str) -> Result<Box<dyn RuntimeActor>, TrainError> {
    let err = |reason: String| TrainError::Policy {
        path: path.to_string(),
        reason,
    };
    let view = format::decode(bytes).map_err(|e| err(e.to_string()))?;
    let (h1, h2) = view.hidden();
    let dims = (view.obs_dim(), h1, h2, view.act_dim());
    match load_sized(bytes, dims) {
        Some(p) => p.map_err(|e| err(e.to_string())),
        None => Err(err(format!(
            "network size {}-{}-{}-{} is not supported by eval (supported: {})",
            dims.0,
            dims.1,
            dims.2,
            dims.3,
            SUPPORTED_SIZES
                .iter()
                .map(|(o, a, b, c)| format!("{o}-{a}-{b}-{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Reads a weight file from disk and loads it through `policy-runtime`.
pub fn load_policy_file(path: &std::path::Path) -> Result<Box<dyn RuntimeActor>, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::Policy {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    load_runtime_policy(&bytes, &path.display().to_string())
}

/// Evaluates a runtime policy on `plant` (checks that its dimensions fit the plant).
pub fn evaluate_runtime(
    actor: &dyn RuntimeActor,
    plant: Plant,
    eval_seed: u64,
    episodes: usize,
    trace: Option<&mut EpisodeTrace>,
) -> Result<EvalReport, TrainError> {
    let mut env = make_env(plant)?;
    let (o, _, _, a) = actor.dims();
    if o != env.observation_dim() || a != env.action_dim() {
        return Err(TrainError::Env(format!(
            "policy has {o} observations and {a} actions, the plant {} and {}",
            env.observation_dim(),
            env.action_dim()
        )));
    }
    evaluate(
        env.as_mut(),
        |obs, act| {
            actor.act_into(obs, act);
            Ok(())
        },
        eval_seed,
        episodes,
        trace,
    )
}
