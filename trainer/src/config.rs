//! The run configuration: every hyperparameter with its default and meaning.
//!
//! A [`TrainConfig`] can be loaded from a TOML file (missing keys take their defaults, unknown
//! keys are an error) and every field can be overridden from the command line through
//! [`ConfigOverrides`] (`--field-name value`, generated from the same field list so the two
//! never drift apart).

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Exploration noise added to the actor's action during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    /// Independent Gaussian noise, `N(0, σ²)` per step.
    Gaussian,
    /// Ornstein–Uhlenbeck process (temporally correlated), reset at every episode start.
    Ou,
}

/// Errors in a configuration (from a file or from the command line).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read config file {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The configuration file is not valid TOML for [`TrainConfig`] (for example an unknown key).
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What the TOML parser said.
        message: String,
    },
    /// A field has a value outside its allowed range.
    #[error("invalid value for `{field}`: {reason}")]
    Invalid {
        /// The field (as named in the TOML file; the CLI flag is `--` plus the name with `-`).
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

macro_rules! train_config {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty = $default:expr ;)*) => {
        /// Every hyperparameter of a training run. The defaults train the robust controller
        /// for the `realistic` rig (measured figures in `policies/README.md`).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct TrainConfig {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for TrainConfig {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        /// Command-line overrides of [`TrainConfig`]: one optional flag per field.
        #[derive(Debug, Clone, Default, PartialEq, clap::Args)]
        pub struct ConfigOverrides {
            $( $(#[doc = $doc])* #[arg(long, help_heading = "Hyperparameters (override the config)")]
               pub $field: Option<$ty>, )*
        }

        impl ConfigOverrides {
            /// Writes every flag that was given into `config`.
            pub fn apply(&self, config: &mut TrainConfig) {
                $( if let Some(v) = &self.$field { config.$field = v.clone(); } )*
            }

            /// Whether the flag of `field` (named as in the TOML file) was given.
            pub fn is_given(&self, field: &str) -> bool {
                $( if field == stringify!($field) { return self.$field.is_some(); } )*
                false
            }
        }
    };
}

/// Largest `total_steps` accepted (about two months of training at 2,000 steps/s).
pub const MAX_TOTAL_STEPS: u64 = 10_000_000_000;
/// Largest `buffer_capacity` accepted (transitions; 3.6 GB of storage for the pendulum). A new
/// run also checks the buffer against the memory available: see
/// [`TrainConfig::replay_bytes`].
pub const MAX_BUFFER_CAPACITY: usize = 100_000_000;
/// Largest `batch_size` accepted.
pub const MAX_BATCH_SIZE: usize = 65_536;
/// Largest `updates_per_step` accepted.
pub const MAX_UPDATES_PER_STEP: usize = 1_000;
/// Largest `eval_episodes`, `final_eval_episodes` and `select_episodes` accepted.
pub const MAX_EVAL_EPISODES: usize = 10_000_000;
/// Largest `select_candidates` accepted (each is a policy file of a few kilobytes on disk).
pub const MAX_SELECT_CANDIDATES: usize = 1_000;

train_config! {
    /// Seed of the run: every random source (initial weights, exploration, replay sampling,
    /// episode starts) is derived from it.
    seed: u64 = 0;
    /// Number of environment steps to train for. Default: 600 episodes or 3,000 s of plant time
    /// of the training rig, whichever is more (120,000 on the 20 Hz presets, 300,000 on
    /// `desktop`; trainer/README.md) unless the config file or a flag sets it.
    total_steps: u64 = 120_000;
    /// Steps at the start taken with uniformly random actions; no gradient updates before.
    learning_starts: u64 = 1_000;
    /// Replay buffer capacity (transitions); the oldest are overwritten when full.
    buffer_capacity: usize = 100_000;
    /// Minibatch size of each gradient step.
    batch_size: usize = 64;
    /// Gradient steps (one critic + one actor update each) per environment step.
    updates_per_step: usize = 1;
    /// Discount factor γ. Default: `1 − 1/H` with the horizon `H` half an episode of the
    /// training rig (0.99 on the 20 Hz presets, 0.995 on `desktop`; trainer/README.md) unless the
    /// config file or a flag sets it.
    gamma: f64 = 0.99;
    /// Soft target update rate τ (θ' ← τθ + (1−τ)θ' after every gradient step).
    tau: f64 = 0.005;
    /// Adam learning rate of the actor.
    actor_lr: f64 = 1e-3;
    /// Adam learning rate of the critic.
    critic_lr: f64 = 1e-3;
    /// Adam β₁.
    adam_beta1: f64 = 0.9;
    /// Adam β₂.
    adam_beta2: f64 = 0.999;
    /// Adam ε.
    adam_eps: f64 = 1e-8;
    /// Actor hidden layer sizes (two ReLU layers). Exportable sizes: see `eval`.
    actor_hidden1: usize = 64;
    /// Actor second hidden layer size.
    actor_hidden2: usize = 64;
    /// Critic first hidden layer size (the critic sees observation and action concatenated).
    critic_hidden1: usize = 64;
    /// Critic second hidden layer size.
    critic_hidden2: usize = 64;
    /// Normalise observations to [-1, 1] from the environment's finite bounds (the offsets and
    /// scales are written into the exported policy).
    normalize_observations: bool = true;
    /// Exploration noise process.
    noise: NoiseKind = NoiseKind::Gaussian;
    /// Noise standard deviation σ as a fraction of the action half-range.
    noise_sigma: f64 = 0.1;
    /// Ornstein–Uhlenbeck mean-reversion rate θ.
    ou_theta: f64 = 0.15;
    /// Ornstein–Uhlenbeck time step dt.
    ou_dt: f64 = 1e-2;
    /// Evaluate the noise-free policy every this many environment steps (0 = never).
    eval_every: u64 = 1_000;
    /// Episodes per periodic evaluation (on a separately seeded environment).
    eval_episodes: usize = 50;
    /// Hold probability of a second periodic evaluation with simulated link loss (each step's
    /// new command lost with this probability, zero-order hold; 0 = off). `policy.postcard` is the
    /// evaluation with the most episodes upright, then the most upright under link loss, then
    /// the best return.
    eval_hold_prob: f64 = 0.0;
    /// `policy.postcard` score: return points per unit of success rate under link loss (needs
    /// `eval_hold_prob` > 0; 100 = 10 points per 10 %).
    select_hold_weight: f64 = 0.0;
    /// `policy.postcard` score: return points per rad of steady-state error (1000 = 10 points per
    /// 0.01 rad). Among evaluations with equal success, this keeps a checkpoint that holds the
    /// rod a few hundredths of a radian off upright from winning on return alone (seeds 0 and 3
    /// of the default run: 0.043 and 0.021 rad with weight 0, 0.0025 and 0.0048 with 1000;
    /// `trainer/README.md`).
    select_steady_state_weight: f64 = 1000.0;
    /// `policy.postcard` score: return points per N·m/step of chatter (20 = 10 points per 0.5):
    /// keeps a checkpoint in a torque limit cycle near upright from being selected (seed 1 of the
    /// default run: chatter 2.14 with weight 0, 0.34 with 20).
    select_chatter_weight: f64 = 20.0;
    /// `policy.postcard` validation: how many of the best periodic evaluations' actors are kept
    /// (`candidates/` in the run directory) and evaluated again at the end of the run (0 = off:
    /// the best periodic evaluation is flashed as it is). See `select_episodes`.
    select_candidates: usize = 5;
    /// `policy.postcard` validation: episodes (their own seed, apart from the periodic and the
    /// final evaluations') on which each candidate is evaluated again; the best by the same
    /// score becomes `policy.postcard` (0 = off). 50 periodic episodes cannot tell 96 % from
    /// 100 % upright: with 120,000 steps, seed 13's best periodic evaluation kept 96.2 % of
    /// 1,000 other episodes, its validated pick 100 % (`trainer/README.md`).
    select_episodes: usize = 500;
    /// Episodes of the final evaluation of the exported policies through `policy-runtime`.
    final_eval_episodes: usize = 1000;
    /// Rig the agent trains on: a preset name (`reference`, `hifi-ideal`, `realistic`,
    /// `desktop`) or a rig file (see `sim::rig`). Each training episode draws its plant from the
    /// rig's randomisation ranges (domain randomisation), seeded from the run's seed. The
    /// resolved rig is stored in the run directory (`rig.toml`) and in the checkpoint.
    rig: String = "realistic".to_string();
    /// Rig of the periodic and final evaluations (empty: the training rig).
    eval_rig: String = String::new();
    /// Store every transition twice, as observed and mirrored left-right
    /// (`(cos θ, sin θ, θ̇), u → (cos θ, −sin θ, −θ̇), −u`, same reward): the pendulum is
    /// symmetric, so the critic and actor learn an (almost) odd policy without an offset at
    /// upright. Needs symmetric action bounds.
    mirror_augmentation: bool = true;
    /// The actor and critic also observe the command the plant applied at the previous step
    /// (`sim::feedback`): the observation becomes `(cos θ, sin θ, θ̇, u_prev)`, `u_prev` 0 after
    /// a reset (mirrored to `−u_prev`). A delay of a control period is then part of what the
    /// policy sees instead of a hidden state. Left out of the config file and the flags,
    /// `train` derives it from the rig: on when an episode can draw an actuator delay of a
    /// period or more, off otherwise (`crate::rig_defaults`; this `false` is the value for the
    /// presets, which have no delay). On `rigs/examples/strong-motor.toml` (0 or 1 period of
    /// delay per episode) seeds 0–9 kept 99.5–99.7 % upright (without: 81.7 % on seed 1, 96.6 %
    /// on seed 7) and beat the LQR by 4.7 ± 1.3 more points; on `lab-50hz-delay` (always one
    /// period) a third of the chatter for 2.0 ± 1.6 points of return (`trainer/README.md`).
    /// The exported policy takes 4 inputs: `trainer eval`, `hil` and the C library take it; a
    /// firmware reading its own sensors appends its last command.
    observe_previous_action: bool = false;
    /// TD3 (Fujimoto et al. 2018): a second critic; the TD target takes the smaller of the two
    /// target critics' values (clipped double Q), against DDPG's over-estimation.
    twin_critics: bool = false;
    /// TD3's delayed policy updates: the actor and the targets are updated every this many
    /// critic updates (1 = every update, as DDPG).
    policy_delay: u64 = 1;
    /// TD3's target-policy smoothing: σ of Gaussian noise added to the target action, as a
    /// fraction of the action half-range (0 = off, as DDPG).
    target_noise: f64 = 0.0;
    /// Clip of the target-policy noise, as a fraction of the action half-range.
    target_noise_clip: f64 = 0.5;
    /// Weight `w` of an oddness term `w·mean((μ(s) + μ(mirror s))² / half-range²)` added to the
    /// actor loss: the pendulum is left-right symmetric, so the optimal policy is odd and
    /// commands zero torque upright at rest; without it the actor keeps a torque offset (and so
    /// a steady-state angle error) where the return is flat. The term is normalised by the
    /// action half-range, so on a motor much stronger than gravity it is weaker relative to
    /// the torque that matters: on `rigs/examples/strong-motor.toml` (6 N·m against Gym's
    /// 2 N·m) weight 9 held 0.0034–0.0195 rad instead of 0.0082–0.0374 (BENCHMARKS.md).
    odd_policy_weight: f64 = 1.0;
    /// Weight `w` of a temporal smoothness term `w·mean(|μ(s) − μ(s')| / half-range)` over the
    /// batch's consecutive states (CAPS, Mysore et al. 2021) added to the actor loss: it
    /// discourages a bang-bang limit cycle (torque chatter) near upright.
    smoothness_weight: f64 = 0.1;
    /// Weight `w` of a spatial smoothness term `w·mean(|μ(s) − μ(s + ε)| / half-range)` (CAPS)
    /// added to the actor loss, with fixed perturbations `ε ~ N(0, σ²)` of the normalised
    /// observation: it bounds the policy's local slope, so it cannot switch bang-bang at upright.
    spatial_smoothness_weight: f64 = 0.0;
    /// σ of the spatial smoothness perturbations, in normalised observation units (1 = half the
    /// observation range).
    spatial_smoothness_sigma: f64 = 0.02;
    /// Weight `c` of a training-only reward term `−c·|u_t − u_{t−1}|` [per N·m] that penalises
    /// torque chatter (the evaluation reward is unchanged).
    action_change_penalty: f64 = 0.0;
    /// Depth `c` of a training-only reward well `−c·(1 − exp(−θ²/(2σ²)))` around upright (θ the
    /// observed angle, σ = `angle_well_width`): `θ²` is so flat near upright that the critic
    /// cannot tell 0.03 rad from 0; the well multiplies the curvature there by `1 + c/σ²`,
    /// which raises the learned stiffness (steady-state error), without the kink of `|θ|`
    /// that invites a bang-bang limit cycle.
    angle_well_weight: f64 = 0.0;
    /// Width σ \[rad\] of the angle well.
    angle_well_width: f64 = 0.1;
    /// Probability that a training episode starts near upright (θ ~ U(±`upright_start_angle`),
    /// θ̇ ~ U(±1 rad/s)) instead of from the rig's reset distribution: more data where the
    /// fine balance is learned. Evaluation always uses the rig's own resets.
    upright_start_prob: f64 = 0.0;
    /// Half-width \[rad\] of the near-upright start angles.
    upright_start_angle: f64 = 0.3;
    /// Probability that a training episode starts spinning (θ ~ U(±π), θ̇ ~ U(±`fast_start_speed`
    /// × the rig's velocity range)) instead of from the rig's reset distribution, which draws
    /// only θ̇ ~ U(±1 rad/s): a controller that takes over a rod already swinging fast (after a
    /// knock, or a restart mid-motion) must brake it first, a state the resets never reach.
    /// With 0.1 and `select_fast_start_weight` 100, 18 of seeds 0–19 keep 100 % of 1,000 fast
    /// starts upright (the others 99.0 and 99.9 %); with 0 and 0, 16 (seed 0: 87.5 %), and the
    /// nominal figures did not get worse (`trainer/README.md`, "Fast starts").
    fast_start_prob: f64 = 0.1;
    /// Fastest start speed of `fast_start_prob` and of the selection's fast-start validation,
    /// as a fraction of the rig's velocity range (its velocity sensor's full scale: 8 rad/s on
    /// the presets).
    fast_start_speed: f64 = 1.0;
    /// `policy.postcard` score: return points per unit of success rate from fast starts (0 =
    /// off; 100 = 1 point per 1 %). When on, every periodic evaluation and validation of an
    /// actor that kept all its nominal episodes upright also runs as many episodes from fast
    /// starts (θ ~ U(±π), θ̇ ~ U(±`fast_start_speed` × the velocity range); `eval.csv` and
    /// `selection.csv` show their success rate, empty when not run).
    select_fast_start_weight: f64 = 100.0;
    /// Probability that a training step's new action is lost and the previous one held
    /// (simulated link loss, zero-order hold); the stored transition holds the applied action.
    train_hold_prob: f64 = 0.0;
    /// Write a checkpoint every this many environment steps (at the next episode end; 0 = only
    /// at the end of the run).
    checkpoint_every: u64 = 5_000;
    /// CPU threads used by candle's matrix multiplications (1 is fastest for these sizes).
    threads: usize = 1;
    /// Compute the actor regularisers' gradient on a second thread while the critic takes
    /// its step (when the machine has more than one core and `TRAINER_EVAL_THREADS` is not
    /// 1). The results are bit-identical either way; only the wall time changes.
    parallel_update: bool = true;
}

impl TrainConfig {
    /// Whether `policy.postcard` is chosen by validating candidates (`select_candidates` and
    /// `select_episodes` both above 0; see `trainer::selection`).
    pub fn validates_selection(&self) -> bool {
        self.select_candidates > 0 && self.select_episodes > 0
    }

    /// Loads a TOML file; keys not present take their defaults.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        Self::from_toml_file_with_keys(path).map(|(config, _)| config)
    }

    /// Loads a TOML file like [`TrainConfig::from_toml_file`] and also returns the keys the
    /// file sets (the fields that do not take their defaults).
    pub fn from_toml_file_with_keys(path: &Path) -> Result<(Self, Vec<String>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.display().to_string(),
            error,
        })?;
        let parse_error = |message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        };
        let config = Self::from_toml_str(&text).map_err(parse_error)?;
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| parse_error(e.to_string().trim_end().to_string()))?;
        Ok((config, table.keys().cloned().collect()))
    }

    /// Parses TOML text; returns the parser's message on error.
    pub fn from_toml_str(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    /// The configuration as TOML text (what the run directory's `config.toml` holds).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a TrainConfig always serialises")
    }

    /// Bytes of the replay buffer for `obs_dim` observations and `act_dim` actions:
    /// `capacity × (2·obs_dim + act_dim + 2) × 4`.
    pub fn replay_bytes(&self, obs_dim: usize, act_dim: usize) -> u64 {
        self.buffer_capacity as u64 * (2 * obs_dim + act_dim + 2) as u64 * 4
    }

    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_counts()?;
        for (field, value, range) in self.real_fields() {
            if let Some(reason) = range.violation(value) {
                return bad(field, reason);
            }
        }
        for (field, h) in [
            ("actor_hidden1", self.actor_hidden1),
            ("actor_hidden2", self.actor_hidden2),
            ("critic_hidden1", self.critic_hidden1),
            ("critic_hidden2", self.critic_hidden2),
        ] {
            if h == 0 || h > 4096 {
                return bad(field, format!("must be in 1..=4096, got {h}"));
            }
        }
        if self.eval_every > 0 && self.eval_episodes == 0 {
            return bad("eval_episodes", "must be at least 1 when eval_every > 0");
        }
        if self.policy_delay == 0 {
            return bad("policy_delay", "must be at least 1");
        }
        if self.rig.is_empty() {
            return bad("rig", "must name a rig preset or a rig file");
        }
        if self.threads == 0 || self.threads > 256 {
            return bad(
                "threads",
                format!("must be in 1..=256, got {}", self.threads),
            );
        }
        Ok(())
    }

    /// The counts: each at most its `MAX_*`, the ones a run cannot do without at least 1,
    /// and a buffer that holds a batch.
    fn validate_counts(&self) -> Result<(), ConfigError> {
        let counts: [(&'static str, u64, u64); 8] = [
            ("total_steps", self.total_steps, MAX_TOTAL_STEPS),
            (
                "buffer_capacity",
                self.buffer_capacity as u64,
                MAX_BUFFER_CAPACITY as u64,
            ),
            ("batch_size", self.batch_size as u64, MAX_BATCH_SIZE as u64),
            (
                "updates_per_step",
                self.updates_per_step as u64,
                MAX_UPDATES_PER_STEP as u64,
            ),
            (
                "eval_episodes",
                self.eval_episodes as u64,
                MAX_EVAL_EPISODES as u64,
            ),
            (
                "final_eval_episodes",
                self.final_eval_episodes as u64,
                MAX_EVAL_EPISODES as u64,
            ),
            (
                "select_episodes",
                self.select_episodes as u64,
                MAX_EVAL_EPISODES as u64,
            ),
            (
                "select_candidates",
                self.select_candidates as u64,
                MAX_SELECT_CANDIDATES as u64,
            ),
        ];
        for (field, v, max) in counts {
            if v > max {
                return bad(field, format!("must be at most {max}, got {v}"));
            }
        }
        for (field, v) in [
            ("total_steps", self.total_steps),
            ("batch_size", self.batch_size as u64),
            ("updates_per_step", self.updates_per_step as u64),
        ] {
            if v == 0 {
                return bad(field, "must be at least 1");
            }
        }
        if self.buffer_capacity < self.batch_size {
            return bad(
                "buffer_capacity",
                format!("must be at least batch_size ({})", self.batch_size),
            );
        }
        Ok(())
    }

    /// Every real-valued field with its allowed range, in the order they are checked.
    fn real_fields(&self) -> [(&'static str, f64, RealRange); 29] {
        use RealRange::*;
        [
            ("gamma", self.gamma, Unit),
            ("tau", self.tau, UpToOne),
            ("actor_lr", self.actor_lr, PositiveNumber),
            ("critic_lr", self.critic_lr, PositiveNumber),
            ("adam_beta1", self.adam_beta1, BelowOne),
            ("adam_beta2", self.adam_beta2, BelowOne),
            ("adam_eps", self.adam_eps, Positive),
            ("noise_sigma", self.noise_sigma, AtLeastZero),
            ("ou_theta", self.ou_theta, AtLeastZero),
            ("ou_dt", self.ou_dt, Positive),
            ("action_change_penalty", self.action_change_penalty, Weight),
            ("angle_well_weight", self.angle_well_weight, Weight),
            ("odd_policy_weight", self.odd_policy_weight, Weight),
            ("smoothness_weight", self.smoothness_weight, Weight),
            ("target_noise", self.target_noise, Weight),
            ("select_hold_weight", self.select_hold_weight, Weight),
            (
                "select_steady_state_weight",
                self.select_steady_state_weight,
                Weight,
            ),
            ("select_chatter_weight", self.select_chatter_weight, Weight),
            ("target_noise_clip", self.target_noise_clip, Weight),
            (
                "spatial_smoothness_weight",
                self.spatial_smoothness_weight,
                Weight,
            ),
            (
                "spatial_smoothness_sigma",
                self.spatial_smoothness_sigma,
                Weight,
            ),
            ("angle_well_width", self.angle_well_width, Positive),
            ("upright_start_prob", self.upright_start_prob, Unit),
            ("upright_start_angle", self.upright_start_angle, Positive),
            ("fast_start_prob", self.fast_start_prob, Unit),
            ("fast_start_speed", self.fast_start_speed, UpToOne),
            (
                "select_fast_start_weight",
                self.select_fast_start_weight,
                Weight,
            ),
            ("eval_hold_prob", self.eval_hold_prob, BelowOne),
            ("train_hold_prob", self.train_hold_prob, BelowOne),
        ]
    }
}

/// An invalid `field`, with the reason.
fn bad(field: &'static str, reason: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        field,
        reason: reason.into(),
    })
}

/// The allowed range of a real-valued field (every range excludes NaN and ±∞).
#[derive(Debug, Clone, Copy)]
enum RealRange {
    /// `[0, 1]`.
    Unit,
    /// `[0, 1)`.
    BelowOne,
    /// `(0, 1]`.
    UpToOne,
    /// `> 0`.
    Positive,
    /// `> 0` (a learning rate).
    PositiveNumber,
    /// `≥ 0`.
    AtLeastZero,
    /// `≥ 0` (a weight, a clip or a width of a term).
    Weight,
}

impl RealRange {
    /// Why `v` is outside the range, or `None` when it is inside.
    fn violation(self, v: f64) -> Option<String> {
        let (ok, rule) = match self {
            Self::Unit => ((0.0..=1.0).contains(&v), "must be in [0, 1]"),
            Self::BelowOne => ((0.0..1.0).contains(&v), "must be in [0, 1)"),
            Self::UpToOne => (v > 0.0 && v <= 1.0, "must be in (0, 1]"),
            Self::Positive => (v > 0.0, "must be positive"),
            Self::PositiveNumber => (v > 0.0, "must be a positive number"),
            Self::AtLeastZero => (v >= 0.0, "must be ≥ 0"),
            Self::Weight => (v >= 0.0, "must be a finite number ≥ 0"),
        };
        (!(ok && v.is_finite())).then(|| format!("{rule}, got {v}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_real_field_refuses_nan_and_infinity_by_name() {
        let fields: Vec<&str> = TrainConfig::default()
            .real_fields()
            .iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(fields.len(), 29);
        for field in fields {
            for value in ["nan", "inf", "-inf"] {
                let config = TrainConfig::from_toml_str(&format!("{field} = {value}")).unwrap();
                match config.validate() {
                    Err(ConfigError::Invalid { field: f, reason }) => {
                        assert_eq!(f, field);
                        assert!(reason.starts_with("must be") && reason.contains(", got "));
                    }
                    other => panic!("{field} = {value}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn toml_round_trip_and_partial_files() {
        let c = TrainConfig::default();
        assert_eq!(TrainConfig::from_toml_str(&c.to_toml()).unwrap(), c);
        let partial = TrainConfig::from_toml_str("seed = 7\nnoise = \"ou\"\n").unwrap();
        assert_eq!(partial.seed, 7);
        assert_eq!(partial.noise, NoiseKind::Ou);
        assert_eq!(partial.gamma, c.gamma);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = TrainConfig::from_toml_str("gama = 0.9\n").unwrap_err();
        assert!(err.contains("gama"), "{err}");
    }

    #[test]
    fn ranges_are_checked() {
        let c = TrainConfig {
            gamma: 1.5,
            ..TrainConfig::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("gamma"), "{err}");
        assert!(TrainConfig::default().validate().is_ok());
    }

    #[test]
    fn overrides_apply_only_given_fields() {
        let mut c = TrainConfig::default();
        let o = ConfigOverrides {
            seed: Some(3),
            tau: Some(0.01),
            ..ConfigOverrides::default()
        };
        o.apply(&mut c);
        assert_eq!(c.seed, 3);
        assert_eq!(c.tau, 0.01);
        assert_eq!(c.gamma, TrainConfig::default().gamma);
    }
}
