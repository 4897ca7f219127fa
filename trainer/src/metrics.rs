//! Metrics records and their CSV files.

use serde::{Deserialize, Serialize};

/// Header of `metrics.csv`.
pub const EPISODE_CSV_HEADER: &str =
    "step,episode,episodic_return,critic_loss,actor_loss,mean_q,steps_per_sec\n";
/// Header of `eval.csv`.
pub const EVAL_CSV_HEADER: &str =
    "step,mean_return,std_return,success_rate,hold_success_rate,episodes\n";

/// One finished training episode. Losses and Q are means over the episode's gradient steps
/// (NaN, written as an empty field, before learning starts).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// Environment steps done at the episode's end.
    pub step: u64,
    /// Episode index (0-based).
    pub episode: u64,
    /// Undiscounted return (with exploration noise).
    pub episodic_return: f64,
    /// Mean critic loss.
    pub critic_loss: f32,
    /// Mean actor loss.
    pub actor_loss: f32,
    /// Mean Q(s, a).
    pub mean_q: f32,
    /// Environment steps per second during the episode (wall clock: not reproducible).
    pub steps_per_sec: f64,
}

impl EpisodeRecord {
    /// The CSV line (with newline).
    pub fn csv_line(&self) -> String {
        let f = |x: f32| {
            if x.is_finite() {
                x.to_string()
            } else {
                String::new()
            }
        };
        format!(
            "{},{},{},{},{},{},{:.1}\n",
            self.step,
            self.episode,
            self.episodic_return,
            f(self.critic_loss),
            f(self.actor_loss),
            f(self.mean_q),
            self.steps_per_sec
        )
    }
}

/// One periodic evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// Environment steps done.
    pub step: u64,
    /// Mean return.
    pub mean_return: f64,
    /// Standard deviation of the returns.
    pub std_return: f64,
    /// Fraction of successful episodes (upright over the last 50 steps).
    pub success_rate: f64,
    /// The same with simulated link loss (`eval_hold_prob`; NaN when off).
    pub hold_success_rate: f64,
    /// Episodes evaluated.
    pub episodes: usize,
}

impl EvalRecord {
    /// What `policy_best` maximises: the success rate first, then the success rate under link
    /// loss, then the mean return (`10⁶·success + 10³·success under loss + return`; a return is
    /// far above −10³ per episode on every shipped rig).
    pub fn selection_score(&self) -> f64 {
        let hold = if self.hold_success_rate.is_finite() {
            self.hold_success_rate
        } else {
            0.0
        };
        1e6 * self.success_rate + 1e3 * hold + self.mean_return
    }

    /// The CSV line (with newline).
    pub fn csv_line(&self) -> String {
        format!(
            "{},{},{},{},{},{}\n",
            self.step,
            self.mean_return,
            self.std_return,
            self.success_rate,
            if self.hold_success_rate.is_finite() {
                self.hold_success_rate.to_string()
            } else {
                String::new()
            },
            self.episodes
        )
    }
}
