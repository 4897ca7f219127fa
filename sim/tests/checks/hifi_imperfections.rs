//! Sanity checks of each switchable imperfection and of the friction terms.

use core::f64::consts::{PI, TAU};

use nalgebra::Vector2;
use sim::{Environment, HiFiParams, HiFiPendulum, Imperfections, ScaleRange};

fn plant(imperfections: Imperfections) -> HiFiPendulum {
    HiFiPendulum::new(HiFiParams {
        imperfections,
        ..Default::default()
    })
    .unwrap()
}

fn angle_of(obs: [f32; 3]) -> f64 {
    f64::from(obs[1]).atan2(f64::from(obs[0]))
}

/// A bounded pseudo-random torque sequence (deterministic, no RNG needed).
fn torque(k: usize) -> f64 {
    2.0 * ((k as f64) * 0.37).sin()
}

/// Largest distance, in counts, of the observed angles from the encoder grid.
fn grid_distance(p: &mut HiFiPendulum, counts: u32) -> f64 {
    let q = TAU / f64::from(counts);
    let mut worst: f64 = 0.0;
    for seed in 0..5 {
        p.reset_seeded(seed);
        for k in 0..200 {
            p.step_torque(torque(k));
            let c = angle_of(p.observation()) / q;
            worst = worst.max((c - c.round()).abs());
        }
    }
    worst
}

#[test]
fn quantised_angle_lies_on_the_encoder_grid() {
    let counts = 512;
    let with_noise = Imperfections {
        encoder_counts_per_rev: Some(counts),
        angle_noise_std: Some(0.01),
        ..Default::default()
    };
    assert!(grid_distance(&mut plant(with_noise), counts) < 1e-3);
    // Without the encoder the same observations are off the grid: the check can fail.
    assert!(grid_distance(&mut plant(Imperfections::default()), counts) > 0.3);
}

fn sample_stats(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[test]
fn sensor_noise_has_the_configured_spread() {
    let mut p = plant(Imperfections {
        angle_noise_std: Some(0.02),
        velocity_noise_std: Some(0.1),
        ..Default::default()
    });
    p.reset_seeded(7);
    let truth = Vector2::new(0.4, -1.5);
    let (mut th, mut w) = (Vec::new(), Vec::new());
    for _ in 0..5000 {
        p.set_state(truth);
        let o = p.observation();
        th.push(angle_of(o) - truth.x);
        w.push(f64::from(o[2]) - truth.y);
    }
    let (m_th, s_th) = sample_stats(&th);
    let (m_w, s_w) = sample_stats(&w);
    assert!(
        m_th.abs() < 0.002 && (s_th / 0.02 - 1.0).abs() < 0.05,
        "angle {m_th} ± {s_th}"
    );
    assert!(
        m_w.abs() < 0.01 && (s_w / 0.1 - 1.0).abs() < 0.05,
        "velocity {m_w} ± {s_w}"
    );
}

#[test]
fn noise_free_observation_is_exact() {
    let mut p = HiFiPendulum::default();
    p.set_state(Vector2::new(0.4, -1.5));
    let o = p.observation();
    assert_eq!(o, [0.4f64.cos() as f32, 0.4f64.sin() as f32, -1.5]);
}

#[test]
fn velocity_observation_is_clipped_to_the_sensor_range_but_physics_is_not() {
    let mut p = HiFiPendulum::default();
    p.set_state(Vector2::new(PI, 9.5));
    assert_eq!(p.observation()[2], 8.0);
    assert_eq!(p.state().y, 9.5);
    assert_eq!(p.observation_high(), &[1.0, 1.0, 8.0]);
}

#[test]
fn lag_follows_the_first_order_response() {
    let t = 0.1;
    let mut lagged = plant(Imperfections {
        actuator_time_constant: Some(t),
        ..Default::default()
    });
    let mut direct = HiFiPendulum::default();
    for p in [&mut lagged, &mut direct] {
        p.set_state(Vector2::new(PI, 0.0));
        p.step_torque(1.0);
    }
    let expected = 1.0 - (-0.05f64 / t).exp();
    assert!(
        (lagged.applied_torque() - expected).abs() < 1e-12,
        "{}",
        lagged.applied_torque()
    );
    assert_eq!(direct.applied_torque(), 1.0);
    // The lagged rod has picked up less speed (θ̇ grows negative from the hanging position
    // because positive torque accelerates θ away from π upward: check magnitudes).
    assert!(lagged.state().y.abs() < 0.6 * direct.state().y.abs());
    for _ in 0..19 {
        lagged.step_torque(1.0);
    }
    let expected = 1.0 - (-1.0f64 / t).exp();
    assert!((lagged.applied_torque() - expected).abs() < 1e-12);
}

#[test]
fn delay_shifts_the_command_sequence_by_whole_periods() {
    let mut delayed = plant(Imperfections {
        actuator_delay_steps: 2,
        ..Default::default()
    });
    let mut direct = HiFiPendulum::default();
    delayed.reset_seeded(3);
    direct.reset_seeded(3);
    for k in 0..50 {
        delayed.step_torque(torque(k));
        direct.step_torque(if k < 2 { 0.0 } else { torque(k - 2) });
        assert_eq!(delayed.state(), direct.state(), "step {k}");
    }
    // And it differs from the undelayed response.
    let mut undelayed = HiFiPendulum::default();
    undelayed.reset_seeded(3);
    for k in 0..50 {
        undelayed.step_torque(torque(k));
    }
    assert!((undelayed.state() - delayed.state()).norm() > 1e-3);
}

#[test]
fn saturation_caps_the_applied_torque() {
    let mut limited = plant(Imperfections {
        torque_limit: Some(0.5),
        ..Default::default()
    });
    let mut weak = HiFiPendulum::default();
    limited.reset_seeded(1);
    weak.reset_seeded(1);
    for _ in 0..40 {
        limited.step_torque(2.0);
        weak.step_torque(0.5);
        assert_eq!(limited.state(), weak.state());
    }
    assert_eq!(limited.applied_torque(), 0.5);
}

#[test]
fn perturbation_draws_factors_per_episode_within_range() {
    let mut p = HiFiPendulum::new(HiFiParams {
        damping: 0.1,
        imperfections: Imperfections {
            mass_scale: Some(ScaleRange::new(0.8, 1.2)),
            length_scale: Some(ScaleRange::new(0.9, 0.9)),
            damping_scale: Some(ScaleRange::new(0.5, 2.0)),
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    let mut masses = Vec::new();
    for seed in 0..50 {
        p.reset_seeded(seed);
        let e = p.episode_physics();
        assert!((0.8..=1.2).contains(&e.mass), "{e:?}");
        assert!((e.length - 0.9).abs() < 1e-15, "{e:?}");
        assert!((0.05..=0.2).contains(&e.damping), "{e:?}");
        masses.push(e.mass);
    }
    let spread = masses.iter().cloned().fold(f64::MIN, f64::max)
        - masses.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 0.2, "masses barely vary: spread {spread}");
    p.reset_seeded(4);
    let again = p.episode_physics();
    p.reset_seeded(4);
    assert_eq!(again, p.episode_physics());
    // Off: nominal values.
    let mut nominal = HiFiPendulum::default();
    nominal.reset_seeded(4);
    assert_eq!(
        (
            nominal.episode_physics().mass,
            nominal.episode_physics().length
        ),
        (1.0, 1.0)
    );
}

/// A nearly gravity-free rod so that friction acts alone.
fn free_rotor(damping: f64, coulomb_friction: f64) -> HiFiPendulum {
    let mut p = HiFiPendulum::new(HiFiParams {
        gravity: 1e-12,
        damping,
        coulomb_friction,
        ..Default::default()
    })
    .unwrap();
    p.set_state(Vector2::new(0.0, 2.0));
    for _ in 0..20 {
        p.step_torque(0.0); // 1 s
    }
    p
}

#[test]
fn viscous_damping_decays_speed_exponentially() {
    // J θ̈ = −b θ̇ with J = m l²/3 = 1/3: θ̇(t) = θ̇₀·exp(−3 b t).
    let p = free_rotor(0.1, 0.0);
    let expected = 2.0 * (-0.3f64).exp();
    assert!(
        (p.state().y - expected).abs() < 1e-9,
        "{} vs {expected}",
        p.state().y
    );
}

#[test]
fn coulomb_friction_decelerates_at_a_constant_rate() {
    // J θ̈ = −τ_c while θ̇ ≫ v_s: θ̇(t) = θ̇₀ − 3 τ_c t.
    let p = free_rotor(0.0, 0.1);
    assert!((p.state().y - 1.7).abs() < 1e-9, "{}", p.state().y);
}

#[test]
fn a_one_period_delay_shifts_the_commands_by_one_period() {
    for d in [1u32, 3] {
        let mut delayed = plant(Imperfections {
            actuator_delay_steps: d,
            ..Default::default()
        });
        let mut direct = HiFiPendulum::default();
        delayed.reset_seeded(4);
        direct.reset_seeded(4);
        let d = d as usize;
        for k in 0..30 {
            delayed.step_torque(torque(k));
            direct.step_torque(if k < d { 0.0 } else { torque(k - d) });
            assert_eq!(delayed.state(), direct.state(), "delay {d}, step {k}");
        }
    }
}

#[test]
fn a_cloned_plant_keeps_its_delay() {
    let mut original = plant(Imperfections {
        actuator_delay_steps: 1,
        ..Default::default()
    });
    let mut clone = original.clone();
    original.reset_seeded(9);
    clone.reset_seeded(9);
    for k in 0..20 {
        original.step_torque(torque(k));
        clone.step_torque(torque(k));
    }
    assert_eq!(original.state(), clone.state());
    assert_eq!(clone.episode_physics().actuator_delay_steps, 1);
    let mut direct = HiFiPendulum::default();
    direct.reset_seeded(9);
    for k in 0..20 {
        direct.step_torque(if k < 1 { 0.0 } else { torque(k - 1) });
    }
    assert_eq!(clone.state(), direct.state());
}
