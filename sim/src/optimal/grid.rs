//! Finite-horizon dynamic programming over a grid of (θ, θ̇): a global, coarse solution that
//! picks the right number and direction of swings, which the local optimiser then refines.
//!
//! `V_T = 0` and `V_t(x) = min_u [ l(x, u) + V_{t+1}(f(x, u)) ]` over the grid points `x` and a
//! set of torque levels `u`, with `V_{t+1}` between grid points interpolated bilinearly (θ is
//! periodic; θ̇ is clamped to the grid's range, which the speed clip already bounds).

use std::f64::consts::PI;

use super::dynamics::Dynamics;
use crate::angle::wrap_angle;

/// Resolution of the dynamic-programming grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridSpec {
    /// Grid points in θ over one turn (periodic), ≥ 8.
    pub angles: usize,
    /// Grid points in θ̇ over `[-ω_max, ω_max]`, ≥ 3.
    pub speeds: usize,
    /// Torque levels over `[-u_max, u_max]`, ≥ 2.
    pub torques: usize,
}

impl Default for GridSpec {
    /// 256 × 129 states (1.4° and 0.125 rad/s apart at ω_max = 8) and 21 torque levels.
    fn default() -> Self {
        Self {
            angles: 256,
            speeds: 129,
            torques: 21,
        }
    }
}

/// The tabulated values `V_0 … V_T` (`f32`, row-major θ × θ̇ per step).
#[derive(Debug, Clone)]
pub(crate) struct ValueGrid {
    spec: GridSpec,
    steps: usize,
    h_angle: f64,
    h_speed: f64,
    max_speed: f64,
    torques: Vec<f64>,
    values: Vec<f32>,
}

impl ValueGrid {
    /// Runs the backward recursion over `steps` periods with `threads` worker threads.
    pub fn build(d: &Dynamics, spec: GridSpec, steps: usize, threads: usize) -> Self {
        let layer = spec.angles * spec.speeds;
        let torques = (0..spec.torques)
            .map(|k| -d.max_torque + 2.0 * d.max_torque * k as f64 / (spec.torques - 1) as f64)
            .collect();
        let mut grid = Self {
            spec,
            steps,
            h_angle: 2.0 * PI / spec.angles as f64,
            h_speed: 2.0 * d.max_speed / (spec.speeds - 1) as f64,
            max_speed: d.max_speed,
            torques,
            values: vec![0.0; (steps + 1) * layer],
        };
        let mut values = std::mem::take(&mut grid.values);
        let rows_per_thread = spec.angles.div_ceil(threads.max(1));
        for t in (0..steps).rev() {
            let (head, tail) = values.split_at_mut((t + 1) * layer);
            let next = &tail[..layer];
            let current = &mut head[t * layer..];
            let g = &grid;
            std::thread::scope(|s| {
                for (c, chunk) in current
                    .chunks_mut(rows_per_thread * spec.speeds)
                    .enumerate()
                {
                    s.spawn(move || g.backup_rows(d, next, c * rows_per_thread, chunk));
                }
            });
        }
        grid.values = values;
        grid
    }

    /// `V_t` on the rows starting at angle index `first_row`, from `next` (`V_{t+1}`).
    fn backup_rows(&self, d: &Dynamics, next: &[f32], first_row: usize, out: &mut [f32]) {
        for (r, row) in out.chunks_mut(self.spec.speeds).enumerate() {
            let th = self.angle(first_row + r);
            let (sin, th_cost) = (th.sin(), th * th);
            for (j, v) in row.iter_mut().enumerate() {
                let w = -self.max_speed + j as f64 * self.h_speed;
                let state_cost = th_cost + 0.1 * w * w;
                let mut best = f64::INFINITY;
                for &u in &self.torques {
                    let w2 = (w + (d.a * sin + d.b * u) * d.dt).clamp(-d.max_speed, d.max_speed);
                    let q = 0.001 * u * u + interpolate(self, next, th + w2 * d.dt, w2);
                    best = best.min(q);
                }
                *v = (state_cost + best) as f32;
            }
        }
    }

    fn angle(&self, i: usize) -> f64 {
        -PI + i as f64 * self.h_angle
    }

    fn layer(&self, t: usize) -> &[f32] {
        let n = self.spec.angles * self.spec.speeds;
        &self.values[t * n..(t + 1) * n]
    }

    /// `V_t(x)`, interpolated (0 for `t ≥ T`).
    pub fn value(&self, t: usize, x: [f64; 2]) -> f64 {
        if t >= self.steps {
            return 0.0;
        }
        interpolate(self, self.layer(t), x[0], x[1])
    }

    /// The torque level minimising `l(x, u) + V_{t+1}(f(x, u))`.
    pub fn greedy(&self, d: &Dynamics, t: usize, x: [f64; 2]) -> f64 {
        let mut best = (f64::INFINITY, 0.0);
        for &u in &self.torques {
            let q = d.cost(x, u) + self.value(t + 1, d.step(x, u));
            if q < best.0 {
                best = (q, u);
            }
        }
        best.1
    }

    /// The greedy policy's actions from `x0`, one per element of `actions`.
    pub fn rollout(&self, d: &Dynamics, x0: [f64; 2], actions: &mut [f64]) {
        let mut x = x0;
        for (t, a) in actions.iter_mut().enumerate() {
            *a = self.greedy(d, t, x);
            x = d.step(x, *a);
        }
    }
}

/// Bilinear interpolation of one layer at (θ, θ̇).
#[inline]
fn interpolate(g: &ValueGrid, layer: &[f32], th: f64, w: f64) -> f64 {
    let n_th = g.spec.angles;
    let n_w = g.spec.speeds;
    let pa = (wrap_angle(th) + PI) / g.h_angle;
    let ia = (pa.floor() as usize).min(n_th - 1);
    let fa = (pa - ia as f64).clamp(0.0, 1.0);
    let ia1 = if ia + 1 == n_th { 0 } else { ia + 1 };
    let ps = ((w + g.max_speed) / g.h_speed).clamp(0.0, (n_w - 1) as f64);
    let js = (ps.floor() as usize).min(n_w - 2);
    let fs = ps - js as f64;
    let v = |i: usize, j: usize| f64::from(layer[i * n_w + j]);
    let lo = v(ia, js) * (1.0 - fs) + v(ia, js + 1) * fs;
    let hi = v(ia1, js) * (1.0 - fs) + v(ia1, js + 1) * fs;
    lo * (1.0 - fa) + hi * fa
}
