//! Whatever the observation, the action is finite and inside the bounds.

mod common;

use common::{RawPolicy, shape};
use policy_runtime::{Policy, Status};
use proptest::prelude::*;

fn policy() -> (Policy<3, 64, 64, 1>, RawPolicy) {
    let raw = RawPolicy::random(shape(3, 64, 64, 1), true, 77);
    (Policy::from_bytes(&raw.encode()).unwrap(), raw)
}

/// Any f32, with NaN, infinities, huge and tiny values well represented.
fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<f32>(),
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::MAX),
        Just(f32::MIN),
        -10.0f32..10.0,
        any::<u32>().prop_map(f32::from_bits),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 5000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(5),
        ..ProptestConfig::default()
    })]

    #[test]
    fn action_is_finite_and_in_bounds(obs in proptest::array::uniform3(any_f32())) {
        let (p, raw) = policy();
        let out = p.act(&obs);
        let a = out.action[0];
        prop_assert!(a.is_finite());
        prop_assert!(a >= raw.low[0] && a <= raw.high[0], "{a} outside [{}, {}]", raw.low[0], raw.high[0]);
        if obs.iter().all(|x| x.is_finite()) {
            prop_assert!(out.status != Status::NonFiniteObservation);
        } else {
            prop_assert_eq!(out.status, Status::NonFiniteObservation);
            prop_assert_eq!(out.action, p.safe_action());
        }
    }
}

#[test]
fn a_nan_output_gives_the_safe_action() {
    // x = [1e30, 0] -> h1 = [inf, inf] -> h2 = [inf, inf] -> y = inf - inf = NaN.
    let p = Policy::<2, 2, 2, 1>::from_raw(
        [0.0; 2],
        [1.0; 2],
        [[1e30, 0.0], [1e30, 0.0]],
        [0.0; 2],
        [[1.0, 1.0], [1.0, 1.0]],
        [0.0; 2],
        [[1.0, -1.0]],
        [0.0],
        [-2.0],
        [3.0],
    )
    .with_safe_action([0.5]);
    let out = p.act(&[1e30, 0.0]);
    assert_eq!(out.status, Status::NonFiniteOutput);
    assert_eq!(out.action, [0.5]);
    assert_eq!(p.act(&[1.0, 0.0]).status, Status::Ok);
}

#[test]
fn an_infinite_pre_activation_saturates_at_the_bound() {
    let q = Policy::<1, 1, 1, 1>::from_raw(
        [0.0],
        [1.0],
        [[1e30]],
        [0.0],
        [[1e30]],
        [0.0],
        [[1.0]],
        [0.0],
        [-2.0],
        [3.0],
    );
    // y = +inf -> tanh = 1 -> high bound, still Ok.
    assert_eq!(q.act(&[1e30]).status, Status::Ok);
    assert_eq!(q.act(&[1e30]).action, [3.0]);
    // ReLU gives 0 -> tanh(0) = 0 -> the middle of the bounds.
    assert_eq!(q.act(&[-1e30]).action, [0.5]);
}

#[test]
fn huge_bounds_do_not_overflow() {
    let q = Policy::<1, 1, 1, 1>::from_raw(
        [0.0],
        [1.0],
        [[1.0]],
        [0.0],
        [[1.0]],
        [0.0],
        [[1.0]],
        [0.0],
        [-f32::MAX],
        [f32::MAX],
    );
    for x in [-1e30, -1.0, 0.0, 1.0, 1e30] {
        let out = q.act(&[x]);
        assert_eq!(out.status, Status::Ok);
        assert!(out.action[0].is_finite());
    }
    assert_eq!(q.act(&[1e30]).action, [f32::MAX]);
}
