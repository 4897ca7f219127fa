//! Which actor becomes `policy.postcard`: periodic evaluations propose, a validation decides.
//!
//! Every periodic evaluation scores the current actor on the same `eval_episodes` (50) episodes
//! ([`EvalRecord::selection_score`]). Picking the best of 120 such scores favours whichever
//! actor was luckiest on those 50 episodes (the winner's curse): with 120,000 steps, seed 13's
//! best periodic evaluation kept 50 of 50 upright but only 96.2 % of 1,000 other episodes,
//! while an earlier candidate kept 100 %.
//!
//! So the run keeps the actors of the `select_candidates` best periodic evaluations as files
//! ([`CANDIDATES_DIR`], one per step, rewritten as the ranking changes), and at the end
//! evaluates each again on `select_episodes` fresh validation episodes (their own seed,
//! [`validation_seed`], apart from the periodic evaluations' and from the final evaluation's
//! seed 0). The candidate with the best validation score, by the same
//! [`EvalRecord::selection_score`], becomes `policy.postcard`; `selection.csv` records every
//! candidate's periodic and validation figures. Ties go to the better periodic rank.
//!
//! A resumed run recomputes the ranking from the checkpoint's evaluation records, so it keeps
//! and validates the same candidates as an uninterrupted run.

use crate::error::TrainError;
use crate::metrics::{EvalRecord, SelectionWeights, csv_text};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Folder of the run directory holding the candidate actors.
pub const CANDIDATES_DIR: &str = "candidates";
/// The validation of the candidates (one row per candidate).
pub const SELECTION_CSV: &str = "selection.csv";

/// The candidate file of the actor evaluated at `step`.
pub fn candidate_path(run_dir: &Path, step: u64) -> PathBuf {
    run_dir
        .join(CANDIDATES_DIR)
        .join(format!("step-{step}.postcard"))
}

/// Seed of the periodic evaluations' episodes of a run with seed `run_seed` (independent of
/// the training episodes).
pub fn periodic_seed(run_seed: u64) -> u64 {
    run_seed ^ 0x5EED_E7A1
}

/// Seed of the validation episodes of a run with seed `run_seed` (distinct from
/// [`periodic_seed`]).
pub fn validation_seed(run_seed: u64) -> u64 {
    run_seed ^ 0x7A11_DA7E
}

/// The steps of the `k` best periodic evaluations, best first (higher score first; of equal
/// scores the earlier evaluation first, as the running selection keeps the first best).
pub fn top_candidates(evals: &[EvalRecord], weights: &SelectionWeights, k: usize) -> Vec<u64> {
    let mut ranked: Vec<(f64, u64)> = evals
        .iter()
        .map(|e| (e.selection_score(weights), e.step))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().take(k).map(|(_, step)| step).collect()
}

/// Deletes every candidate file in `run_dir` whose step is not in `keep` (files of other names
/// are left alone).
pub fn prune_candidates(run_dir: &Path, keep: &[u64]) -> Result<(), TrainError> {
    let dir = run_dir.join(CANDIDATES_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(TrainError::io(&dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| TrainError::io(&dir, e))?.path();
        let step = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("step-")?.strip_suffix(".postcard"))
            .and_then(|s| s.parse::<u64>().ok());
        if let Some(step) = step
            && !keep.contains(&step)
        {
            std::fs::remove_file(&path).map_err(|e| TrainError::io(&path, e))?;
        }
    }
    Ok(())
}

/// One validated candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// Its periodic evaluation.
    pub periodic: EvalRecord,
    /// Its evaluation on the validation episodes.
    pub validation: EvalRecord,
}

/// The index of the candidate with the best validation score (the first of equal ones; the
/// candidates come best periodic rank first). `None` when there are none.
pub fn choose(candidates: &[Validated], weights: &SelectionWeights) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, c) in candidates.iter().enumerate() {
        let s = c.validation.selection_score(weights);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    best.map(|(i, _)| i)
}

/// A `selection.csv` row.
#[derive(Serialize)]
struct SelectionRow {
    step: u64,
    periodic_rank: usize,
    periodic_score: f64,
    periodic_success_rate: f64,
    periodic_mean_return: f64,
    validation_episodes: usize,
    validation_success_rate: f64,
    validation_mean_return: f64,
    validation_steady_state_abs_theta: Option<f64>,
    validation_chatter: f64,
    validation_hold_success_rate: Option<f64>,
    validation_fast_start_success_rate: Option<f64>,
    validation_score: f64,
    chosen: bool,
}

/// `selection.csv`: every candidate (best periodic rank first) with both evaluations, its
/// scores and whether it became `policy.postcard`.
pub fn selection_csv(
    candidates: &[Validated],
    chosen: Option<usize>,
    weights: &SelectionWeights,
) -> String {
    let finite = |x: f64| x.is_finite().then_some(x);
    let rows = candidates.iter().enumerate().map(|(i, c)| SelectionRow {
        step: c.periodic.step,
        periodic_rank: i + 1,
        periodic_score: c.periodic.selection_score(weights),
        periodic_success_rate: c.periodic.success_rate,
        periodic_mean_return: c.periodic.mean_return,
        validation_episodes: c.validation.episodes,
        validation_success_rate: c.validation.success_rate,
        validation_mean_return: c.validation.mean_return,
        validation_steady_state_abs_theta: finite(c.validation.steady_state_abs_theta),
        validation_chatter: c.validation.chatter,
        validation_hold_success_rate: finite(c.validation.hold_success_rate),
        validation_fast_start_success_rate: finite(c.validation.fast_start_success_rate),
        validation_score: c.validation.selection_score(weights),
        chosen: chosen == Some(i),
    });
    csv_text(rows, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: SelectionWeights = SelectionWeights {
        hold: 0.0,
        steady_state: 1000.0,
        chatter: 20.0,
        fast_start: 0.0,
    };

    fn rec(step: u64, success_rate: f64, mean_return: f64) -> EvalRecord {
        EvalRecord {
            step,
            mean_return,
            std_return: 1.0,
            success_rate,
            hold_success_rate: f64::NAN,
            fast_start_success_rate: f64::NAN,
            steady_state_abs_theta: 0.005,
            chatter: 0.1,
            episodes: 50,
        }
    }

    #[test]
    fn candidates_are_ranked_by_score_then_by_step() {
        let evals = [
            rec(1000, 0.5, -100.0),
            rec(2000, 1.0, -170.0),
            rec(3000, 1.0, -160.0),
            rec(4000, 1.0, -170.0),
            rec(5000, 0.98, -150.0),
        ];
        assert_eq!(top_candidates(&evals, &W, 3), [3000, 2000, 4000]);
        assert_eq!(top_candidates(&evals, &W, 10).len(), 5);
        assert!(top_candidates(&evals, &W, 0).is_empty());
        assert!(top_candidates(&[], &W, 5).is_empty());
    }

    #[test]
    fn the_validation_decides_and_ties_keep_the_periodic_rank() {
        let v = |step, s, r| Validated {
            periodic: rec(step, 1.0, -160.0),
            validation: EvalRecord {
                episodes: 500,
                ..rec(step, s, r)
            },
        };
        let c = [
            v(3000, 0.96, -150.0),
            v(2000, 1.0, -170.0),
            v(4000, 1.0, -165.0),
        ];
        assert_eq!(choose(&c, &W), Some(2));
        let tie = [v(3000, 1.0, -165.0), v(2000, 1.0, -165.0)];
        assert_eq!(choose(&tie, &W), Some(0));
        assert_eq!(choose(&[], &W), None);
        let csv = selection_csv(&c, Some(2), &W);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("step,periodic_rank,"));
        assert!(lines[3].starts_with("4000,3,") && lines[3].ends_with(",true"));
        assert!(lines[1].ends_with(",false"));
    }

    #[test]
    fn fast_start_success_counts_only_with_its_weight() {
        let v = |step, fast| Validated {
            periodic: rec(step, 1.0, -160.0),
            validation: EvalRecord {
                fast_start_success_rate: fast,
                ..rec(step, 1.0, -160.0 + step as f64 / 1000.0)
            },
        };
        // 3000 has the best return (by 1 point over 2000), 2000 recovers from more fast starts.
        let c = [v(2000, 0.95), v(3000, 0.80), v(1000, f64::NAN)];
        assert_eq!(choose(&c, &W), Some(1));
        let w = SelectionWeights {
            fast_start: 100.0,
            ..W
        };
        // 100 points per unit: 15 % more fast starts recovered is worth 15 points > 1.
        assert_eq!(choose(&c, &w), Some(0));
        let (with, without) = (
            c[0].validation.selection_score(&w),
            c[0].validation.selection_score(&W),
        );
        assert!((with - without - 95.0).abs() < 1e-9);
        // Not measured counts as 0.
        assert_eq!(
            c[2].validation.selection_score(&w),
            c[2].validation.selection_score(&W)
        );
        let csv = selection_csv(&c, Some(0), &w);
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let col = header
            .iter()
            .position(|h| *h == "validation_fast_start_success_rate")
            .expect("a fast-start column");
        let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(row[col], "0.95");
    }

    #[test]
    fn pruning_removes_only_dropped_candidates() {
        let tmp = tempfile::tempdir().unwrap();
        prune_candidates(tmp.path(), &[1]).unwrap(); // no folder yet: nothing to do
        std::fs::create_dir(tmp.path().join(CANDIDATES_DIR)).unwrap();
        for step in [1000, 2000, 3000] {
            std::fs::write(candidate_path(tmp.path(), step), b"x").unwrap();
        }
        let other = tmp.path().join(CANDIDATES_DIR).join("notes.txt");
        std::fs::write(&other, b"kept").unwrap();
        prune_candidates(tmp.path(), &[3000, 1000]).unwrap();
        assert!(candidate_path(tmp.path(), 1000).exists());
        assert!(!candidate_path(tmp.path(), 2000).exists());
        assert!(candidate_path(tmp.path(), 3000).exists());
        assert!(other.exists());
    }

    #[test]
    fn the_validation_episodes_are_not_the_periodic_ones() {
        for seed in [0, 1, 13, u64::MAX] {
            assert_ne!(validation_seed(seed), periodic_seed(seed));
        }
    }
}
