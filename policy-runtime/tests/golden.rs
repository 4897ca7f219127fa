//! A tiny known policy encodes to exactly the bytes of FORMAT.md's example, and back.

use policy_runtime::format::{self, Activation, FORMAT_VERSION, LayerSpec, MAGIC, PolicySpec};
use policy_runtime::{LoadError, Policy, Status};

#[rustfmt::skip]
const GOLDEN: [u8; 113] = [
    0x50, 0x4C, 0x43, 0x59,                         // magic "PLCY"
    0x01,                                           // version 1 (varint)
    0x01,                                           // normalisation present
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3F, // offset: 8 bytes, [0.0, 0.5]
    0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, // scale:  8 bytes, [1.0, 2.0]
    // layer 0: in 2, out 2, ReLU
    0x02, 0x02, 0x01,
    0x10, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x80, 0xBF, // weights [[1, -1],
          0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x00, 0x40, //          [0.5, 2]]
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3F, // bias [0, 1]
    // layer 1: in 2, out 2, ReLU
    0x02, 0x02, 0x01,
    0x10, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x00, // weights [[1, 0],
          0x00, 0x00, 0x00, 0xBF, 0x00, 0x00, 0x80, 0x3F, //          [-0.5, 1]]
    0x08, 0x00, 0x00, 0x80, 0x3E, 0x00, 0x00, 0x00, 0x00, // bias [0.25, 0]
    // layer 2: in 2, out 1, tanh
    0x02, 0x01, 0x02,
    0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, // weights [[1, -2]]
    0x04, 0x00, 0x00, 0x00, 0x3F,                         // bias [0.5]
    0x04, 0x00, 0x00, 0x00, 0xC0,                         // action low [-2]
    0x04, 0x00, 0x00, 0x00, 0x40,                         // action high [2]
    0x5D, 0x6A, 0x08, 0xCD,                               // CRC-32 of all bytes above, LE
];

fn spec() -> PolicySpec<'static> {
    PolicySpec {
        obs_offset: Some(&[0.0, 0.5]),
        obs_scale: Some(&[1.0, 2.0]),
        layers: [
            LayerSpec {
                in_dim: 2,
                out_dim: 2,
                weights: &[1.0, -1.0, 0.5, 2.0],
                bias: &[0.0, 1.0],
            },
            LayerSpec {
                in_dim: 2,
                out_dim: 2,
                weights: &[1.0, 0.0, -0.5, 1.0],
                bias: &[0.25, 0.0],
            },
            LayerSpec {
                in_dim: 2,
                out_dim: 1,
                weights: &[1.0, -2.0],
                bias: &[0.5],
            },
        ],
        action_low: &[-2.0],
        action_high: &[2.0],
    }
}

#[test]
fn constants() {
    assert_eq!(MAGIC, *b"PLCY");
    assert_eq!(FORMAT_VERSION, 1);
}

#[test]
fn encodes_to_the_golden_bytes() {
    assert_eq!(format::encoded_len(&spec()), Ok(GOLDEN.len()));
    let mut buf = [0u8; 200];
    let n = format::encode(&spec(), &mut buf).unwrap();
    assert_eq!(&buf[..n], &GOLDEN[..]);
}

#[test]
fn golden_bytes_decode_to_the_same_numbers() {
    let view = format::decode(&GOLDEN).unwrap();
    assert_eq!(
        (view.obs_dim(), view.hidden(), view.act_dim()),
        (2, (2, 2), 1)
    );
    assert_eq!(view.obs_offset().collect::<Vec<_>>(), [0.0, 0.5]);
    assert_eq!(view.obs_scale().collect::<Vec<_>>(), [1.0, 2.0]);
    let s = spec();
    for (layer, expected) in view.layers().iter().zip(&s.layers) {
        assert_eq!(
            (layer.in_dim(), layer.out_dim()),
            (expected.in_dim, expected.out_dim)
        );
        assert_eq!(layer.weights().collect::<Vec<_>>(), expected.weights);
        assert_eq!(layer.bias().collect::<Vec<_>>(), expected.bias);
    }
    assert_eq!(
        view.layers().map(|l| l.activation()),
        [Activation::Relu, Activation::Relu, Activation::Tanh]
    );
    assert_eq!(view.action_low().collect::<Vec<_>>(), [-2.0]);
    assert_eq!(view.action_high().collect::<Vec<_>>(), [2.0]);
}

#[test]
fn golden_policy_computes_the_hand_calculated_action() {
    let p = Policy::<2, 2, 2, 1>::from_bytes(&GOLDEN).unwrap();
    // x = [(1-0)*1, (1-0.5)*2] = [1, 1]; h1 = relu([1-1+0, 0.5+2+1]) = [0, 3.5]
    // h2 = relu([0+0+0.25, 0+3.5+0]) = [0.25, 3.5]; y = 0.25 - 7 + 0.5 = -6.25
    let out = p.act(&[1.0, 1.0]);
    assert_eq!(out.status, Status::Ok);
    assert!((out.action[0] - 2.0 * (-6.25f64).tanh() as f32).abs() <= 1e-6);
}

#[test]
fn a_newer_version_is_refused_with_a_clear_error() {
    let mut newer = GOLDEN;
    newer[4] = 0x02;
    let err = format::decode(&newer).unwrap_err();
    assert_eq!(
        err,
        LoadError::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    );
    assert_eq!(
        err.to_string(),
        "unsupported weight-file format version 2 (this reader supports version 1)"
    );
    // A version needing a multi-byte varint (300 = 0xAC 0x02) is refused the same way,
    // whatever follows it.
    let newer = [0x50, 0x4C, 0x43, 0x59, 0xAC, 0x02, 0xFF];
    assert_eq!(
        format::decode(&newer).unwrap_err(),
        LoadError::UnsupportedVersion {
            found: 300,
            supported: 1
        }
    );
}
