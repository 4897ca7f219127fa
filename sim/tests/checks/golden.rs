//! Golden values of the reference model. Expected values are written out twice: as the
//! Pendulum-v1 formula evaluated by hand here (not by calling the model), and as literals
//! produced by an independent Python evaluation of Gym's `step`.

use core::f64::consts::PI;

use nalgebra::Vector2;
use sim::{Environment, Pendulum};

const TOL: f64 = 1e-12;
const G: f64 = 10.0;
const M: f64 = 1.0;
const L: f64 = 1.0;
const DT: f64 = 0.05;

/// One step from `(th, thdot)` with torque `u`; returns `(θ', θ̇', reward)`.
fn run(th: f64, thdot: f64, u: f64) -> (f64, f64, f64) {
    let mut p = Pendulum::default();
    p.set_state(Vector2::new(th, thdot));
    let r = p.step_torque(u);
    assert!(!r.terminated && !r.truncated);
    (p.state().x, p.state().y, r.reward)
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{what}: got {got:.17e}, want {want:.17e}"
    );
}

fn check(th: f64, thdot: f64, u: f64, want: (f64, f64, f64)) {
    let got = run(th, thdot, u);
    close("θ'", got.0, want.0);
    close("θ̇'", got.1, want.1);
    close("reward", got.2, want.2);
}

#[test]
fn plain_step_without_clipping() {
    // u = 1 inside ±2, θ̇' = 1.509… inside ±8, θ = 0.5 already in [-π, π).
    let thdot = 1.0 + (3.0 * G / (2.0 * L) * 0.5f64.sin() + 3.0 / (M * L * L) * 1.0) * DT;
    let th = 0.5 + thdot * DT;
    let reward = -(0.5 * 0.5 + 0.1 * 1.0 * 1.0 + 0.001 * 1.0 * 1.0);
    check(0.5, 1.0, 1.0, (th, thdot, reward));
    check(
        0.5,
        1.0,
        1.0,
        (0.5754784576976576, 1.5095691539531524, -0.351),
    );
}

#[test]
fn torque_is_clipped_in_dynamics_and_reward() {
    // u = 5 acts as 2.
    let thdot = 0.2 + (15.0 * (-1.0f64).sin() + 3.0 * 2.0) * DT;
    let reward = -(1.0 + 0.1 * 0.04 + 0.001 * 4.0);
    check(-1.0, 0.2, 5.0, (-1.0 + thdot * DT, thdot, reward));
    check(
        -1.0,
        0.2,
        5.0,
        (-1.0065551619302961, -0.13110323860592238, -1.008),
    );
    // u = −3 acts as −2.
    let thdot = -0.3 + (15.0 * 2.0f64.sin() + 3.0 * -2.0) * DT;
    let reward = -(4.0 + 0.1 * 0.09 + 0.001 * 4.0);
    check(2.0, -0.3, -3.0, (2.0 + thdot * DT, thdot, reward));
    check(
        2.0,
        -0.3,
        -3.0,
        (2.004098653505963, 0.08197307011926136, -4.013),
    );
}

#[test]
fn velocity_is_clipped_before_the_angle_update() {
    // 7.9 + (15 sin 1.5 + 6)·0.05 = 8.948… → 8, and θ' uses the clipped 8.
    assert!(7.9 + (15.0 * 1.5f64.sin() + 6.0) * DT > 8.0);
    let reward = -(1.5 * 1.5 + 0.1 * 7.9 * 7.9 + 0.001 * 4.0);
    check(1.5, 7.9, 2.0, (1.5 + 8.0 * DT, 8.0, reward));
    check(-1.5, -7.9, -2.0, (-1.5 - 8.0 * DT, -8.0, reward));
    check(1.5, 7.9, 2.0, (1.9, 8.0, -8.495));
}

#[test]
fn reward_wraps_the_angle_at_plus_minus_pi() {
    // θ = 3.5 > π counts as 3.5 − 2π; θ = −3.5 as 2π − 3.5; θ = 7 as 7 − 2π.
    let thdot = (15.0 * 3.5f64.sin()) * DT;
    let wrapped = 3.5 - 2.0 * PI;
    check(
        3.5,
        0.0,
        0.0,
        (3.5 + thdot * DT, thdot, -(wrapped * wrapped)),
    );
    check(
        3.5,
        0.0,
        0.0,
        (
            3.4868456289616394,
            -0.26308742076721486,
            -7.7461204541003275,
        ),
    );

    let thdot = 0.5 + (15.0 * (-3.5f64).sin() + 3.0 * 0.5) * DT;
    let wrapped = 2.0 * PI - 3.5;
    let reward = -(wrapped * wrapped + 0.1 * 0.25 + 0.001 * 0.25);
    check(-3.5, 0.5, 0.5, (-3.5 + thdot * DT, thdot, reward));
    check(
        -3.5,
        0.5,
        0.5,
        (-3.4580956289616394, 0.8380874207672149, -7.771370454100328),
    );

    let thdot = -1.0 + (15.0 * 7.0f64.sin() + 3.0 * 0.25) * DT;
    let wrapped = 7.0 - 2.0 * PI;
    let reward = -(wrapped * wrapped + 0.1 + 0.001 * 0.0625);
    check(7.0, -1.0, 0.25, (7.0 + thdot * DT, thdot, reward));
    check(
        7.0,
        -1.0,
        0.25,
        (6.976511997451954, -0.4697600509609081, -0.6138858038432241),
    );

    // Exactly ±π wraps to −π: cost π² either way.
    check(PI, 0.0, 0.0, (PI, 15.0 * PI.sin() * DT, -(PI * PI)));
    let (_, _, r) = run(-PI, 0.0, 0.0);
    close("reward at −π", r, -(PI * PI));
}

#[test]
fn three_consecutive_steps() {
    let mut p = Pendulum::default();
    p.set_state(Vector2::new(2.8, -0.4));
    let (mut th, mut thdot) = (2.8f64, -0.4f64);
    let literals = [
        (2.8075620556308465, 0.15124111261692885, -7.8599999999999985),
        (2.8161686175963205, 0.17213123930947966, -7.886942083632666),
        (2.8390143268801182, 0.4569141856759533, -7.933858599088991),
    ];
    for (&u, lit) in [2.0f64, -1.5, 0.3].iter().zip(literals) {
        let reward = -(th * th + 0.1 * thdot * thdot + 0.001 * u * u); // θ stays < π here
        thdot = (thdot + (15.0 * th.sin() + 3.0 * u) * DT).clamp(-8.0, 8.0);
        th += thdot * DT;
        let r = p.step_torque(u);
        close("θ'", p.state().x, th);
        close("θ̇'", p.state().y, thdot);
        close("reward", r.reward, reward);
        close("θ' (literal)", p.state().x, lit.0);
        close("θ̇' (literal)", p.state().y, lit.1);
        close("reward (literal)", r.reward, lit.2);
    }
}

#[test]
fn observation_is_cos_sin_velocity_in_f32() {
    let mut p = Pendulum::default();
    p.set_state(Vector2::new(0.5, 1.0));
    let mut obs = [0.0f32; 3];
    p.step(&[1.0], &mut obs);
    let (th, thdot) = (0.5754784576976576f64, 1.5095691539531524f64);
    assert_eq!(obs, [th.cos() as f32, th.sin() as f32, thdot as f32]);
}

#[test]
fn truncated_after_200_steps_never_terminated() {
    let mut p = Pendulum::default();
    let mut obs = [0.0f32; 3];
    p.reset(0, &mut obs);
    for k in 1..=200 {
        let r = p.step(&[0.0], &mut obs);
        assert!(!r.terminated);
        assert_eq!(r.truncated, k == 200, "step {k}");
    }
    assert_eq!(p.max_episode_steps(), 200);
    assert_eq!(
        (p.action_low(), p.action_high()),
        (&[-2.0f32][..], &[2.0f32][..])
    );
}

#[test]
fn nan_action_counts_as_zero_torque() {
    assert_eq!(run(0.5, 1.0, f64::NAN), run(0.5, 1.0, 0.0));
}
