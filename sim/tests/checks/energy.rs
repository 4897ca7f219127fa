//! Energy bookkeeping of the high-fidelity plant.

use nalgebra::Vector2;
use sim::{HiFiParams, HiFiPendulum};

/// Total energy of the uniform rod about its end, written out independently of the crate.
fn energy(x: Vector2<f64>) -> f64 {
    let (m, l, g) = (1.0, 1.0, 10.0);
    0.5 * (m * l * l / 3.0) * x.y * x.y + m * g * (l / 2.0) * x.x.cos()
}

fn max_relative_drift(start: Vector2<f64>) -> f64 {
    let mut p = HiFiPendulum::default(); // zero damping, zero friction, no imperfections
    p.set_state(start);
    let e0 = energy(start);
    let mut worst: f64 = 0.0;
    for _ in 0..200 {
        // 200 × 0.05 s = 10 s
        p.step_torque(0.0);
        worst = worst.max(((energy(p.state()) - e0) / e0).abs());
    }
    worst
}

#[test]
fn conserved_while_swinging() {
    let drift = max_relative_drift(Vector2::new(2.5, 0.0));
    eprintln!("relative energy drift over 10 s: {drift:.3e}");
    assert!(drift < 1e-6, "relative energy drift {drift}");
}

#[test]
fn conserved_while_rotating_over_the_top() {
    let drift = max_relative_drift(Vector2::new(0.3, 7.0));
    eprintln!("relative energy drift over 10 s: {drift:.3e}");
    assert!(drift < 1e-6, "relative energy drift {drift}");
}

#[test]
fn damping_and_friction_only_remove_energy() {
    let mut p = HiFiPendulum::new(HiFiParams {
        damping: 0.05,
        coulomb_friction: 0.05,
        ..Default::default()
    })
    .unwrap();
    p.set_state(Vector2::new(0.3, 7.0));
    let mut e = p.energy();
    let e0 = e;
    for _ in 0..200 {
        p.step_torque(0.0);
        let next = p.energy();
        assert!(next <= e + 1e-9, "energy rose from {e} to {next}");
        e = next;
    }
    assert!(e < e0 - 1.0, "barely any loss: {e0} -> {e}");
}
