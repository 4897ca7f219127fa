//! PNG plots (plotters, text drawn with an embedded open font).

use crate::error::TrainError;
use crate::metrics::{EpisodeRecord, EvalRecord};
use crate::quality::EpisodeTrace;
use plotters::prelude::*;
use std::path::Path;

pub(crate) use plot_style::{Chart2, FONT, legend, register_font};

fn plot_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The finite span of `values`, padded by 5 % (at least 1e-3); (−1, 1) if none is finite.
pub(crate) fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
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

/// What the learning curve marks besides the returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveMarks {
    /// The config's `learning_starts` (random actions before it).
    pub learning_starts: u64,
    /// Step of the periodic evaluation exported as `policy.postcard`.
    pub best_step: Option<u64>,
    /// Mean return of the rig's swing-up + LQR on the periodic evaluations' episodes.
    pub baseline_return: Option<f64>,
}

/// Learning curve, two panels. Top: episodic training return, periodic evaluation mean return
/// with a ±1 standard-deviation band, the rig baseline's return and the −200 line, and vertical
/// marks at `learning_starts` and at the selected policy's step. Bottom: critic loss and mean
/// Q per episode.
pub fn learning_curve(
    path: &Path,
    episodes: &[EpisodeRecord],
    evals: &[EvalRecord],
    marks: &CurveMarks,
) -> Result<(), TrainError> {
    register_font();
    let root = BitMapBackend::new(path, (1000, 820)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (top, bottom) = root.split_vertically(520);
    let max_step = episodes
        .iter()
        .map(|e| e.step)
        .chain(evals.iter().map(|e| e.step))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    returns_panel(path, &top, episodes, evals, marks, max_step)?;
    losses_panel(path, &bottom, episodes, max_step)?;
    root.present().map_err(|e| plot_err(path, e))
}

fn vline<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart2<'a, DB>,
    x: f64,
    (lo, hi): (f64, f64),
    color: RGBColor,
    label: &str,
) -> Result<(), String> {
    chart
        .draw_series(DashedLineSeries::new(
            [(x, lo), (x, hi)],
            6,
            4,
            color.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label(label.to_string())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    Ok(())
}

fn returns_panel<DB: DrawingBackend>(
    path: &Path,
    area: &DrawingArea<DB, plotters::coord::Shift>,
    episodes: &[EpisodeRecord],
    evals: &[EvalRecord],
    marks: &CurveMarks,
    max_step: f64,
) -> Result<(), TrainError> {
    let err = |e: &dyn std::fmt::Display| plot_err(path, e);
    let (lo, hi) = range(
        episodes
            .iter()
            .map(|e| e.episodic_return)
            .chain(
                evals
                    .iter()
                    .flat_map(|e| [e.mean_return - e.std_return, e.mean_return + e.std_return]),
            )
            .chain(marks.baseline_return)
            .chain([-200.0]),
    );
    let mut chart = ChartBuilder::on(area)
        .caption("DDPG on the pendulum: learning curve", (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..max_step, lo..hi)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("episode return (higher is better)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| err(&e))?;
    if evals.len() > 1 {
        let band: Vec<(f64, f64)> = evals
            .iter()
            .map(|e| (e.step as f64, e.mean_return + e.std_return))
            .chain(
                evals
                    .iter()
                    .rev()
                    .map(|e| (e.step as f64, e.mean_return - e.std_return)),
            )
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, RED.mix(0.15).filled())))
            .map_err(|e| err(&e))?;
    }
    chart
        .draw_series(LineSeries::new(
            episodes.iter().map(|e| (e.step as f64, e.episodic_return)),
            BLUE.mix(0.5),
        ))
        .map_err(|e| err(&e))?
        .label("training episode return (with exploration noise)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(
            evals.iter().map(|e| (e.step as f64, e.mean_return)),
            RED.stroke_width(2),
        ))
        .map_err(|e| err(&e))?
        .label("evaluation mean return ± 1 s.d. (noise-free, evaluation rig)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    reference_marks(&mut chart, marks, max_step, (lo, hi)).map_err(|e| err(&e))?;
    legend(&mut chart, SeriesLabelPosition::LowerRight).map_err(|e| err(&e))
}

/// The learning curve's reference lines: the −200 mark, the rig's swing-up + LQR return, where
/// learning starts and which step was flashed.
fn reference_marks<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart2<'a, DB>,
    marks: &CurveMarks,
    max_step: f64,
    (lo, hi): (f64, f64),
) -> Result<(), String> {
    let hline = |y: f64| [(0.0, y), (max_step, y)];
    chart
        .draw_series(DashedLineSeries::new(
            hline(-200.0),
            4,
            4,
            BLACK.mix(0.6).stroke_width(1),
        ))
        .map_err(|e| e.to_string())?
        .label("−200 (a common 'solved' mark)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.6)));
    if let Some(b) = marks.baseline_return {
        let green = RGBColor(0, 140, 0);
        chart
            .draw_series(LineSeries::new(hline(b), green.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!("rig swing-up + LQR ({b:.0})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], green));
    }
    let grey = RGBColor(128, 128, 128);
    vline(
        chart,
        marks.learning_starts as f64,
        (lo, hi),
        grey,
        "learning starts",
    )?;
    if let Some(s) = marks.best_step {
        let purple = RGBColor(200, 0, 200);
        vline(
            chart,
            s as f64,
            (lo, hi),
            purple,
            "policy.postcard (selected)",
        )?;
    }
    Ok(())
}

fn losses_panel<DB: DrawingBackend>(
    path: &Path,
    area: &DrawingArea<DB, plotters::coord::Shift>,
    episodes: &[EpisodeRecord],
    max_step: f64,
) -> Result<(), TrainError> {
    let err = |e: &dyn std::fmt::Display| plot_err(path, e);
    let (lo, hi) = range(
        episodes
            .iter()
            .flat_map(|e| [f64::from(e.critic_loss), f64::from(e.mean_q)]),
    );
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..max_step, lo..hi)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("per-episode mean")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| err(&e))?;
    let finite = |f: fn(&EpisodeRecord) -> f32| {
        episodes
            .iter()
            .filter(move |e| f(e).is_finite())
            .map(move |e| (e.step as f64, f64::from(f(e))))
    };
    let orange = RGBColor(230, 120, 0);
    chart
        .draw_series(LineSeries::new(finite(|e| e.critic_loss), orange))
        .map_err(|e| err(&e))?
        .label("critic loss (TD error²)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange));
    chart
        .draw_series(LineSeries::new(finite(|e| e.mean_q), CYAN.mix(0.9)))
        .map_err(|e| err(&e))?
        .label("mean Q(s, a) of the minibatches")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], CYAN));
    legend(&mut chart, SeriesLabelPosition::LowerRight).map_err(|e| err(&e))
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
            legend(&mut chart, SeriesLabelPosition::UpperRight).map_err(|e| plot_err(path, e))?;
        }
    }
    root.present().map_err(|e| plot_err(path, e))
}
