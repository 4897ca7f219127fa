//! Invalid parameters are rejected with an error naming the field; configs round-trip.

use sim::{
    HiFiParams, HiFiPendulum, Imperfections, ParamError, Pendulum, PendulumParams, ScaleRange,
};

fn reference_error(f: impl FnOnce(&mut PendulumParams)) -> ParamError {
    let mut p = PendulumParams::default();
    f(&mut p);
    Pendulum::new(p).expect_err("invalid params accepted")
}

fn hifi_error(f: impl FnOnce(&mut HiFiParams)) -> ParamError {
    let mut p = HiFiParams::default();
    f(&mut p);
    HiFiPendulum::new(p).expect_err("invalid params accepted")
}

#[test]
fn reference_rejects_each_invalid_field() {
    use ParamError::*;
    assert_eq!(
        reference_error(|p| p.mass = -1.0),
        NotPositive {
            name: "mass",
            value: -1.0
        }
    );
    assert_eq!(
        reference_error(|p| p.dt = 0.0),
        NotPositive {
            name: "dt",
            value: 0.0
        }
    );
    assert_eq!(
        reference_error(|p| p.length = 0.0),
        NotPositive {
            name: "length",
            value: 0.0
        }
    );
    assert!(matches!(
        reference_error(|p| p.gravity = f64::NAN),
        NotFinite {
            name: "gravity",
            ..
        }
    ));
    assert!(matches!(
        reference_error(|p| p.max_speed = f64::INFINITY),
        NotFinite {
            name: "max_speed",
            ..
        }
    ));
    assert_eq!(
        reference_error(|p| p.max_torque = -2.0),
        NotPositive {
            name: "max_torque",
            value: -2.0
        }
    );
    assert_eq!(
        reference_error(|p| p.max_episode_steps = 0),
        ZeroCount {
            name: "max_episode_steps"
        }
    );
}

#[test]
fn messages_name_the_field_and_value() {
    let e = reference_error(|p| p.mass = -1.5);
    assert_eq!(e.to_string(), "parameter `mass` must be > 0, got -1.5");
    let e = hifi_error(|p| p.integration_rate_hz = 1e9);
    assert!(e.to_string().contains("integration_rate_hz"), "{e}");
}

#[test]
fn hifi_rejects_each_invalid_field() {
    use ParamError::*;
    assert_eq!(
        hifi_error(|p| p.damping = -0.1),
        Negative {
            name: "damping",
            value: -0.1
        }
    );
    assert!(matches!(
        hifi_error(|p| p.coulomb_friction = f64::NAN),
        NotFinite {
            name: "coulomb_friction",
            ..
        }
    ));
    assert!(matches!(
        hifi_error(|p| p.friction_smoothing_speed = 0.0),
        NotPositive {
            name: "friction_smoothing_speed",
            ..
        }
    ));
    assert!(matches!(
        hifi_error(|p| p.mass = -1.0),
        NotPositive { name: "mass", .. }
    ));
    assert!(matches!(
        hifi_error(|p| p.integration_rate_hz = 0.0),
        NotPositive {
            name: "integration_rate_hz",
            ..
        }
    ));
    assert!(matches!(
        hifi_error(|p| p.integration_rate_hz = 1e12),
        TooManySubsteps { .. }
    ));
    assert!(matches!(
        hifi_error(|p| p.velocity_range = -8.0),
        NotPositive {
            name: "velocity_range",
            ..
        }
    ));
    let imp = |f: fn(&mut Imperfections)| hifi_error(|p| f(&mut p.imperfections));
    assert!(matches!(
        imp(|i| i.angle_noise_std = Some(-0.1)),
        Negative {
            name: "angle_noise_std",
            ..
        }
    ));
    assert!(matches!(
        imp(|i| i.velocity_noise_std = Some(f64::NAN)),
        NotFinite {
            name: "velocity_noise_std",
            ..
        }
    ));
    assert_eq!(
        imp(|i| i.encoder_counts_per_rev = Some(0)),
        ZeroCount {
            name: "encoder_counts_per_rev"
        }
    );
    assert!(matches!(
        imp(|i| i.actuator_time_constant = Some(0.0)),
        NotPositive {
            name: "actuator_time_constant",
            ..
        }
    ));
    assert!(matches!(
        imp(|i| i.actuator_delay_steps = 1_000_000),
        TooLarge {
            name: "actuator_delay_steps",
            ..
        }
    ));
    assert!(matches!(
        imp(|i| i.torque_limit = Some(-1.0)),
        NotPositive {
            name: "torque_limit",
            ..
        }
    ));
    assert!(matches!(
        imp(|i| i.mass_scale = Some(ScaleRange::new(1.2, 0.8))),
        InvalidRange {
            name: "mass_scale",
            ..
        }
    ));
    assert!(matches!(
        imp(|i| i.length_scale = Some(ScaleRange::new(0.0, 1.0))),
        InvalidRange {
            name: "length_scale",
            ..
        }
    ));
    assert!(matches!(
        imp(|i| i.damping_scale = Some(ScaleRange::new(0.5, f64::NAN))),
        InvalidRange {
            name: "damping_scale",
            ..
        }
    ));
}

#[test]
fn presets_are_valid() {
    assert!(HiFiPendulum::new(HiFiParams::realistic()).is_ok());
    assert!(HiFiParams::default().validate().is_ok());
    assert!(PendulumParams::default().validate().is_ok());
    assert_eq!(HiFiParams::default().substeps(), 50);
}

#[test]
fn configs_round_trip_through_toml_with_defaults_for_missing_fields() {
    let hifi = HiFiParams::realistic();
    let text = toml::to_string(&hifi).unwrap();
    assert_eq!(toml::from_str::<HiFiParams>(&text).unwrap(), hifi);

    let partial: PendulumParams = toml::from_str("mass = 2.0").unwrap();
    assert_eq!(
        partial,
        PendulumParams {
            mass: 2.0,
            ..Default::default()
        }
    );
    let partial: HiFiParams =
        toml::from_str("damping = 0.1\n[imperfections]\nactuator_delay_steps = 1").unwrap();
    assert_eq!(partial.damping, 0.1);
    assert_eq!(partial.imperfections.actuator_delay_steps, 1);
    assert_eq!(partial.imperfections.torque_limit, None);

    let typo = toml::from_str::<PendulumParams>("mas = 2.0");
    assert!(typo.unwrap_err().to_string().contains("mas"));
}
