//! Encoding, decoding and constructing policies agree with each other.

mod common;

use common::{RawPolicy, shape};
use policy_runtime::format::{self, Activation};
use policy_runtime::{LoadError, Policy, Status};

#[test]
fn encode_decode_preserves_every_value() {
    let raw = RawPolicy::random(shape(3, 64, 64, 1), true, 1);
    let bytes = raw.encode();
    let view = format::decode(&bytes).unwrap();
    assert_eq!(view.obs_dim(), 3);
    assert_eq!(view.hidden(), (64, 64));
    assert_eq!(view.act_dim(), 1);
    assert!(view.has_normalization());
    assert_eq!(
        view.obs_offset().collect::<Vec<_>>(),
        raw.offset.clone().unwrap()
    );
    assert_eq!(
        view.obs_scale().collect::<Vec<_>>(),
        raw.scale.clone().unwrap()
    );
    for (l, layer) in view.layers().iter().enumerate() {
        assert_eq!(layer.weights().collect::<Vec<_>>(), raw.layers[l].0);
        assert_eq!(layer.bias().collect::<Vec<_>>(), raw.layers[l].1);
    }
    assert_eq!(
        view.layers().map(|l| l.activation()),
        [Activation::Relu, Activation::Relu, Activation::Tanh]
    );
    assert_eq!(
        view.layer(1).unwrap().weight(5, 7),
        Some(raw.layers[1].0[5 * 64 + 7])
    );
    assert_eq!(view.action_low().collect::<Vec<_>>(), raw.low);
    assert_eq!(view.action_high().collect::<Vec<_>>(), raw.high);
}

#[test]
fn missing_normalisation_reads_as_identity() {
    let raw = RawPolicy::random(shape(3, 8, 8, 2), false, 2);
    let bytes = raw.encode();
    let view = format::decode(&bytes).unwrap();
    assert!(!view.has_normalization());
    assert_eq!(view.obs_offset().collect::<Vec<_>>(), [0.0; 3]);
    assert_eq!(view.obs_scale().collect::<Vec<_>>(), [1.0; 3]);
}

#[test]
fn from_bytes_and_from_raw_build_the_same_policy() {
    let raw = RawPolicy::random(shape(3, 64, 64, 1), true, 3);
    let p1 = Policy::<3, 64, 64, 1>::from_bytes(&raw.encode()).unwrap();
    let p2 = Policy::<3, 64, 64, 1>::from_raw(
        RawPolicy::array(raw.offset.as_ref().unwrap()),
        RawPolicy::array(raw.scale.as_ref().unwrap()),
        raw.weights(0),
        RawPolicy::array(&raw.layers[0].1),
        raw.weights(1),
        RawPolicy::array(&raw.layers[1].1),
        raw.weights(2),
        RawPolicy::array(&raw.layers[2].1),
        RawPolicy::array(&raw.low),
        RawPolicy::array(&raw.high),
    );
    for l in 0..3 {
        let (i_n, o_n) = [(3, 64), (64, 64), (64, 1)][l];
        for o in 0..o_n {
            for i in 0..i_n {
                let w = raw.layers[l].0[o * i_n + i];
                assert_eq!(p1.weight(l, o, i), Some(w));
                assert_eq!(p2.weight(l, o, i), Some(w));
            }
            assert_eq!(p1.bias(l, o), Some(raw.layers[l].1[o]));
        }
    }
    assert_eq!(p1.weight(3, 0, 0), None);
    assert_eq!(p1.weight(0, 64, 0), None);
    for seed in 0..100u64 {
        let obs = [
            seed as f32 * 0.1 - 5.0,
            (seed as f32).sin(),
            (seed as f32).cos() * 8.0,
        ];
        assert_eq!(p1.act(&obs), p2.act(&obs));
    }
}

#[test]
fn shape_mismatch_names_both_shapes() {
    let raw = RawPolicy::random(shape(3, 64, 64, 1), false, 4);
    let err = Policy::<3, 32, 64, 1>::from_bytes(&raw.encode()).unwrap_err();
    assert_eq!(
        err,
        LoadError::ShapeMismatch {
            expected: shape(3, 32, 64, 1),
            found: shape(3, 64, 64, 1)
        }
    );
    assert_eq!(
        err.to_string(),
        "policy shape mismatch: expected 3-32-64-1, file has 3-64-64-1"
    );
}

#[test]
fn load_failure_leaves_the_policy_unchanged() {
    let raw = RawPolicy::random(shape(3, 8, 8, 1), true, 5);
    let mut p = Policy::<3, 8, 8, 1>::from_bytes(&raw.encode()).unwrap();
    let before = p.act(&[0.1, 0.2, 0.3]);
    let mut bad = raw.encode();
    let n = bad.len();
    bad[n / 2] ^= 1;
    assert!(p.load(&bad).is_err());
    assert_eq!(p.act(&[0.1, 0.2, 0.3]), before);
}

#[test]
fn safe_action_is_clamped_into_bounds() {
    let mut raw = RawPolicy::random(shape(3, 8, 8, 2), false, 6);
    raw.low = vec![0.5, -2.0];
    raw.high = vec![1.0, 2.0];
    let p = Policy::<3, 8, 8, 2>::from_bytes(&raw.encode()).unwrap();
    // Default: zero, clamped into the bounds.
    assert_eq!(p.safe_action(), [0.5, 0.0]);
    let out = p.act(&[f32::NAN, 0.0, 0.0]);
    assert_eq!(out.status, Status::NonFiniteObservation);
    assert_eq!(out.action, [0.5, 0.0]);
    let p = p.with_safe_action([7.0, f32::INFINITY]);
    assert_eq!(p.safe_action(), [1.0, 0.0]);
    assert_eq!(p.act(&[0.0, f32::NEG_INFINITY, 0.0]).action, [1.0, 0.0]);
}

#[test]
fn pendulum_file_size_matches_format_md() {
    let with_norm = RawPolicy::random(shape(3, 64, 64, 1), true, 7).encode();
    let without = RawPolicy::random(shape(3, 64, 64, 1), false, 7).encode();
    assert_eq!(with_norm.len(), 17_991);
    assert_eq!(without.len(), 17_965);
}
