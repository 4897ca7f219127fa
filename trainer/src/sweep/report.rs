//! Aggregating a sweep: per configuration, the mean and 95 % confidence interval over seeds of
//! each finished job's final evaluation of `policy.postcard` (the exported policy), the best
//! configuration, CSV + JSON, and the learning curves (mean over seeds with the interval as a
//! band).
//!
//! The interval is Student's t: `mean ± t(0.975, n−1)·s/√n` over the n seeds' values (s the
//! sample standard deviation); none for a single seed.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::folder::{JobState, SweepFolder};
use crate::error::TrainError;
use crate::quality::QualitySummary;
use crate::train::files;

/// A mean over seeds with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Mean over seeds.
    pub mean: f64,
    /// Half-width of the 95 % interval (NaN → null with one seed).
    pub ci95: Option<f64>,
}

impl Interval {
    /// Mean and 95 % half-width of `x` (Student's t).
    pub fn of(x: &[f64]) -> Self {
        let (mean, stderr) = crate::quality::mean_stderr(x);
        let ci95 = (x.len() >= 2).then(|| t_975(x.len() - 1) * stderr);
        Self { mean, ci95 }
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = f.precision().unwrap_or(1);
        match self.ci95 {
            Some(h) => write!(f, "{:.p$} ± {:.p$}", self.mean, h),
            None => write!(f, "{:.p$}", self.mean),
        }
    }
}

/// Two-sided 95 % quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// One configuration's aggregate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigReport {
    /// Configuration index.
    pub index: usize,
    /// Its `field=value` label.
    pub label: String,
    /// Seeds whose job finished (the aggregate is over these).
    pub seeds_done: Vec<u64>,
    /// Seeds of the configuration.
    pub seeds_total: usize,
    /// Mean return of `policy.postcard` in the final evaluation.
    pub mean_return: Option<Interval>,
    /// Success rate (0..1).
    pub success_rate: Option<Interval>,
    /// Steady-state |θ| \[rad\] (seeds with at least one successful episode).
    pub steady_state_abs_theta: Option<Interval>,
    /// Chatter [N·m per step].
    pub chatter: Option<Interval>,
    /// Training wall time per job \[s\] (from the job's summary).
    pub train_secs: Option<Interval>,
}

/// The whole sweep's aggregate (`report.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepReport {
    /// The sweep's name.
    pub name: String,
    /// Jobs finished / in total.
    pub jobs_done: usize,
    /// Jobs in total.
    pub jobs_total: usize,
    /// Per configuration, in index order.
    pub configs: Vec<ConfigReport>,
    /// Index of the configuration with the highest mean return (among those with results).
    pub best: Option<usize>,
}

/// A row of a job's `eval.csv` (the columns the curves need).
#[derive(Debug, Deserialize)]
struct EvalRow {
    step: u64,
    mean_return: f64,
}

/// The final evaluation of `policy.postcard` in a finished job's folder.
fn final_eval(dir: &Path) -> Result<QualitySummary, TrainError> {
    let path = dir.join(files::FINAL_EVAL);
    let eps = crate::quality::read_episode_rows(&path, files::POLICY)?;
    if eps.is_empty() {
        return Err(TrainError::Sweep(format!(
            "{}: no rows for {}",
            path.display(),
            files::POLICY
        )));
    }
    Ok(QualitySummary::of(&eps))
}

/// `steps: N in S s of training` from a job's summary.
fn train_secs(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(files::SUMMARY)).ok()?;
    let line = text.lines().find(|l| l.starts_with("steps:"))?;
    line.split(" in ").nth(1)?.split(' ').next()?.parse().ok()
}

/// The periodic evaluations of a job: (step, mean return).
fn curve(dir: &Path) -> Vec<(u64, f64)> {
    let Ok(mut reader) = csv::Reader::from_path(dir.join(files::EVAL)) else {
        return Vec::new();
    };
    reader
        .deserialize::<EvalRow>()
        .filter_map(Result::ok)
        .map(|r| (r.step, r.mean_return))
        .collect()
}

/// Aggregates every finished job of the sweep in `folder`.
pub fn aggregate(folder: &SweepFolder) -> Result<SweepReport, TrainError> {
    let m = &folder.manifest;
    let mut configs = Vec::new();
    let mut done = 0;
    for c in &m.configs {
        let jobs: Vec<_> = m.jobs.iter().filter(|j| j.config == c.index).collect();
        let mut rows = Vec::new();
        let mut seeds_done = Vec::new();
        let mut secs = Vec::new();
        for j in &jobs {
            if folder.state(j) != JobState::Done {
                continue;
            }
            let dir = folder.job_dir(j);
            rows.push(final_eval(&dir)?);
            seeds_done.push(j.seed);
            secs.extend(train_secs(&dir));
        }
        done += rows.len();
        let over = |f: &dyn Fn(&QualitySummary) -> Option<f64>| {
            let v: Vec<f64> = rows.iter().filter_map(f).collect();
            (!v.is_empty()).then(|| Interval::of(&v))
        };
        configs.push(ConfigReport {
            index: c.index,
            label: c.label.clone(),
            seeds_done,
            seeds_total: jobs.len(),
            mean_return: over(&|q| Some(q.mean_return)),
            success_rate: over(&|q| Some(q.success_rate)),
            steady_state_abs_theta: over(&|q| q.steady_state_abs_theta),
            chatter: over(&|q| Some(q.chatter)),
            train_secs: (!secs.is_empty()).then(|| Interval::of(&secs)),
        });
    }
    let best = configs
        .iter()
        .filter_map(|c| c.mean_return.map(|r| (c.index, r.mean)))
        .fold(None, |b: Option<(usize, f64)>, (i, r)| match b {
            Some((_, br)) if br >= r => b,
            _ => Some((i, r)),
        })
        .map(|(i, _)| i);
    Ok(SweepReport {
        name: m.name.clone(),
        jobs_done: done,
        jobs_total: m.jobs.len(),
        configs,
        best,
    })
}

/// A row of `report.csv`.
#[derive(Serialize)]
struct CsvRow<'a> {
    config: usize,
    label: &'a str,
    seeds_done: usize,
    seeds_total: usize,
    mean_return: Option<f64>,
    mean_return_ci95: Option<f64>,
    success_rate: Option<f64>,
    success_rate_ci95: Option<f64>,
    steady_state_abs_theta: Option<f64>,
    steady_state_abs_theta_ci95: Option<f64>,
    chatter: Option<f64>,
    chatter_ci95: Option<f64>,
    train_secs: Option<f64>,
}

impl SweepReport {
    /// The table `trainer sweep report` prints.
    pub fn table(&self) -> String {
        let cell = |i: &Option<Interval>, p: usize| i.map_or("-".into(), |v| format!("{v:.p$}"));
        let mut s = format!(
            "sweep `{}`: {}/{} jobs finished; mean ± 95 % CI over seeds of policy.postcard's final evaluation\n",
            self.name, self.jobs_done, self.jobs_total
        );
        s.push_str(&format!(
            "{:>4} {:>6} {:>18} {:>16} {:>18} {:>18} {:>12}  configuration\n",
            "cfg",
            "seeds",
            "mean return",
            "success [%]",
            "steady |θ| [rad]",
            "chatter",
            "train [s]"
        ));
        for c in &self.configs {
            let pct = c.success_rate.map(|i| Interval {
                mean: 100.0 * i.mean,
                ci95: i.ci95.map(|h| 100.0 * h),
            });
            s.push_str(&format!(
                "{:>4} {:>6} {:>18} {:>16} {:>18} {:>18} {:>12}  {}{}\n",
                c.index,
                format!("{}/{}", c.seeds_done.len(), c.seeds_total),
                cell(&c.mean_return, 1),
                cell(&pct, 1),
                cell(&c.steady_state_abs_theta, 4),
                cell(&c.chatter, 4),
                cell(&c.train_secs, 1),
                c.label,
                if self.best == Some(c.index) {
                    "   <- best"
                } else {
                    ""
                }
            ));
        }
        s
    }

    /// Writes `report.csv`, `report.json` and `learning_curves.png` into the sweep folder.
    pub fn write(&self, folder: &SweepFolder) -> Result<Vec<PathBuf>, TrainError> {
        let rows = self.configs.iter().map(|c| CsvRow {
            config: c.index,
            label: &c.label,
            seeds_done: c.seeds_done.len(),
            seeds_total: c.seeds_total,
            mean_return: c.mean_return.map(|i| i.mean),
            mean_return_ci95: c.mean_return.and_then(|i| i.ci95),
            success_rate: c.success_rate.map(|i| i.mean),
            success_rate_ci95: c.success_rate.and_then(|i| i.ci95),
            steady_state_abs_theta: c.steady_state_abs_theta.map(|i| i.mean),
            steady_state_abs_theta_ci95: c.steady_state_abs_theta.and_then(|i| i.ci95),
            chatter: c.chatter.map(|i| i.mean),
            chatter_ci95: c.chatter.and_then(|i| i.ci95),
            train_secs: c.train_secs.map(|i| i.mean),
        });
        let csv_path = folder.root.join("report.csv");
        let csv = crate::metrics::csv_text(rows, true);
        std::fs::write(&csv_path, csv).map_err(|e| TrainError::io(&csv_path, e))?;
        let json_path = folder.root.join("report.json");
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| TrainError::Sweep(format!("report: {e}")))?;
        std::fs::write(&json_path, json).map_err(|e| TrainError::io(&json_path, e))?;
        let png = folder.root.join("learning_curves.png");
        learning_curves(folder, &png)?;
        Ok(vec![csv_path, json_path, png])
    }
}

/// Per configuration, the periodic evaluations' mean return over its finished seeds (at the
/// steps all of them evaluated), with the 95 % interval as a band.
fn learning_curves(folder: &SweepFolder, path: &Path) -> Result<(), TrainError> {
    let m = &folder.manifest;
    let mut series: Vec<(String, Vec<(f64, Interval)>)> = Vec::new();
    for c in &m.configs {
        let curves: Vec<Vec<(u64, f64)>> = m
            .jobs
            .iter()
            .filter(|j| j.config == c.index && folder.state(j) == JobState::Done)
            .map(|j| curve(&folder.job_dir(j)))
            .filter(|v| !v.is_empty())
            .collect();
        let Some(first) = curves.first() else {
            continue;
        };
        let points = first
            .iter()
            .filter_map(|&(step, _)| {
                let v: Vec<f64> = curves
                    .iter()
                    .filter_map(|cv| cv.iter().find(|p| p.0 == step).map(|p| p.1))
                    .collect();
                (v.len() == curves.len()).then(|| (step as f64, Interval::of(&v)))
            })
            .collect();
        series.push((format!("cfg {}: {}", c.index, c.label), points));
    }
    draw_curves(path, &m.name, &series)
}

fn draw_curves(
    path: &Path,
    name: &str,
    series: &[(String, Vec<(f64, Interval)>)],
) -> Result<(), TrainError> {
    let err = |e: &dyn std::fmt::Display| TrainError::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    crate::plot::register_font();
    let root = BitMapBackend::new(path, (1000, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let pts = || series.iter().flat_map(|(_, p)| p.iter());
    let max_x = pts().map(|p| p.0).fold(1.0, f64::max);
    let (lo, hi) = crate::plot::range(pts().flat_map(|(_, i)| {
        let h = i.ci95.unwrap_or(0.0);
        [i.mean - h, i.mean + h]
    }));
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("sweep `{name}`: evaluation return, mean ± 95 % CI over seeds"),
            (crate::plot::FONT, 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..max_x, lo..hi)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("evaluation mean return (higher is better)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((crate::plot::FONT, 14))
        .draw()
        .map_err(|e| err(&e))?;
    for (k, (label, points)) in series.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let band: Vec<(f64, f64)> = points
            .iter()
            .map(|(x, i)| (*x, i.mean + i.ci95.unwrap_or(0.0)))
            .chain(
                points
                    .iter()
                    .rev()
                    .map(|(x, i)| (*x, i.mean - i.ci95.unwrap_or(0.0))),
            )
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                color.mix(0.12).filled(),
            )))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|(x, i)| (*x, i.mean)),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    crate::plot::legend(&mut chart, SeriesLabelPosition::LowerRight).map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
