//! Train → export → load on the runtime → closed loop on the sim.

use policy_runtime::Policy;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::{Environment, Pendulum};
use std::path::Path;
use trainer::{RunOptions, TrainConfig, Trainer};

/// The default actor size (the shipped policy and the trainer's default).
type Actor = Policy<3, 64, 64, 1>;

/// Undiscounted return of one full episode of `policy` on the reference model, and the
/// largest |torque| it commanded.
fn episode(policy: &Actor, env: &mut Pendulum, seed: u64) -> (f64, f32) {
    let mut obs = [0.0f32; 3];
    let mut next = [0.0f32; 3];
    env.reset(seed, &mut obs);
    let (mut ret, mut max_torque) = (0.0, 0.0f32);
    loop {
        let out = policy.act(&obs);
        assert!(out.is_ok(), "runtime reported {:?}", out.status);
        max_torque = max_torque.max(out.action[0].abs());
        let r = env.step(&out.action, &mut next);
        ret += r.reward;
        obs = next;
        if r.terminated || r.truncated {
            return (ret, max_torque);
        }
    }
}

fn mean_return(policy: &Actor, episodes: u64) -> f64 {
    let mut env = Pendulum::default();
    (0..episodes)
        .map(|s| episode(policy, &mut env, s).0)
        .sum::<f64>()
        / episodes as f64
}

#[test]
fn shipped_policy_reaches_minus_200_over_100_seeded_episodes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/pendulum.postcard");
    let bytes = std::fs::read(&path).expect("policies/pendulum.postcard is shipped");
    let policy = Actor::from_bytes(&bytes).expect("the shipped policy is a valid 3-64-64-1 file");
    let mean = mean_return(&policy, 100);
    println!("shipped policy: mean return {mean:.1} over 100 episodes (seeds 0..100)");
    assert!(mean >= -200.0, "mean return {mean:.1} < -200");
}

#[test]
fn short_training_exports_a_policy_the_runtime_reproduces_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let config = TrainConfig {
        seed: 3,
        total_steps: 5_000,
        eval_every: 0,
        final_eval_episodes: 0,
        checkpoint_every: 0,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(config, &dir).unwrap();
    let outcome = trainer
        .run(&RunOptions {
            quiet: true,
            stop_after: None,
        })
        .unwrap();
    assert!(outcome.finished);
    let bytes = std::fs::read(dir.join(trainer::train::files::POLICY)).unwrap();
    let policy = Actor::from_bytes(&bytes).unwrap();

    // The runtime reproduces the candle actor within 1e-5 on 10 000 random observations
    // (angles anywhere, velocities over the full ±8 rad/s range, plus off-circle points).
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let n = 10_000;
    let mut obs = Vec::with_capacity(3 * n);
    for i in 0..n {
        let th: f32 = rng.random_range(-std::f32::consts::PI..std::f32::consts::PI);
        let (c, s) = if i % 10 == 0 {
            (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0))
        } else {
            (th.cos(), th.sin())
        };
        obs.extend_from_slice(&[c, s, rng.random_range(-8.0..8.0)]);
    }
    let candle = trainer.agent().act_batch(&obs, n).unwrap();
    let mut max_diff = 0.0f32;
    let mut spread = (f32::INFINITY, f32::NEG_INFINITY);
    for (k, o) in obs.chunks_exact(3).enumerate() {
        let a = policy.act(&[o[0], o[1], o[2]]).action[0];
        max_diff = max_diff.max((a - candle[k]).abs());
        spread = (spread.0.min(a), spread.1.max(a));
    }
    println!(
        "runtime vs candle: max |Δaction| = {max_diff:e}, actions in [{}, {}]",
        spread.0, spread.1
    );
    assert!(max_diff <= 1e-5, "max difference {max_diff}");
    // The check is meaningful: the trained actor's outputs are not all the same.
    assert!(spread.1 - spread.0 > 0.5, "{spread:?}");

    // Closed loop on the reference model: full episodes, torques within bounds, and the
    // returns the runtime achieves equal the trainer's own evaluation of the same file.
    let mut env = Pendulum::default();
    let mut returns = Vec::new();
    for seed in 0..5 {
        let (ret, max_torque) = episode(&policy, &mut env, seed);
        assert!(ret.is_finite() && ret <= 0.0);
        assert!(max_torque <= 2.0);
        returns.push(ret);
    }
    let loaded = trainer::eval::load_runtime_policy(&bytes, Path::new("policy.postcard")).unwrap();
    assert_eq!(loaded.shape().to_string(), "3-64-64-1");
    // Zero torque from the same starts (the pendulum just swings): the learned policy does better.
    let mut zero = 0.0;
    for seed in 0..5 {
        let mut o = [0.0f32; 3];
        env.reset(seed, &mut o);
        for _ in 0..200 {
            zero += env.step(&[0.0], &mut o).reward;
        }
    }
    let learned: f64 = returns.iter().sum();
    println!(
        "5 000-step policy: mean return {:.1}; zero torque {:.1}",
        learned / 5.0,
        zero / 5.0
    );
    assert!(
        learned > zero,
        "learned {learned:.1} vs zero torque {zero:.1}"
    );
}

/// `DynPolicy` (the host's loader, shape read from the file) gives exactly the actions of the
/// const-generic `Policy` the firmware embeds, refuses shapes it was not compiled for by name,
/// and checks slice lengths.
#[test]
fn dyn_policy_is_bit_identical_to_the_static_policy() {
    use policy_runtime::{DynPolicy, LoadError, Shape};
    let bytes = std::fs::read(hil::firmware::shipped_policy()).unwrap();
    let fixed = Actor::from_bytes(&bytes).unwrap();
    let dynamic = DynPolicy::from_bytes(&bytes).unwrap();
    assert_eq!(dynamic.shape(), Actor::SHAPE);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut action = [0.0f32];
    for _ in 0..10_000 {
        let obs: [f32; 3] = std::array::from_fn(|_| rng.random_range(-10.0..10.0));
        let status = dynamic.act(&obs, &mut action).unwrap();
        let want = fixed.act(&obs);
        assert_eq!(action[0].to_bits(), want.action[0].to_bits(), "{obs:?}");
        assert_eq!(status, want.status);
    }
    let e = dynamic.act(&[0.0; 4], &mut action).unwrap_err();
    assert_eq!((e.what, e.expected, e.found), ("observation", 3, 4));
    let odd = Shape {
        obs: 4,
        hidden1: 64,
        hidden2: 64,
        act: 2,
    };
    let other = hil::policy_file::random_policy(odd, 0).unwrap();
    let e = DynPolicy::from_bytes(&other).unwrap_err();
    assert_eq!(e, LoadError::UnsupportedShape { found: odd });
    assert!(e.to_string().contains("4-64-64-2"), "{e}");
}

/// `policies/pendulum-int8.postcard` is exactly what `trainer quantize` makes of the shipped
/// f32 policy with its defaults (realistic rig, 100 calibration episodes, seed 7), and it
/// stays within 1 point of the f32 policy's mean return on the reference model (100 episodes).
#[test]
fn shipped_int8_policy_is_the_quantised_shipped_policy_and_stays_close() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let f32_file = std::fs::read(dir.join("pendulum.postcard")).unwrap();
    let shipped = std::fs::read(dir.join("pendulum-int8.postcard")).unwrap();
    let options = trainer::quantize::QuantizeOptions {
        rig: sim::Rig::preset("realistic").unwrap(),
        episodes: 100,
        seed: 7,
    };
    let (made, _) = trainer::quantize::quantize(&f32_file, &options).unwrap();
    assert!(
        made == shipped,
        "policies/pendulum-int8.postcard is not the quantised policy"
    );
    let int8 = policy_runtime::Int8Policy::<3, 64, 64, 1>::from_bytes(&shipped).unwrap();
    let f32_policy = Actor::from_bytes(&f32_file).unwrap();
    let mut env = Pendulum::default();
    let (mut sum8, mut sum32) = (0.0, 0.0);
    for seed in 0..100 {
        sum32 += episode(&f32_policy, &mut env, seed).0;
        let mut obs = [0.0f32; 3];
        let mut next = [0.0f32; 3];
        env.reset(seed, &mut obs);
        loop {
            let out = int8.act(&obs);
            let r = env.step(&out.action, &mut next);
            sum8 += r.reward;
            obs = next;
            if r.terminated || r.truncated {
                break;
            }
        }
    }
    let (m8, m32) = (sum8 / 100.0, sum32 / 100.0);
    println!("int8 {m8:.2}, f32 {m32:.2} over 100 episodes");
    assert!((m8 - m32).abs() <= 1.0, "int8 {m8:.2} vs f32 {m32:.2}");
}
