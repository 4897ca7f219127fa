//! Box-constrained iterative LQR (Gauss–Newton DDP) on the exact dynamics, from a given
//! action sequence.
//!
//! Each iteration linearises the dynamics along the current trajectory, runs the Riccati-like
//! backward pass on the quadratic model of the cost-to-go, and does a line search on the
//! forward pass `u_t ← clip(u_t + α k_t + K_t (x̂_t − x_t), ±u_max)`. The torque limit is
//! handled as in control-limited DDP (Tassa, Mansard & Todorov 2014) for one input: the
//! feed-forward step is clamped to the box and the feedback gain of a clamped step is zero.
//! Levenberg–Marquardt regularisation `μ` is added to the cost-to-go Hessian in the backward
//! pass; a step is accepted only if it lowers the true cost, so the result is never worse than
//! the start.

use super::dynamics::{COST_HESSIAN_U, COST_HESSIAN_X, Dynamics};

/// Reusable buffers of one optimisation (no allocation inside the iterations).
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    xs: Vec<[f64; 2]>,
    us: Vec<f64>,
    new_xs: Vec<[f64; 2]>,
    new_us: Vec<f64>,
    k: Vec<f64>,
    gain: Vec<[f64; 2]>,
}

impl Workspace {
    fn resize(&mut self, steps: usize) {
        self.xs.resize(steps + 1, [0.0; 2]);
        self.new_xs.resize(steps + 1, [0.0; 2]);
        self.us.resize(steps, 0.0);
        self.new_us.resize(steps, 0.0);
        self.k.resize(steps, 0.0);
        self.gain.resize(steps, [0.0; 2]);
    }
}

/// Settings of the iterations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IlqrSettings {
    /// Most iterations.
    pub max_iterations: usize,
    /// Stop when an accepted step lowers the cost by less than this (absolute).
    pub tolerance: f64,
}

impl Default for IlqrSettings {
    fn default() -> Self {
        Self {
            max_iterations: 200,
            tolerance: 1e-9,
        }
    }
}

/// Total cost of `us` from `x0`, writing the states into `xs` (length `us.len() + 1`).
pub(crate) fn rollout(d: &Dynamics, x0: [f64; 2], us: &[f64], xs: &mut [[f64; 2]]) -> f64 {
    xs[0] = x0;
    let mut cost = 0.0;
    for (t, &u) in us.iter().enumerate() {
        cost += d.cost(xs[t], u);
        xs[t + 1] = d.step(xs[t], u);
    }
    cost
}

/// Refines `actions` in place (clipped to the torque limit first); returns the final cost.
pub(crate) fn optimise(
    d: &Dynamics,
    x0: [f64; 2],
    actions: &mut [f64],
    settings: &IlqrSettings,
    ws: &mut Workspace,
) -> f64 {
    let steps = actions.len();
    ws.resize(steps);
    for (u, a) in ws.us.iter_mut().zip(actions.iter()) {
        *u = if a.is_nan() {
            0.0
        } else {
            a.clamp(-d.max_torque, d.max_torque)
        };
    }
    let mut cost = rollout(d, x0, &ws.us, &mut ws.xs);
    let mut mu = 1e-6;
    for _ in 0..settings.max_iterations {
        if !backward(d, ws, mu) {
            mu = (mu * 10.0).max(1e-4);
            if mu > 1e8 {
                break;
            }
            continue;
        }
        match line_search(d, x0, ws, cost) {
            Some(new_cost) => {
                std::mem::swap(&mut ws.us, &mut ws.new_us);
                std::mem::swap(&mut ws.xs, &mut ws.new_xs);
                let gain = cost - new_cost;
                cost = new_cost;
                mu = (mu * 0.3).max(1e-9);
                if gain < settings.tolerance {
                    break;
                }
            }
            None => {
                mu = (mu * 10.0).max(1e-4);
                if mu > 1e8 {
                    break;
                }
            }
        }
    }
    actions.copy_from_slice(&ws.us);
    cost
}

/// The backward pass: feed-forward steps `k` and gains `K`; `false` if a curvature was not
/// positive (then `μ` must grow).
fn backward(d: &Dynamics, ws: &mut Workspace, mu: f64) -> bool {
    let steps = ws.us.len();
    let (mut vx, mut vxx) = ([0.0f64; 2], [[0.0f64; 2]; 2]);
    for t in (0..steps).rev() {
        let (x, u) = (ws.xs[t], ws.us[t]);
        let j = d.jacobian(x, u);
        let (lx, lu) = d.cost_gradient(x, u);
        let (fx, fu) = (j.fx, j.fu);
        // Q-function derivatives (Gauss–Newton: no second derivatives of the dynamics).
        let qx = [
            lx[0] + fx[0][0] * vx[0] + fx[1][0] * vx[1],
            lx[1] + fx[0][1] * vx[0] + fx[1][1] * vx[1],
        ];
        let qu = lu + fu[0] * vx[0] + fu[1] * vx[1];
        // V·f_x, V·f_u with V regularised by μ·I.
        let vr = [[vxx[0][0] + mu, vxx[0][1]], [vxx[1][0], vxx[1][1] + mu]];
        let vfx = mat_mul(vxx, fx);
        let mut qxx = mat_mul(transpose(fx), vfx);
        qxx[0][0] += COST_HESSIAN_X[0];
        qxx[1][1] += COST_HESSIAN_X[1];
        let vfu = [
            vxx[0][0] * fu[0] + vxx[0][1] * fu[1],
            vxx[1][0] * fu[0] + vxx[1][1] * fu[1],
        ];
        let quu_plain = COST_HESSIAN_U + fu[0] * vfu[0] + fu[1] * vfu[1];
        let vrfu = [
            vr[0][0] * fu[0] + vr[0][1] * fu[1],
            vr[1][0] * fu[0] + vr[1][1] * fu[1],
        ];
        let quu = COST_HESSIAN_U + fu[0] * vrfu[0] + fu[1] * vrfu[1];
        let vrfx = mat_mul(vr, fx);
        let qux = [
            fu[0] * vrfx[0][0] + fu[1] * vrfx[1][0],
            fu[0] * vrfx[0][1] + fu[1] * vrfx[1][1],
        ];
        if quu <= 0.0 || !quu.is_finite() {
            return false;
        }
        // Feed-forward step clamped to the torque box; a clamped step gets no feedback.
        let free = -qu / quu;
        let k = free.clamp(-d.max_torque - u, d.max_torque - u);
        let gain = if k == free {
            [-qux[0] / quu, -qux[1] / quu]
        } else {
            [0.0, 0.0]
        };
        ws.k[t] = k;
        ws.gain[t] = gain;
        // Cost-to-go of this step (un-regularised Q terms with the chosen k, K).
        let qux_plain = [
            fu[0] * vfx[0][0] + fu[1] * vfx[1][0],
            fu[0] * vfx[0][1] + fu[1] * vfx[1][1],
        ];
        for r in 0..2 {
            vx[r] = qx[r] + gain[r] * quu_plain * k + gain[r] * qu + qux_plain[r] * k;
        }
        for r in 0..2 {
            for c in 0..2 {
                vxx[r][c] = qxx[r][c]
                    + gain[r] * quu_plain * gain[c]
                    + gain[r] * qux_plain[c]
                    + qux_plain[r] * gain[c];
            }
        }
        let off = 0.5 * (vxx[0][1] + vxx[1][0]);
        vxx[0][1] = off;
        vxx[1][0] = off;
    }
    true
}

/// Forward passes with step sizes 1, ½, ¼, …: the first that lowers the cost is kept in
/// `new_us`/`new_xs`.
fn line_search(d: &Dynamics, x0: [f64; 2], ws: &mut Workspace, cost: f64) -> Option<f64> {
    let mut alpha = 1.0;
    for _ in 0..12 {
        ws.new_xs[0] = x0;
        let mut new_cost = 0.0;
        for t in 0..ws.us.len() {
            let (x, xn) = (ws.xs[t], ws.new_xs[t]);
            let dx = [xn[0] - x[0], xn[1] - x[1]];
            let g = ws.gain[t];
            let u = (ws.us[t] + alpha * ws.k[t] + g[0] * dx[0] + g[1] * dx[1])
                .clamp(-d.max_torque, d.max_torque);
            ws.new_us[t] = u;
            new_cost += d.cost(xn, u);
            ws.new_xs[t + 1] = d.step(xn, u);
        }
        if new_cost < cost {
            return Some(new_cost);
        }
        alpha *= 0.5;
    }
    None
}

fn mat_mul(a: [[f64; 2]; 2], b: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let mut c = [[0.0; 2]; 2];
    for r in 0..2 {
        for k in 0..2 {
            c[r][k] = a[r][0] * b[0][k] + a[r][1] * b[1][k];
        }
    }
    c
}

fn transpose(a: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    [[a[0][0], a[1][0]], [a[0][1], a[1][1]]]
}
