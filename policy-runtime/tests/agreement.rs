//! The runtime agrees with a plain f64 reference implementation of the same network.

mod common;

use common::{RawPolicy, rng, shape};
use policy_runtime::{Policy, Status};
use rand::Rng;

fn check<const O: usize, const H1: usize, const H2: usize, const A: usize>(
    normalization: bool,
    seed: u64,
) {
    let raw = RawPolicy::random(shape(O, H1, H2, A), normalization, seed);
    let policy = Policy::<O, H1, H2, A>::from_bytes(&raw.encode()).unwrap();
    let mut rng = rng(seed + 1000);
    let mut worst = 0.0f64;
    for _ in 0..2000 {
        let obs: [f32; O] = std::array::from_fn(|_| rng.random_range(-8.0..8.0));
        let out = policy.act(&obs);
        assert_eq!(out.status, Status::Ok);
        let reference = raw.reference(&obs);
        for ((&a, r), (&lo, &hi)) in out
            .action
            .iter()
            .zip(reference)
            .zip(raw.low.iter().zip(&raw.high))
        {
            assert!(a >= lo && a <= hi);
            worst = worst.max((f64::from(a) - r).abs());
        }
    }
    assert!(
        worst <= 1e-5,
        "{O}-{H1}-{H2}-{A}: max |runtime - f64 reference| = {worst:e}"
    );
}

#[test]
fn pendulum_actor_3_64_64_1() {
    check::<3, 64, 64, 1>(true, 10);
    check::<3, 64, 64, 1>(false, 11);
}

#[test]
fn large_actor_3_256_256_1() {
    check::<3, 256, 256, 1>(true, 12);
}

#[test]
fn shapes_with_partial_blocks_and_several_actions() {
    check::<5, 13, 37, 2>(true, 13);
    check::<1, 1, 1, 1>(false, 14);
    check::<7, 70, 9, 3>(true, 15);
    check::<2, 100, 130, 17>(true, 16);
}
