//! Statistics, trajectory CSV and PNG plot of a HIL run.

use std::path::Path;

use plotters::prelude::*;

use crate::HilError;
use crate::session::Episode;

/// The `q`-quantile (0..=1, nearest rank) of `values`; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

/// Median, 99th percentile and maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Spread {
    /// Of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        Some(Self {
            median: quantile(values, 0.5)?,
            p99: quantile(values, 0.99)?,
            max: quantile(values, 1.0)?,
        })
    }
}

/// Round-trip latencies (µs) of every answered step of `episodes`.
pub fn latencies(episodes: &[Episode]) -> Vec<f64> {
    episodes
        .iter()
        .flat_map(|e| {
            e.rows
                .iter()
                .filter(|r| r.attempts > 0)
                .map(|r| r.latency_us)
        })
        .collect()
}

/// On-board instructions of every answered inference of `episodes`.
pub fn instructions(episodes: &[Episode]) -> Vec<f64> {
    episodes
        .iter()
        .flat_map(|e| {
            e.rows
                .iter()
                .filter(|r| r.attempts > 0)
                .map(|r| f64::from(r.instructions))
        })
        .collect()
}

/// Writes the trajectories as CSV.
pub fn write_csv(path: &Path, episodes: &[Episode]) -> Result<(), HilError> {
    let err = |e: csv::Error| HilError::Report {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    for (i, e) in episodes.iter().enumerate() {
        for r in &e.rows {
            w.serialize(TrajectoryRow {
                episode: i,
                seed: e.seed,
                step: r.step,
                t: r.t,
                theta: r.theta,
                theta_dot: r.theta_dot,
                action: r.action,
                reward: r.reward,
                instructions: r.instructions,
                latency_us: r.latency_us,
                attempts: r.attempts,
                status: r
                    .status
                    .map_or_else(|| "lost".to_string(), |s| format!("{s:?}")),
            })
            .map_err(err)?;
        }
    }
    w.flush()
        .map_err(|e| HilError::io(format!("writing {}", path.display()), e))
}

/// A row of `trajectory.csv` (the header is these field names).
#[derive(serde::Serialize)]
struct TrajectoryRow {
    episode: usize,
    seed: u64,
    step: usize,
    t: f64,
    theta: f64,
    theta_dot: f64,
    action: f32,
    reward: f64,
    instructions: u32,
    latency_us: f64,
    attempts: u32,
    status: String,
}

/// Draws θ, θ̇ and the torque over time, one line per episode (three stacked panels, no text:
/// the workspace's plotters has no fonts). Panel ranges: θ ∈ [-π, π], θ̇ ∈ [-8, 8],
/// torque ∈ [-2, 2]; the grey line is zero.
pub fn write_png(path: &Path, episodes: &[Episode]) -> Result<(), HilError> {
    let err = |m: String| HilError::Report {
        path: path.to_path_buf(),
        message: m,
    };
    let t_max = episodes
        .iter()
        .flat_map(|e| e.rows.last().map(|r| r.t))
        .fold(0.05, f64::max);
    let root = BitMapBackend::new(path, (900, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let panels = root.split_evenly((3, 1));
    let ranges = [std::f64::consts::PI, 8.0, 2.0];
    for (k, (panel, y)) in panels.iter().zip(ranges).enumerate() {
        let mut chart = ChartBuilder::on(panel)
            .margin(8)
            .build_cartesian_2d(0.0..t_max, -y..y)
            .map_err(|e| err(e.to_string()))?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (t_max, 0.0)],
                RGBColor(180, 180, 180),
            ))
            .map_err(|e| err(e.to_string()))?;
        for (i, e) in episodes.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points = e.rows.iter().map(|r| {
                let v = match k {
                    0 => r.theta,
                    1 => r.theta_dot,
                    _ => f64::from(r.action),
                };
                (r.t, v)
            });
            chart
                .draw_series(LineSeries::new(points, color))
                .map_err(|e| err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&[], 0.5), None);
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.max), (2.0, 3.0));
    }
}
