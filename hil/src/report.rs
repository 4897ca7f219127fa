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

use plot_style::{FONT, legend, register_font};

fn report_err(path: &Path) -> impl Fn(String) -> HilError + '_ {
    move |m| HilError::Report {
        path: path.to_path_buf(),
        message: m,
    }
}

/// Episodes drawn in the trajectory and timeline plots (the first ones of the run).
pub const PLOTTED_EPISODES: usize = 10;

/// Draws θ, θ̇ and the commanded torque against plant time, one coloured line per episode
/// (the first [`PLOTTED_EPISODES`]), in three titled panels with units and a legend.
pub fn write_png(path: &Path, episodes: &[Episode]) -> Result<(), HilError> {
    register_font();
    let err = report_err(path);
    let shown = &episodes[..episodes.len().min(PLOTTED_EPISODES)];
    let t_max = shown
        .iter()
        .flat_map(|e| e.rows.last().map(|r| r.t))
        .fold(0.05, f64::max);
    let root = BitMapBackend::new(path, (1000, 860)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let title = format!(
        "HIL run: board-controlled pendulum ({} of {} episodes)",
        shown.len(),
        episodes.len()
    );
    let root = root
        .titled(&title, (FONT, 20))
        .map_err(|e| err(e.to_string()))?;
    let panels = root.split_evenly((3, 1));
    let max_torque = shown
        .iter()
        .flat_map(|e| e.rows.iter().map(|r| f64::from(r.action).abs()))
        .fold(0.5, f64::max);
    let specs = [
        ("angle θ [rad] (0 = upright)", std::f64::consts::PI),
        ("angular velocity dθ/dt [rad/s]", 8.0),
        ("commanded torque [N·m]", 1.1 * max_torque),
    ];
    for (k, (panel, (label, y))) in panels.iter().zip(specs).enumerate() {
        let mut chart = ChartBuilder::on(panel)
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..t_max, -y..y)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("plant time [s]")
            .y_desc(label)
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (i, e) in shown.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points = e.rows.iter().map(|r| {
                let v = match k {
                    0 => r.theta,
                    1 => r.theta_dot,
                    _ => f64::from(r.action),
                };
                (r.t, v)
            });
            let series = chart
                .draw_series(LineSeries::new(points, color))
                .map_err(|e| err(e.to_string()))?;
            if k == 0 {
                series
                    .label(format!("episode {i} (seed {})", e.seed))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            }
        }
        if k == 0 && !shown.is_empty() {
            legend(&mut chart, SeriesLabelPosition::UpperRight).map_err(|e| err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// Histogram of the round-trip latencies of every answered step (log-spaced bins), with the
/// median and 99th percentile marked.
pub fn write_latency_png(path: &Path, episodes: &[Episode]) -> Result<(), HilError> {
    register_font();
    let err = report_err(path);
    let lat = latencies(episodes);
    let spread = Spread::of(&lat);
    let root = BitMapBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let lo = lat.iter().copied().fold(f64::INFINITY, f64::min).max(1.0);
    let hi = lat.iter().copied().fold(0.0, f64::max).max(lo * 2.0);
    let bins = 40usize;
    let (l0, l1) = (lo.log10(), hi.log10() + 1e-9);
    let mut counts = vec![0u32; bins];
    for &v in &lat {
        let b = ((v.max(lo).log10() - l0) / (l1 - l0) * bins as f64) as usize;
        counts[b.min(bins - 1)] += 1;
    }
    let top = f64::from(counts.iter().copied().max().unwrap_or(1).max(1));
    let caption = match spread {
        Some(s) => format!(
            "link round trip: {} steps, median {:.0} µs, p99 {:.0} µs, max {:.0} µs",
            lat.len(),
            s.median,
            s.p99,
            s.max
        ),
        None => "link round trip: no answered step".to_string(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..top * 1.05)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("round-trip latency [µs] (log scale; green: median, red: 99th percentile)")
        .y_desc("steps")
        .label_style((FONT, 13))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let edge = |b: usize| 10f64.powf(l0 + (l1 - l0) * b as f64 / bins as f64);
    chart
        .draw_series(counts.iter().enumerate().map(|(b, &c)| {
            Rectangle::new(
                [(edge(b), 0.0), (edge(b + 1), f64::from(c))],
                BLUE.mix(0.6).filled(),
            )
        }))
        .map_err(|e| err(e.to_string()))?;
    if let Some(s) = spread {
        for (v, c) in [(s.median, GREEN), (s.p99, RED)] {
            chart
                .draw_series(LineSeries::new(
                    [(v, 0.0), (v, top * 1.05)],
                    c.stroke_width(2),
                ))
                .map_err(|e| err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| err(e.to_string()))
}

/// With faults injected: a timeline over the first [`PLOTTED_EPISODES`] episodes (steps in a
/// row) of the commanded torque, with every lost step (red), retransmitted step (orange) and
/// link cut (black line) marked.
pub fn write_faults_png(path: &Path, episodes: &[Episode]) -> Result<(), HilError> {
    register_font();
    let err = report_err(path);
    let shown = &episodes[..episodes.len().min(PLOTTED_EPISODES)];
    let total: usize = shown.iter().map(|e| e.rows.len()).sum::<usize>().max(1);
    let root = BitMapBackend::new(path, (1100, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let (mut lost, mut retried, mut cuts, mut torque) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut k = 0usize;
    for e in shown {
        for r in &e.rows {
            let u = f64::from(r.action);
            torque.push((k as f64, u));
            match r.attempts {
                0 => lost.push((k as f64, u)),
                1 => {}
                _ => retried.push((k as f64, u)),
            }
            k += 1;
        }
        if e.cut.is_some() {
            cuts.push(k as f64);
        }
    }
    let u_max = torque.iter().map(|p| p.1.abs()).fold(0.5, f64::max) * 1.1;
    let caption = format!(
        "faults: {} lost, {} retransmitted, {} link cuts in {} steps ({} episodes; black lines: cuts)",
        lost.len(),
        retried.len(),
        cuts.len(),
        total,
        shown.len()
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, (FONT, 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..total as f64, -u_max..u_max)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("control step (episodes in a row)")
        .y_desc("commanded torque [N·m]")
        .label_style((FONT, 13))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    chart
        .draw_series(LineSeries::new(torque, BLUE.mix(0.7)))
        .map_err(|e| err(e.to_string()))?
        .label("torque")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE));
    chart
        .draw_series(lost.iter().map(|&p| Circle::new(p, 3, RED.filled())))
        .map_err(|e| err(e.to_string()))?
        .label("lost step (previous command held)")
        .legend(|(x, y)| Circle::new((x + 9, y), 3, RED.filled()));
    chart
        .draw_series(
            retried
                .iter()
                .map(|&p| Circle::new(p, 2, RGBColor(255, 140, 0).filled())),
        )
        .map_err(|e| err(e.to_string()))?
        .label("answered after retransmission")
        .legend(|(x, y)| Circle::new((x + 9, y), 2, RGBColor(255, 140, 0).filled()));
    for c in cuts {
        chart
            .draw_series(LineSeries::new(
                [(c, -u_max), (c, u_max)],
                BLACK.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight).map_err(|e| err(e.to_string()))?;
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
