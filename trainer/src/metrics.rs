//! Metrics records and their CSV files (written with the `csv` crate from serde row structs, so
//! each header is the row struct's field names).

use serde::{Deserialize, Serialize};

/// CSV text of `rows`, with the header line (the row type's field names) when `header`.
/// `None` fields are written empty.
pub fn csv_text<T: Serialize>(rows: impl IntoIterator<Item = T>, header: bool) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(header)
        .from_writer(Vec::new());
    for row in rows {
        // Writing plain numbers and strings into memory cannot fail.
        w.serialize(row).expect("a CSV row serialises");
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// A finite value, or `None` (an empty CSV field).
fn finite<T: Into<f64> + Copy>(x: T) -> Option<T> {
    x.into().is_finite().then_some(x)
}

/// A `metrics.csv` row.
#[derive(Serialize)]
struct EpisodeRow {
    step: u64,
    episode: u64,
    episodic_return: f64,
    critic_loss: Option<f32>,
    actor_loss: Option<f32>,
    mean_q: Option<f32>,
    steps_per_sec: f64,
}

/// An `eval.csv` row.
#[derive(Serialize)]
struct EvalRow {
    step: u64,
    mean_return: f64,
    std_return: f64,
    success_rate: f64,
    hold_success_rate: Option<f64>,
    fast_start_success_rate: Option<f64>,
    steady_state_abs_theta: Option<f64>,
    chatter: f64,
    episodes: usize,
}

/// Header of `metrics.csv`.
pub const EPISODE_CSV_HEADER: &str =
    "step,episode,episodic_return,critic_loss,actor_loss,mean_q,steps_per_sec\n";
/// Header of `eval.csv`.
pub const EVAL_CSV_HEADER: &str = "step,mean_return,std_return,success_rate,hold_success_rate,fast_start_success_rate,steady_state_abs_theta,chatter,episodes\n";

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
        csv_text(
            [EpisodeRow {
                step: self.step,
                episode: self.episode,
                episodic_return: self.episodic_return,
                critic_loss: finite(self.critic_loss),
                actor_loss: finite(self.actor_loss),
                mean_q: finite(self.mean_q),
                steps_per_sec: (self.steps_per_sec * 10.0).round() / 10.0,
            }],
            false,
        )
    }
}

/// Weights of the `policy.postcard` selection score (see [`EvalRecord::selection_score`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelectionWeights {
    /// Per unit of success rate under link loss.
    pub hold: f64,
    /// Per rad of steady-state error.
    pub steady_state: f64,
    /// Per N·m/step of chatter.
    pub chatter: f64,
    /// Per unit of success rate from fast starts.
    pub fast_start: f64,
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
    /// The same from as many fast starts (`select_fast_start_weight` > 0; NaN when off).
    pub fast_start_success_rate: f64,
    /// Mean steady-state |θ| of the successful episodes \[rad\] (NaN when none).
    pub steady_state_abs_theta: f64,
    /// Mean chatter [N·m per step].
    pub chatter: f64,
    /// Episodes evaluated.
    pub episodes: usize,
}

impl EvalRecord {
    /// What `policy.postcard` maximises: the success rate first (×10⁶), then a control-quality
    /// score in return units, `return + w_hold·success under link loss + w_fast·success from
    /// fast starts − w_ss·steady-state |θ| − w_chatter·chatter` (weights from the config's
    /// `select_*` fields; a figure not measured counts as 0).
    pub fn selection_score(&self, w: &SelectionWeights) -> f64 {
        let or0 = |x: f64| if x.is_finite() { x } else { 0.0 };
        1e6 * self.success_rate
            + self.mean_return
            + w.hold * or0(self.hold_success_rate)
            + w.fast_start * or0(self.fast_start_success_rate)
            - w.steady_state * or0(self.steady_state_abs_theta)
            - w.chatter * self.chatter
    }

    /// The CSV line (with newline).
    pub fn csv_line(&self) -> String {
        csv_text(
            [EvalRow {
                step: self.step,
                mean_return: self.mean_return,
                std_return: self.std_return,
                success_rate: self.success_rate,
                hold_success_rate: finite(self.hold_success_rate),
                fast_start_success_rate: finite(self.fast_start_success_rate),
                steady_state_abs_theta: finite(self.steady_state_abs_theta),
                chatter: self.chatter,
                episodes: self.episodes,
            }],
            false,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header constants are the row structs' field names.
    #[test]
    fn csv_headers_are_the_row_fields() {
        let e = EpisodeRecord {
            step: 1,
            episode: 0,
            episodic_return: -1.5,
            critic_loss: f32::NAN,
            actor_loss: 0.5,
            mean_q: -2.0,
            steps_per_sec: 123.456,
        };
        let text = csv_text(
            [EpisodeRow {
                step: 1,
                episode: 0,
                episodic_return: -1.5,
                critic_loss: None,
                actor_loss: Some(0.5),
                mean_q: Some(-2.0),
                steps_per_sec: 123.5,
            }],
            true,
        );
        assert_eq!(text, format!("{EPISODE_CSV_HEADER}{}", e.csv_line()));
        assert_eq!(e.csv_line(), "1,0,-1.5,,0.5,-2.0,123.5\n");
        let r = EvalRow {
            step: 0,
            mean_return: 0.0,
            std_return: 0.0,
            success_rate: 0.0,
            hold_success_rate: None,
            fast_start_success_rate: None,
            steady_state_abs_theta: None,
            chatter: 0.0,
            episodes: 1,
        };
        let text = csv_text([r], true);
        assert!(text.starts_with(EVAL_CSV_HEADER), "{text}");
    }

    fn rec(success: f64, ret: f64, hold: f64, ss: f64, chatter: f64) -> EvalRecord {
        EvalRecord {
            step: 0,
            mean_return: ret,
            std_return: 0.0,
            success_rate: success,
            hold_success_rate: hold,
            fast_start_success_rate: f64::NAN,
            steady_state_abs_theta: ss,
            chatter,
            episodes: 50,
        }
    }

    #[test]
    fn selection_score_ranks_success_first_then_control_quality() {
        let w = SelectionWeights {
            hold: 100.0,
            steady_state: 1000.0,
            chatter: 20.0,
            fast_start: 0.0,
        };
        // Hand-computed: 1e6·1 − 160 + 100·0.8 − 1000·0.01 − 20·0.5 = 999 900.
        let a = rec(1.0, -160.0, 0.8, 0.01, 0.5);
        assert!((a.selection_score(&w) - 999_900.0).abs() < 1e-6);
        // More episodes upright always wins, whatever the rest.
        let worse_success = rec(0.98, -150.0, 1.0, 0.0, 0.0);
        assert!(a.selection_score(&w) > worse_success.selection_score(&w));
        // Among fully successful ones, a 0.03 rad offset costs 30 points.
        let offset = rec(1.0, -150.0, 0.8, 0.04, 0.5);
        assert!(a.selection_score(&w) > offset.selection_score(&w));
        // Missing figures (no successful episode, link loss off) count as 0.
        let none = rec(0.0, -500.0, f64::NAN, f64::NAN, 1.0);
        assert!((none.selection_score(&w) - (-520.0)).abs() < 1e-9);
        // With zero weights the score is 1e6·success + return (the default).
        let zero = SelectionWeights {
            hold: 0.0,
            steady_state: 0.0,
            chatter: 0.0,
            fast_start: 0.0,
        };
        assert_eq!(a.selection_score(&zero), 1e6 - 160.0);
    }
}
