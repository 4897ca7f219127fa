//! The reference model's step, cost and their derivatives, in plain `f64` arrays.

use crate::angle::wrap_angle;
use crate::pendulum::PendulumParams;

/// One control period of the reference model (see [`crate::pendulum`]):
/// `θ̇' = clip(θ̇ + (a sin θ + b u)·dt, ±ω_max)`, `θ' = θ + θ̇'·dt`, with `a = 3g/(2l)` and
/// `b = 3/(m l²)`; the stage cost `wrap(θ)² + 0.1 θ̇² + 0.001 u²` of the state before the step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Dynamics {
    pub a: f64,
    pub b: f64,
    pub dt: f64,
    pub max_speed: f64,
    pub max_torque: f64,
}

/// Jacobians of one step: `fx = ∂x'/∂x` (row-major 2×2) and `fu = ∂x'/∂u`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct StepJacobian {
    pub fx: [[f64; 2]; 2],
    pub fu: [f64; 2],
}

impl Dynamics {
    pub fn new(p: &PendulumParams) -> Self {
        Self {
            a: 3.0 * p.gravity / (2.0 * p.length),
            b: 3.0 / (p.mass * p.length * p.length),
            dt: p.dt,
            max_speed: p.max_speed,
            max_torque: p.max_torque,
        }
    }

    /// The next state (`u` already inside the torque limit), exactly as `Pendulum::step_torque`.
    #[inline]
    pub fn step(&self, x: [f64; 2], u: f64) -> [f64; 2] {
        let w = (x[1] + (self.a * x[0].sin() + self.b * u) * self.dt)
            .clamp(-self.max_speed, self.max_speed);
        [x[0] + w * self.dt, w]
    }

    /// The stage cost (the negative reward) of being in `x` and applying `u`.
    #[inline]
    pub fn cost(&self, x: [f64; 2], u: f64) -> f64 {
        wrap_angle(x[0]).powi(2) + 0.1 * x[1] * x[1] + 0.001 * u * u
    }

    /// Derivatives of [`Dynamics::step`] at `(x, u)`; where the speed clip is active the
    /// velocity does not depend on anything (zero rows).
    #[inline]
    pub fn jacobian(&self, x: [f64; 2], u: f64) -> StepJacobian {
        let dt = self.dt;
        let raw = x[1] + (self.a * x[0].sin() + self.b * u) * dt;
        let (dw_dth, dw_dw, dw_du) = if raw.abs() < self.max_speed {
            (self.a * x[0].cos() * dt, 1.0, self.b * dt)
        } else {
            (0.0, 0.0, 0.0)
        };
        StepJacobian {
            fx: [[1.0 + dt * dw_dth, dt * dw_dw], [dw_dth, dw_dw]],
            fu: [dt * dw_du, dw_du],
        }
    }

    /// Gradient of the stage cost in `x` and in `u` (its Hessian is constant:
    /// `diag(2, 0.2)` and `0.002`).
    #[inline]
    pub fn cost_gradient(&self, x: [f64; 2], u: f64) -> ([f64; 2], f64) {
        ([2.0 * wrap_angle(x[0]), 0.2 * x[1]], 0.002 * u)
    }
}

/// Hessian of the stage cost in `x` (diagonal) and in `u`.
pub(crate) const COST_HESSIAN_X: [f64; 2] = [2.0, 0.2];
/// Second derivative of the stage cost in `u`.
pub(crate) const COST_HESSIAN_U: f64 = 0.002;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pendulum;
    use nalgebra::Vector2;

    #[test]
    fn step_and_cost_match_the_reference_model_exactly() {
        let p = PendulumParams::default();
        let d = Dynamics::new(&p);
        let mut env = Pendulum::new(p).unwrap();
        for (th, w, u) in [(3.0, 0.5, 2.0), (-0.2, -7.9, -2.0), (1.0, 0.0, 0.3)] {
            env.set_state(Vector2::new(th, w));
            let r = env.step_torque(u);
            let s = env.state();
            assert_eq!(d.step([th, w], u), [s.x, s.y]);
            assert_eq!(-d.cost([th, w], u), r.reward);
        }
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        let d = Dynamics::new(&PendulumParams::default());
        let (x, u, h) = ([2.0, 1.0], 0.7, 1e-6);
        let j = d.jacobian(x, u);
        for k in 0..2 {
            let mut xp = x;
            xp[k] += h;
            let mut xm = x;
            xm[k] -= h;
            let (fp, fm) = (d.step(xp, u), d.step(xm, u));
            for r in 0..2 {
                assert!((j.fx[r][k] - (fp[r] - fm[r]) / (2.0 * h)).abs() < 1e-6);
            }
        }
        let (fp, fm) = (d.step(x, u + h), d.step(x, u - h));
        for r in 0..2 {
            assert!((j.fu[r] - (fp[r] - fm[r]) / (2.0 * h)).abs() < 1e-6);
        }
    }
}
