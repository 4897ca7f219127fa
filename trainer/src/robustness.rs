//! Robustness map: success rate and mean return of a policy and the rig's baseline over a grid
//! of two rig parameters, as a CSV and a heatmap PNG.
//!
//! Each cell is the rig's *nominal* plant (randomisation off, imperfections as in the rig) with
//! the two axis parameters set to the cell's values; every cell runs the same episode seeds.
//!
//! | axis | value | grid |
//! |---|---|---|
//! | `mass` | factor on the rod mass | 0.7 … 1.6 |
//! | `length` | factor on the rod length | 0.8 … 1.25 |
//! | `torque-limit` | factor on the torque the motor delivers | 0.55 … 1.0 |
//! | `damping` | damping ratio `ζ = b / (2 J ω₀)`, `J = m l²/3`, `ω₀ = √(3g/(2l))` | 0 … 0.15 |
//! | `friction` | Coulomb torque as a fraction of the gravity torque `m g l / 2` | 0 … 0.06 |
//! | `delay` | whole-period actuator delay \[periods\] | 0 … 6 |
//! | `lag` | actuator time constant as a multiple of `dt` | 0 … 1.5 |
//! | `noise` | factor on both sensor noise standard deviations (needs noise in the rig) | 0 … 4 |

use crate::error::TrainError;
use crate::quality::{self, Controller, QualitySummary};
use plotters::prelude::*;
use sim::{Rig, RigModel};
use std::path::Path;

/// Picks one figure of a summary.
type Metric = fn(&QualitySummary) -> f64;

/// Grid points per axis.
pub const GRID: usize = 7;

/// A parameter a robustness map can vary (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Factor on the mass.
    Mass,
    /// Factor on the length.
    Length,
    /// Factor on the motor's torque limit.
    TorqueLimit,
    /// Damping ratio.
    Damping,
    /// Coulomb friction over gravity torque.
    Friction,
    /// Actuator delay in periods.
    Delay,
    /// Actuator lag over dt.
    Lag,
    /// Factor on sensor noise.
    Noise,
}

impl Axis {
    const ALL: [(&'static str, Axis); 8] = [
        ("mass", Axis::Mass),
        ("length", Axis::Length),
        ("torque-limit", Axis::TorqueLimit),
        ("damping", Axis::Damping),
        ("friction", Axis::Friction),
        ("delay", Axis::Delay),
        ("lag", Axis::Lag),
        ("noise", Axis::Noise),
    ];

    /// Parses an axis name.
    pub fn parse(name: &str) -> Result<Axis, TrainError> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, a)| *a)
            .ok_or_else(|| {
                TrainError::Mismatch(format!(
                    "unknown map axis `{name}` (known: {})",
                    Self::ALL.map(|(n, _)| n).join(", ")
                ))
            })
    }

    /// Axis label for the plot.
    pub fn label(self) -> &'static str {
        match self {
            Axis::Mass => "mass × nominal",
            Axis::Length => "length × nominal",
            Axis::TorqueLimit => "motor torque limit × nominal",
            Axis::Damping => "damping ratio ζ",
            Axis::Friction => "Coulomb friction / gravity torque",
            Axis::Delay => "actuator delay [periods]",
            Axis::Lag => "actuator lag time constant / dt",
            Axis::Noise => "sensor noise × nominal",
        }
    }

    /// The grid values.
    pub fn values(self) -> [f64; GRID] {
        let lin = |a: f64, b: f64| core::array::from_fn(|i| a + (b - a) * i as f64 / 6.0);
        match self {
            Axis::Mass => lin(0.7, 1.6),
            Axis::Length => lin(0.8, 1.25),
            Axis::TorqueLimit => lin(0.55, 1.0),
            Axis::Damping => lin(0.0, 0.15),
            Axis::Friction => lin(0.0, 0.06),
            Axis::Delay => lin(0.0, 6.0),
            Axis::Lag => lin(0.0, 1.5),
            Axis::Noise => lin(0.0, 4.0),
        }
    }

    /// Sets this axis's parameter of a (nominal, high-fidelity) rig to `v`.
    fn apply(self, rig: &mut Rig, nominal: &Rig, v: f64) -> Result<(), TrainError> {
        let n = &nominal.plant;
        let p = &mut rig.plant;
        let imp = &mut p.imperfections;
        match self {
            Axis::Mass => p.mass = n.mass * v,
            Axis::Length => p.length = n.length * v,
            Axis::TorqueLimit => imp.torque_limit = Some(n.motor_torque_limit() * v),
            Axis::Damping => {
                let j = n.mass * n.length * n.length / 3.0;
                let w0 = (1.5 * n.gravity / n.length).sqrt();
                p.damping = v * 2.0 * j * w0;
            }
            Axis::Friction => p.coulomb_friction = v * n.mass * n.gravity * n.length / 2.0,
            Axis::Delay => imp.actuator_delay_steps = v.round() as u32,
            Axis::Lag => imp.actuator_time_constant = (v > 0.0).then_some(v * n.dt),
            Axis::Noise => {
                let (a, w) = (
                    n.imperfections.angle_noise_std,
                    n.imperfections.velocity_noise_std,
                );
                if a.is_none() && w.is_none() {
                    return Err(TrainError::Mismatch(format!(
                        "map axis `noise` needs sensor noise in rig `{}`",
                        nominal.name
                    )));
                }
                imp.angle_noise_std = a.map(|s| s * v);
                imp.velocity_noise_std = w.map(|s| s * v);
            }
        }
        Ok(())
    }
}

/// Parses `X,Y`.
pub fn parse_axes(spec: &str) -> Result<(Axis, Axis), TrainError> {
    let parts: Vec<&str> = spec.split(',').collect();
    match parts[..] {
        [x, y] => {
            let (x, y) = (Axis::parse(x)?, Axis::parse(y)?);
            if x == y {
                return Err(TrainError::Mismatch(format!(
                    "map axes must differ, got `{spec}`"
                )));
            }
            Ok((x, y))
        }
        _ => Err(TrainError::Mismatch(format!(
            "map axes are two names separated by a comma, got `{spec}`"
        ))),
    }
}

/// One cell of the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// X value.
    pub x: f64,
    /// Y value.
    pub y: f64,
    /// The policy's figures.
    pub policy: QualitySummary,
    /// The baseline's figures.
    pub baseline: QualitySummary,
}

/// The whole map.
#[derive(Debug, Clone)]
pub struct RobustnessMap {
    /// The rig's name.
    pub rig: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// Episodes per cell.
    pub episodes: usize,
    /// Cells, row-major from the lowest y.
    pub cells: Vec<Cell>,
}

impl RobustnessMap {
    /// Runs every cell (`episodes` episodes each, seeds from `seed`).
    pub fn compute(
        rig: &Rig,
        policy: &dyn Controller,
        baseline: &dyn Controller,
        (x, y): (Axis, Axis),
        episodes: usize,
        seed: u64,
        threads: usize,
    ) -> Result<Self, TrainError> {
        if episodes == 0 {
            return Err(TrainError::Mismatch(
                "--map-episodes must be at least 1".into(),
            ));
        }
        // The reference model has no friction or imperfections: vary the equivalent plant.
        let mut nominal = rig.nominal();
        nominal.model = RigModel::Hifi;
        let mut cells = Vec::with_capacity(GRID * GRID);
        for &yv in &y.values() {
            for &xv in &x.values() {
                let mut cell = nominal.clone();
                x.apply(&mut cell, &nominal, xv)?;
                y.apply(&mut cell, &nominal, yv)?;
                let p = quality::evaluate(&cell, policy, seed, episodes, 0.0, threads)?;
                let b = quality::evaluate(&cell, baseline, seed, episodes, 0.0, threads)?;
                cells.push(Cell {
                    x: xv,
                    y: yv,
                    policy: QualitySummary::of(&p),
                    baseline: QualitySummary::of(&b),
                });
            }
        }
        Ok(Self {
            rig: rig.name.clone(),
            x,
            y,
            episodes,
            cells,
        })
    }

    /// The map as CSV.
    pub fn to_csv(&self) -> String {
        #[derive(serde::Serialize)]
        struct Row {
            x: f64,
            y: f64,
            policy_success_rate: f64,
            policy_mean_return: f64,
            baseline_success_rate: f64,
            baseline_mean_return: f64,
        }
        crate::metrics::csv_text(
            self.cells.iter().map(|c| Row {
                x: c.x,
                y: c.y,
                policy_success_rate: c.policy.success_rate,
                policy_mean_return: c.policy.mean_return,
                baseline_success_rate: c.baseline.success_rate,
                baseline_mean_return: c.baseline.mean_return,
            }),
            true,
        )
    }

    /// Writes the heatmap PNG (four panels: success rate and mean return, policy and baseline,
    /// each cell labelled with its value, one colour scale per row) and a CSV beside it.
    pub fn plot(&self, path: &Path, policy_name: &str) -> Result<(), TrainError> {
        let csv = path.with_extension("csv");
        std::fs::write(&csv, self.to_csv()).map_err(|e| TrainError::io(&csv, e))?;
        let err = |e: &dyn std::fmt::Display| TrainError::Plot {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        crate::plot::register_font();
        let root = BitMapBackend::new(path, (1300, 1080)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let title = format!(
            "robustness on rig `{}`: {} vs swing-up + LQR, {} episodes per cell",
            self.rig, policy_name, self.episodes
        );
        let root = root
            .titled(&title, (crate::plot::FONT, 22))
            .map_err(|e| err(&e))?;
        let rows = root.split_evenly((2, 1));
        let (lo, hi) = self
            .cells
            .iter()
            .flat_map(|c| [c.policy.mean_return, c.baseline.mean_return])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let metrics: [(&str, Metric, (f64, f64)); 2] = [
            ("success rate", |s| s.success_rate, (0.0, 1.0)),
            ("mean return", |s| s.mean_return, (lo, hi.max(lo + 1e-9))),
        ];
        for (row, (metric, get, range)) in rows.iter().zip(metrics) {
            let (panels, bar) = row.split_horizontally(1180);
            let halves = panels.split_evenly((1, 2));
            for (area, (who, pick)) in halves.iter().zip([
                (
                    "policy",
                    (|c: &Cell| c.policy) as fn(&Cell) -> QualitySummary,
                ),
                ("swing-up + LQR", |c: &Cell| c.baseline),
            ]) {
                self.panel(area, &format!("{metric}: {who}"), |c| get(&pick(c)), range)
                    .map_err(|e| err(&e))?;
            }
            colour_bar(&bar, range).map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
        caption: &str,
        value: impl Fn(&Cell) -> f64,
        range: (f64, f64),
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (xs, ys) = (self.x.values(), self.y.values());
        let font = crate::plot::FONT;
        let mut chart = ChartBuilder::on(area)
            .caption(caption, (font, 18))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..GRID as f64, 0f64..GRID as f64)?;
        let fmt = |v: &[f64; GRID], t: f64| {
            let i = (t.floor() as usize).min(GRID - 1);
            let x = v[i];
            if v.iter().all(|x| (x - x.round()).abs() < 1e-9) {
                format!("{x:.0}")
            } else {
                format!("{x:.3}")
            }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(GRID * 2 + 1)
            .y_labels(GRID * 2 + 1)
            .x_label_formatter(&|t| {
                if (t.fract() - 0.5).abs() < 1e-6 {
                    fmt(&xs, *t)
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|t| {
                if (t.fract() - 0.5).abs() < 1e-6 {
                    fmt(&ys, *t)
                } else {
                    String::new()
                }
            })
            .x_desc(self.x.label())
            .y_desc(self.y.label())
            .label_style((font, 13))
            .draw()?;
        for (k, c) in self.cells.iter().enumerate() {
            let (i, j) = ((k % GRID) as f64, (k / GRID) as f64);
            let v = value(c);
            let t = ((v - range.0) / (range.1 - range.0)).clamp(0.0, 1.0);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(i, j), (i + 1.0, j + 1.0)],
                colour(t).filled(),
            )))?;
            let text = if range == (0.0, 1.0) {
                format!("{:.0}%", 100.0 * v)
            } else {
                format!("{v:.0}")
            };
            let ink = if t < 0.45 { WHITE } else { BLACK };
            chart.draw_series(std::iter::once(Text::new(
                text,
                (i + 0.2, j + 0.6),
                (font, 14).into_font().color(&ink),
            )))?;
        }
        Ok(())
    }
}

/// A perceptually ordered colour ramp (dark blue → teal → yellow) for `t` in 0..1.
fn colour(t: f64) -> RGBColor {
    let stops = [
        (0.0, (48.0, 18.0, 59.0)),
        (0.25, (50.0, 100.0, 200.0)),
        (0.5, (30.0, 170.0, 160.0)),
        (0.75, (140.0, 210.0, 80.0)),
        (1.0, (250.0, 230.0, 40.0)),
    ];
    let t = t.clamp(0.0, 1.0);
    let k = stops
        .windows(2)
        .position(|w| t <= w[1].0)
        .unwrap_or(stops.len() - 2);
    let ((t0, a), (t1, b)) = (stops[k], stops[k + 1]);
    let f = (t - t0) / (t1 - t0);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    (lo, hi): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(55)
        .margin_right(5)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&|v| {
            if (lo, hi) == (0.0, 1.0) {
                format!("{:.0}%", 100.0 * v)
            } else {
                format!("{v:.0}")
            }
        })
        .label_style((crate::plot::FONT, 13))
        .draw()?;
    let n = 100;
    chart.draw_series((0..n).map(|k| {
        let (a, b) = (k as f64 / n as f64, (k + 1) as f64 / n as f64);
        Rectangle::new(
            [(0.0, lo + (hi - lo) * a), (1.0, lo + (hi - lo) * b)],
            colour(a).filled(),
        )
    }))?;
    Ok(())
}
