//! Rig files: presets match the code, round-trip, bad values are refused with the field named,
//! and domain randomisation is seeded and covers its ranges.

use sim::{Environment, HiFiParams, Rig, RigModel, RigPlant};

#[test]
fn presets_are_the_documented_plants() {
    let realistic = Rig::preset("realistic").unwrap();
    assert_eq!(realistic.model, RigModel::Hifi);
    assert_eq!(realistic.plant, HiFiParams::realistic());
    let reference = Rig::preset("reference").unwrap();
    assert_eq!(reference.model, RigModel::Reference);
    assert_eq!(reference.reference_params(), sim::PendulumParams::default());
    assert_eq!(
        Rig::preset("hifi-ideal").unwrap().plant,
        HiFiParams::default()
    );
    let desktop = Rig::preset("desktop").unwrap();
    assert!(
        desktop.dt() <= 0.01,
        "the desktop rig runs at 100 Hz or faster"
    );
    let p = &desktop.plant;
    // The motor must pump energy: its torque is below the gravity torque at the horizontal.
    assert!(p.max_torque < p.mass * p.gravity * p.length / 2.0);
    assert!(p.imperfections.encoder_counts_per_rev.unwrap() < 2048);
}

#[test]
fn example_rigs_load_and_say_what_they_are() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rigs/examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    for path in files {
        let rig = Rig::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stem = path.file_stem().unwrap().to_string_lossy();
        assert_eq!(rig.name, stem, "{}", path.display());
        assert!(!rig.description.is_empty(), "{}", path.display());
        assert_eq!(rig.model, RigModel::Hifi);
        // Each differs from every preset (the point of the examples).
        for preset in ["realistic", "desktop"] {
            assert_ne!(rig.plant, Rig::preset(preset).unwrap().plant);
        }
    }
}

#[test]
fn a_rig_round_trips_through_toml_and_files() {
    let tmp = std::env::temp_dir().join(format!("rig-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for name in ["reference", "realistic", "desktop"] {
        let rig = Rig::preset(name).unwrap();
        let path = tmp.join(format!("{name}-copy.toml"));
        std::fs::write(&path, rig.to_toml()).unwrap();
        assert_eq!(Rig::from_file(&path).unwrap(), rig);
        assert_eq!(Rig::resolve(path.to_str().unwrap()).unwrap(), rig);
    }
    // A file without a name takes its stem.
    let path = tmp.join("my-rig.toml");
    std::fs::write(&path, "[plant]\nmass = 0.5\n").unwrap();
    let rig = Rig::resolve(path.to_str().unwrap()).unwrap();
    assert_eq!(rig.name, "my-rig");
    assert_eq!(rig.plant.mass, 0.5);
    std::fs::remove_dir_all(&tmp).unwrap();
}

fn err(text: &str) -> String {
    Rig::from_toml_str(text, "t").unwrap_err().to_string()
}

#[test]
fn bad_rigs_are_refused_with_the_field_named() {
    let e = err("[plant]\nmas = 1.0\n");
    assert!(e.contains("mas"), "{e}");
    let e = err("colour = 3\n");
    assert!(e.contains("colour"), "{e}");
    let e = err("[plant]\nlength = -0.5\n");
    assert!(e.contains("length") && e.contains("-0.5"), "{e}");
    let e = err("[plant]\nmax_episode_steps = 0\n");
    assert!(e.contains("max_episode_steps"), "{e}");
    let e = err("[plant.imperfections]\nmass_scale = { min = 1.2, max = 0.8 }\n");
    assert!(e.contains("mass_scale"), "{e}");
    let e = err("[plant.imperfections]\nactuator_time_constant_scale = { min = 0.5, max = 2.0 }\n");
    assert!(
        e.contains("actuator_time_constant_scale") && e.contains("actuator_time_constant"),
        "{e}"
    );
    let e = err("[plant.imperfections]\nactuator_delay_steps = 3\nactuator_delay_steps_max = 1\n");
    assert!(e.contains("actuator_delay_steps_max"), "{e}");
    let e = err("model = \"reference\"\n[plant]\ndamping = 0.1\n");
    assert!(e.contains("damping") && e.contains("reference"), "{e}");
    let e = err("model = \"gym\"\n");
    assert!(e.contains("gym"), "{e}");
    let e = Rig::resolve("no-such-rig").unwrap_err().to_string();
    assert!(e.contains("no-such-rig") && e.contains("realistic"), "{e}");
}

fn physics(plant: &RigPlant) -> sim::EpisodePhysics {
    plant.episode_physics().unwrap()
}

#[test]
fn randomisation_is_seeded_and_covers_its_ranges() {
    let rig = Rig::preset("desktop").unwrap();
    let imp = &rig.plant.imperfections;
    let mut a = rig.build().unwrap();
    let mut b = rig.build().unwrap();
    let mut obs = [0.0f32; 3];
    let (mut lo, mut hi) = ([f64::INFINITY; 5], [f64::NEG_INFINITY; 5]);
    for seed in 0..2000 {
        a.reset(seed, &mut obs);
        b.reset(seed, &mut obs);
        assert_eq!(physics(&a), physics(&b), "same seed, same plant");
        let e = physics(&a);
        let p = &rig.plant;
        let f = [
            e.mass / p.mass,
            e.length / p.length,
            e.damping / p.damping,
            e.coulomb_friction / p.coulomb_friction,
            e.torque_limit.unwrap() / p.max_torque,
        ];
        for k in 0..5 {
            lo[k] = lo[k].min(f[k]);
            hi[k] = hi[k].max(f[k]);
        }
        assert!(e.sensor_noise_scale >= 0.5 && e.sensor_noise_scale <= 1.5);
    }
    let ranges = [
        imp.mass_scale.unwrap(),
        imp.length_scale.unwrap(),
        imp.damping_scale.unwrap(),
        imp.coulomb_friction_scale.unwrap(),
        imp.torque_limit_scale.unwrap(),
    ];
    for (k, r) in ranges.iter().enumerate() {
        let span = r.max - r.min;
        assert!(
            lo[k] >= r.min - 1e-12 && hi[k] <= r.max + 1e-12,
            "range {k}"
        );
        // 2000 uniform draws reach within 1 % of both ends.
        assert!(
            lo[k] < r.min + 0.01 * span && hi[k] > r.max - 0.01 * span,
            "range {k}"
        );
    }
    // Different seeds give different plants; the nominal rig gives the nominal plant.
    a.reset(1, &mut obs);
    b.reset(2, &mut obs);
    assert_ne!(physics(&a), physics(&b));
    let mut n = rig.nominal().build().unwrap();
    n.reset(5, &mut obs);
    assert_eq!(physics(&n), sim::EpisodePhysics::nominal(&rig.plant));
}

#[test]
fn a_randomised_delay_covers_its_range() {
    let text = "[plant.imperfections]\nactuator_delay_steps = 1\nactuator_delay_steps_max = 3\n";
    let rig = Rig::from_toml_str(text, "delay").unwrap();
    let mut plant = rig.build().unwrap();
    let mut obs = [0.0f32; 3];
    let mut seen = [false; 4];
    for seed in 0..200 {
        plant.reset(seed, &mut obs);
        seen[physics(&plant).actuator_delay_steps as usize] = true;
    }
    assert_eq!(seen, [false, true, true, true]);
}
