//! The int8 weight file and `Int8Policy`: golden bytes, actions against an independent
//! integer reference, and bad files refused with named errors.

mod common;

use common::encode_int8;
#[cfg(feature = "alloc")]
use policy_runtime::DynPolicy;
use policy_runtime::format::{
    self, Bytes, F32Array, Header, INT8_FORMAT_VERSION, INT8_MAGIC, Int8File, Int8Hidden,
    Int8Output,
};
use policy_runtime::{Field, Int8Policy, LoadError, Precision, Status};
use rand::{Rng, SeedableRng};

/// The owned arrays of an int8 file, to build `Int8File`s from.
#[derive(Clone)]
struct Raw {
    dims: [usize; 4],
    offset: Vec<f32>,
    scale: Vec<f32>,
    inv_s0: f32,
    w: [Vec<u8>; 3],
    b: [Vec<u8>; 3],
    m: [Vec<u8>; 2],
    s: [Vec<u8>; 2],
    out_scale: Vec<f32>,
    low: Vec<f32>,
    high: Vec<f32>,
}

fn le(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl Raw {
    fn random(dims: [usize; 4], seed: u64) -> Self {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let [o, h1, h2, a] = dims;
        let mut i8s = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| rng.random_range(-127i32..=127) as i8 as u8)
                .collect()
        };
        let w = [i8s(h1 * o), i8s(h2 * h1), i8s(a * h2)];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 1);
        let mut bias = |n: usize| {
            le(&(0..n)
                .map(|_| rng.random_range(-5000..5000))
                .collect::<Vec<_>>())
        };
        let b = [bias(h1), bias(h2), bias(a)];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 2);
        let mut mult = |n: usize| {
            le(&(0..n)
                .map(|_| rng.random_range(1 << 30..i32::MAX))
                .collect::<Vec<_>>())
        };
        let m = [mult(h1), mult(h2)];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 3);
        // Shifts that keep most hidden activations inside the int8 range (neither all ReLU
        // zeros nor saturated): |acc| ~ 2e4 in layer 0, ~ 8e4 in layer 1.
        let mut shifts = |n: usize, lo: u8| {
            (0..n)
                .map(|_| rng.random_range(lo..lo + 3))
                .collect::<Vec<_>>()
        };
        let s = [shifts(h1, 37), shifts(h2, 39)];
        Self {
            dims,
            offset: (0..o).map(|k| 0.1 * k as f32).collect(),
            scale: (0..o).map(|k| 1.0 / (1.0 + k as f32)).collect(),
            inv_s0: 127.0,
            w,
            b,
            m,
            s,
            out_scale: (0..a).map(|k| 5e-6 * (1.0 + k as f32)).collect(),
            low: vec![-2.0; a],
            high: vec![2.0; a],
        }
    }

    fn file(&self) -> Int8File<'_> {
        let [o, h1, h2, a] = self.dims.map(|d| d as u32);
        let hidden = |l: usize, i: u32, out: u32| Int8Hidden {
            in_dim: i,
            out_dim: out,
            weights: Bytes(&self.w[l]),
            bias: Bytes(&self.b[l]),
            multiplier: Bytes(&self.m[l]),
            shift: Bytes(&self.s[l]),
        };
        Int8File {
            header: Header {
                magic: INT8_MAGIC,
                version: INT8_FORMAT_VERSION,
            },
            obs_offset: F32Array::from_values(&self.offset),
            obs_scale: F32Array::from_values(&self.scale),
            input_inv_scale: self.inv_s0,
            hidden: [hidden(0, o, h1), hidden(1, h1, h2)],
            output: Int8Output {
                in_dim: h2,
                out_dim: a,
                weights: Bytes(&self.w[2]),
                bias: Bytes(&self.b[2]),
                scale: F32Array::from_values(&self.out_scale),
            },
            action_low: F32Array::from_values(&self.low),
            action_high: F32Array::from_values(&self.high),
        }
    }

    fn encode(&self) -> Vec<u8> {
        encode_int8(&self.file()).unwrap()
    }

    /// The int8 network written out independently: i64 integers, f64 tanh.
    fn reference(&self, obs: &[f32]) -> Vec<f64> {
        let [_, h1, h2, a] = self.dims;
        let i32s = |b: &[u8]| -> Vec<i64> {
            b.chunks(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        };
        let x: Vec<i64> = obs
            .iter()
            .zip(self.offset.iter().zip(&self.scale))
            .map(|(&o, (&off, &sc))| {
                let v = (o - off) * sc * self.inv_s0;
                (v.round() as i64).clamp(-127, 127)
            })
            .collect();
        let layer = |l: usize, input: &[i64], out: usize| -> Vec<i64> {
            let bias = i32s(&self.b[l]);
            (0..out)
                .map(|r| {
                    let row = &self.w[l][r * input.len()..(r + 1) * input.len()];
                    bias[r]
                        + row
                            .iter()
                            .zip(input)
                            .map(|(&w, &x)| i64::from(w as i8) * x)
                            .sum::<i64>()
                })
                .collect()
        };
        let requant = |l: usize, acc: Vec<i64>| -> Vec<i64> {
            let m = i32s(&self.m[l]);
            acc.iter()
                .enumerate()
                .map(|(r, &acc)| {
                    let s = u32::from(self.s[l][r]);
                    let q = (acc * m[r] + (1i64 << (s - 1))) >> s;
                    (q - 128).clamp(-128, 127)
                })
                .collect()
        };
        let h1v = requant(0, layer(0, &x, h1));
        let h2v = requant(1, layer(1, &h1v, h2));
        layer(2, &h2v, a)
            .iter()
            .enumerate()
            .map(|(k, &acc)| {
                let z = f64::from(self.out_scale[k]) * acc as f64;
                2.0 * z.tanh()
            })
            .collect()
    }
}

/// Actions equal the independent reference (the integer part exactly; the f32 tanh within
/// its error) over random observations, for the pendulum's shape and an odd one; DynPolicy
/// gives bit-identical actions and reports the precision.
#[test]
fn actions_match_an_independent_integer_reference() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for (dims, seed) in [([3, 64, 64, 1], 1), ([3, 16, 16, 1], 2)] {
        let raw = Raw::random(dims, seed);
        let bytes = raw.encode();
        let p64 = Int8Policy::<3, 64, 64, 1>::from_bytes(&bytes);
        let p16 = Int8Policy::<3, 16, 16, 1>::from_bytes(&bytes);
        let act = |obs: [f32; 3]| match (&p64, &p16) {
            (Ok(p), _) => p.act(&obs),
            (_, Ok(p)) => p.act(&obs),
            (Err(e), _) => panic!("{e}"),
        };
        #[cfg(feature = "alloc")]
        let dyn_policy = DynPolicy::from_bytes(&bytes).unwrap();
        #[cfg(feature = "alloc")]
        assert_eq!(dyn_policy.precision(), Precision::Int8);
        let mut moved = 0;
        for _ in 0..2000 {
            let obs: [f32; 3] = std::array::from_fn(|_| rng.random_range(-1.5f32..1.5));
            let want = raw.reference(&obs);
            let out = act(obs);
            assert_eq!(out.status, Status::Ok);
            let got = out.action[0];
            assert!(
                (f64::from(got) - want[0]).abs() < 2e-6,
                "{obs:?}: {got} vs {want:?}"
            );
            moved += usize::from(want[0].abs() > 1e-3 && want[0].abs() < 1.9);
            #[cfg(feature = "alloc")]
            {
                let mut d = [0.0f32];
                assert_eq!(dyn_policy.act(&obs, &mut d).unwrap(), Status::Ok);
                assert_eq!(d[0].to_bits(), got.to_bits());
            }
        }
        // Most actions are neither zero nor saturated, so the test sees every stage.
        assert!(
            moved > 1000,
            "the test network is flat or saturated: {moved}"
        );
    }
}

#[test]
fn non_finite_observations_give_the_safe_action() {
    let p =
        Int8Policy::<3, 16, 16, 1>::from_bytes(&Raw::random([3, 16, 16, 1], 3).encode()).unwrap();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let out = p.act(&[0.0, bad, 0.0]);
        assert_eq!(out.status, Status::NonFiniteObservation);
        assert_eq!(out.action, p.safe_action());
    }
    // Huge finite observations saturate the int8 input instead of failing.
    let out = p.act(&[1e30, -1e30, 3e38]);
    assert_eq!(out.status, Status::Ok);
    assert!(out.action[0].is_finite() && out.action[0].abs() <= 2.0);
}

#[test]
fn every_truncation_and_bit_flip_is_an_error() {
    let bytes = Raw::random([2, 3, 3, 1], 4).encode();
    assert!(format::decode_int8(&bytes).is_ok());
    for n in 0..bytes.len() {
        assert_eq!(
            format::decode_int8(&bytes[..n]).unwrap_err(),
            LoadError::Truncated,
            "{n}"
        );
    }
    for bit in 0..bytes.len() * 8 {
        let mut bad = bytes.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(
            format::decode_int8(&bad).is_err(),
            "bit {bit} flipped was accepted"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        format::decode_int8(&long).unwrap_err(),
        LoadError::TrailingBytes { count: 1 }
    );
}

/// An f32 file given to the int8 reader and the other way round name the mix-up.
#[test]
fn the_other_precision_is_named() {
    let int8 = Raw::random([3, 64, 64, 1], 5).encode();
    let f32_file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/pendulum.postcard"
    ))
    .unwrap();
    let e = format::decode(&int8).unwrap_err();
    assert_eq!(
        e,
        LoadError::WrongPrecision {
            expected: Precision::F32,
            found: Precision::Int8
        }
    );
    assert!(e.to_string().contains("int8 weight file"), "{e}");
    assert_eq!(
        format::decode_int8(&f32_file).unwrap_err(),
        LoadError::WrongPrecision {
            expected: Precision::Int8,
            found: Precision::F32
        }
    );
    assert_eq!(
        format::decode_int8(b"XYZW").unwrap_err(),
        LoadError::BadMagic
    );
    assert!(matches!(
        Int8Policy::<3, 16, 16, 1>::from_bytes(&int8).unwrap_err(),
        LoadError::ShapeMismatch { .. }
    ));
}

/// Each semantic rule, through the writer (which validates like the reader).
#[test]
fn invalid_contents_are_named() {
    let raw = Raw::random([2, 3, 3, 1], 6);
    let check = |r: &Raw, want: LoadError| {
        let e = encode_int8(&r.file()).unwrap_err();
        assert_eq!(e, policy_runtime::EncodeError::InvalidPolicy(want), "{e}");
    };
    let mut r = raw.clone();
    r.s[1][2] = 0;
    check(
        &r,
        LoadError::InvalidShift {
            layer: 1,
            index: 2,
            shift: 0,
        },
    );
    let mut r = raw.clone();
    r.s[0][0] = 63;
    check(
        &r,
        LoadError::InvalidShift {
            layer: 0,
            index: 0,
            shift: 63,
        },
    );
    let mut r = raw.clone();
    r.m[0] = le(&[1, -1, 1]);
    check(
        &r,
        LoadError::InvalidScale {
            field: Field::Multiplier(0),
            index: 1,
        },
    );
    let mut r = raw.clone();
    r.out_scale[0] = 0.0;
    check(
        &r,
        LoadError::InvalidScale {
            field: Field::OutputScale,
            index: 0,
        },
    );
    let mut r = raw.clone();
    r.inv_s0 = f32::NAN;
    check(
        &r,
        LoadError::InvalidScale {
            field: Field::InputScale,
            index: 0,
        },
    );
    let mut r = raw.clone();
    r.w[1].pop();
    check(
        &r,
        LoadError::ArrayLength {
            field: Field::Int8Weights(1),
            expected_bytes: 9,
            found_bytes: 8,
        },
    );
    let e = LoadError::ArrayLength {
        field: Field::Int8Weights(1),
        expected_bytes: 9,
        found_bytes: 8,
    };
    assert_eq!(
        e.to_string(),
        "layer 1 int8 weights has 8 bytes, expected 9 (9 i8 values)"
    );
    let mut r = raw.clone();
    r.low[0] = 3.0;
    check(
        &r,
        LoadError::InvalidBounds {
            index: 0,
            low: 3.0,
            high: 2.0,
        },
    );
    let mut f = raw.file();
    f.hidden[1].out_dim = 4;
    assert!(matches!(
        encode_int8(&f).unwrap_err(),
        policy_runtime::EncodeError::InvalidPolicy(LoadError::LayerChainMismatch { layer: 2, .. })
    ));
}

/// A padded varint (`83 00` for 3) is refused, as in f32 files.
#[test]
fn padded_varints_are_refused() {
    let bytes = Raw::random([2, 3, 3, 1], 7).encode();
    // magic 0..4, version 4, offset byte count 5 (8 bytes of values).
    assert_eq!(bytes[5], 8);
    let mut padded = bytes[..5].to_vec();
    padded.extend_from_slice(&[0x88, 0x00]);
    padded.extend_from_slice(&bytes[6..bytes.len() - 4]);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&padded);
    padded.extend_from_slice(&crc.to_le_bytes());
    assert!(matches!(
        format::decode_int8(&padded).unwrap_err(),
        LoadError::Malformed { reason } if reason.contains("shortest")
    ));
}

/// A tiny known int8 policy encodes to exactly FORMAT.md's example bytes.
#[test]
fn golden_bytes() {
    let raw = Raw {
        dims: [1, 2, 1, 1],
        offset: vec![0.5],
        scale: vec![2.0],
        inv_s0: 64.0,
        w: [vec![1, 0xFF], vec![2, 3], vec![0x7F]],
        b: [le(&[0, 10]), le(&[-256]), le(&[1])],
        m: [le(&[1 << 30, 1 << 30]), le(&[1 << 30])],
        s: [vec![31, 31], vec![31]],
        out_scale: vec![0.5],
        low: vec![-2.0],
        high: vec![2.0],
    };
    let bytes = raw.encode();
    #[rustfmt::skip]
    let golden: &[u8] = &[
        0x50, 0x4C, 0x51, 0x38, 0x01,                   // magic "PLQ8", version 1
        0x04, 0x00, 0x00, 0x00, 0x3F,                   // obs offset [0.5]
        0x04, 0x00, 0x00, 0x00, 0x40,                   // obs scale [2.0]
        0x00, 0x00, 0x80, 0x42,                         // 1/s0 = 64.0 (f32)
        0x01, 0x02,                                     // hidden 0: in 1, out 2
        0x02, 0x01, 0xFF,                               //   int8 weights [1, -1]
        0x08, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, // int32 bias [0, 10]
        0x08, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40, // multipliers [2^30, 2^30]
        0x02, 0x1F, 0x1F,                               //   shifts [31, 31]
        0x02, 0x01,                                     // hidden 1: in 2, out 1
        0x02, 0x02, 0x03,                               //   int8 weights [2, 3]
        0x04, 0x00, 0xFF, 0xFF, 0xFF,                   //   int32 bias [-256]
        0x04, 0x00, 0x00, 0x00, 0x40,                   //   multiplier [2^30]
        0x01, 0x1F,                                     //   shift [31]
        0x01, 0x01,                                     // output: in 1, out 1
        0x01, 0x7F,                                     //   int8 weights [127]
        0x04, 0x01, 0x00, 0x00, 0x00,                   //   int32 bias [1]
        0x04, 0x00, 0x00, 0x00, 0x3F,                   //   dequantisation scale [0.5]
        0x04, 0x00, 0x00, 0x00, 0xC0,                   // action low [-2]
        0x04, 0x00, 0x00, 0x00, 0x40,                   // action high [2]
    ];
    assert_eq!(&bytes[..bytes.len() - 4], golden);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(golden);
    assert_eq!(&bytes[bytes.len() - 4..], &crc.to_le_bytes());
    // obs 0.75 → x' = 0.5 → x_q = 32; h1 = [(32·2^30 + 2^30) >> 31, ...] − 128.
    let p = Int8Policy::<1, 2, 1, 1>::from_bytes(&bytes).unwrap();
    let want = raw.reference(&[0.75]);
    assert!((f64::from(p.act(&[0.75]).action[0]) - want[0]).abs() < 1e-6);
}

/// A safe action set by the caller survives a reload, clamped into the new file's bounds; the
/// default (zero) is clamped into each file's own bounds, whatever was loaded before.
#[test]
fn the_safe_action_is_clamped_into_each_files_bounds() {
    let wide = Raw::random([3, 8, 8, 1], 5);
    let mut positive = wide.clone();
    (positive.low, positive.high) = (vec![0.5], vec![1.5]);
    let (wide, positive) = (wide.encode(), positive.encode());
    let mut p = Int8Policy::<3, 8, 8, 1>::from_bytes(&positive).unwrap();
    assert_eq!(p.safe_action(), [0.5]);
    p.load(&wide).unwrap();
    assert_eq!(p.safe_action(), [0.0], "zero again inside [-2, 2]");
    let mut p = Int8Policy::<3, 8, 8, 1>::from_bytes(&wide)
        .unwrap()
        .with_safe_action([-1.0]);
    assert_eq!(p.act(&[f32::NAN, 0.0, 0.0]).action, [-1.0]);
    p.load(&positive).unwrap();
    assert_eq!(p.safe_action(), [0.5], "−1 clamped into [0.5, 1.5]");
    p.set_safe_action([f32::INFINITY]);
    assert_eq!(
        p.safe_action(),
        [0.5],
        "a non-finite element counts as zero"
    );
}
