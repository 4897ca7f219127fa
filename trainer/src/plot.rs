//! PNG plots (plotters, text drawn with an embedded open font).

use crate::error::TrainError;
use crate::metrics::{EpisodeRecord, EvalRecord};
use crate::quality::EpisodeTrace;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

pub(crate) const FONT: &str = "sans-serif";

pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font always parses; if it ever did not, text would be skipped by
        // plotters' error and reported through `Plot` below.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    (lo - pad, hi + pad)
}

/// Learning curve: episodic training return and periodic evaluation return against steps.
pub fn learning_curve(
    path: &Path,
    episodes: &[EpisodeRecord],
    evals: &[EvalRecord],
) -> Result<(), TrainError> {
    register_font();
    let root = BitMapBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let max_step = episodes
        .iter()
        .map(|e| e.step)
        .chain(evals.iter().map(|e| e.step))
        .max()
        .unwrap_or(1)
        .max(1);
    let (lo, hi) = range(
        episodes
            .iter()
            .map(|e| e.episodic_return)
            .chain(evals.iter().map(|e| e.mean_return)),
    );
    let mut chart = ChartBuilder::on(&root)
        .caption("DDPG on the pendulum: learning curve", (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..max_step as f64, lo..hi)
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("return")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| plot_err(path, e))?;
    chart
        .draw_series(LineSeries::new(
            episodes.iter().map(|e| (e.step as f64, e.episodic_return)),
            BLUE.mix(0.6),
        ))
        .map_err(|e| plot_err(path, e))?
        .label("training episode return")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(
            evals.iter().map(|e| (e.step as f64, e.mean_return)),
            RED.stroke_width(2),
        ))
        .map_err(|e| plot_err(path, e))?
        .label("evaluation mean return (noise-free)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .draw_series(
            evals
                .iter()
                .map(|e| Circle::new((e.step as f64, e.mean_return), 3, RED.filled())),
        )
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_err(path, e))?;
    root.present().map_err(|e| plot_err(path, e))
}

/// Picks one channel of a trace.
type Channel = fn(&EpisodeTrace) -> &[f64];

/// Episodes of several controllers on the same initial state: angle, angular velocity and
/// torque against time, in three panels, one colour per controller.
pub fn episode(
    path: &Path,
    traces: &[(&str, &EpisodeTrace)],
    title: &str,
) -> Result<(), TrainError> {
    register_font();
    let root = BitMapBackend::new(path, (900, 780)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let root = root
        .titled(title, (FONT, 20))
        .map_err(|e| plot_err(path, e))?;
    let panels = root.split_evenly((3, 1));
    let dt = traces.first().map_or(1.0, |(_, t)| t.dt);
    let t_end = traces
        .iter()
        .map(|(_, t)| t.theta.len())
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * dt;
    let colours = [BLUE, RED, GREEN, BLACK];
    let pick: [(&str, Channel); 3] = [
        ("angle θ [rad] (0 = upright)", |t| &t.theta),
        ("velocity dθ/dt [rad/s]", |t| &t.theta_dot),
        ("torque [N·m]", |t| &t.torque),
    ];
    for (p, (panel, (label, get))) in panels.iter().zip(pick).enumerate() {
        let (lo, hi) = range(traces.iter().flat_map(|(_, t)| get(t).iter().copied()));
        let mut chart = ChartBuilder::on(panel)
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..t_end, lo..hi)
            .map_err(|e| plot_err(path, e))?;
        chart
            .configure_mesh()
            .x_desc("time [s]")
            .y_desc(label)
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| plot_err(path, e))?;
        for (k, (name, t)) in traces.iter().enumerate() {
            let c = colours[k % colours.len()];
            chart
                .draw_series(LineSeries::new(
                    get(t)
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| ((i + 1) as f64 * t.dt, v)),
                    c.stroke_width(2),
                ))
                .map_err(|e| plot_err(path, e))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
        }
        if p == 0 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, 13))
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| plot_err(path, e))?;
        }
    }
    root.present().map_err(|e| plot_err(path, e))
}
