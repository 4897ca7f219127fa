//! With every imperfection off and zero damping the high-fidelity plant integrates the same ODE
//! as the reference model: the reference's semi-implicit Euler converges to it at first order.

use nalgebra::Vector2;
use sim::{HiFiParams, HiFiPendulum, Pendulum, PendulumParams};

const T_END: f64 = 1.0;
const U: f64 = 0.7;

fn start() -> Vector2<f64> {
    Vector2::new(2.0, 0.5)
}

/// Reference model with step `dt` run for `T_END` seconds; also returns the largest |θ̇| seen.
fn reference(dt: f64) -> (Vector2<f64>, f64) {
    let steps = (T_END / dt).round() as usize;
    let mut p = Pendulum::new(PendulumParams {
        dt,
        max_episode_steps: steps,
        ..Default::default()
    })
    .unwrap();
    p.set_state(start());
    let mut max_speed: f64 = 0.0;
    for _ in 0..steps {
        p.step_torque(U);
        max_speed = max_speed.max(p.state().y.abs());
    }
    (p.state(), max_speed)
}

fn hifi(rate: f64) -> Vector2<f64> {
    let mut p = HiFiPendulum::new(HiFiParams {
        integration_rate_hz: rate,
        ..Default::default()
    })
    .unwrap();
    p.set_state(start());
    for _ in 0..(T_END / 0.05).round() as usize {
        p.step_torque(U);
    }
    p.state()
}

#[test]
fn hifi_is_converged_at_its_default_rate() {
    let (a, b) = (hifi(1000.0), hifi(10_000.0));
    assert!((a - b).norm() < 1e-9, "1 kHz {a:?} vs 10 kHz {b:?}");
}

#[test]
fn reference_converges_to_hifi_at_first_order() {
    let exact = hifi(1000.0);
    let (r1, s1) = reference(1e-3);
    let (r2, s2) = reference(5e-4);
    // Stay in the regime where the reference's ±8 rad/s clip never acts.
    assert!(s1 < 7.0 && s2 < 7.0, "speeds {s1} {s2}");
    let (e1, e2) = ((r1 - exact).norm(), (r2 - exact).norm());
    assert!(
        e2 < 5e-3,
        "reference at 0.5 ms is {e2} away from the RK4 plant"
    );
    let ratio = e1 / e2;
    eprintln!("reference error at 1 ms: {e1:.3e}, at 0.5 ms: {e2:.3e}, ratio {ratio:.3}");
    assert!(
        (1.8..2.2).contains(&ratio),
        "halving dt divided the error by {ratio}, expected ~2"
    );
}

#[test]
fn one_control_period_agrees_with_reference_to_euler_accuracy() {
    // At the reference's own dt = 0.05 s the difference is the Euler local error, O(dt²).
    for &(th, thdot, u) in &[(0.3, -1.0, 2.0), (2.5, 0.0, -1.0), (-1.2, 3.0, 0.5)] {
        let mut r = Pendulum::default();
        let mut h = HiFiPendulum::default();
        r.set_state(Vector2::new(th, thdot));
        h.set_state(Vector2::new(th, thdot));
        r.step_torque(u);
        h.step_torque(u);
        let d = r.state() - h.state();
        // |θ̈| ≤ 15 + 6 = 21 and |d³θ/dt³| ≤ 15·|θ̇| + ...: bounds of ½·θ̈·dt² and a loose
        // velocity bound.
        assert!(d.x.abs() < 0.5 * 21.0 * 0.05 * 0.05, "{d:?}");
        assert!(d.y.abs() < 0.1, "{d:?}");
    }
}
