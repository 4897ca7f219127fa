//! Bad weight files give a clear `Err`, never a panic and never a silent `Ok`.

mod common;

use common::{RawPolicy, shape};
use policy_runtime::format::{self, Activation, F32Array, Header, PolicyFile};
use policy_runtime::{EncodeError, Field, LoadError, Policy};
use proptest::prelude::*;

/// A small valid file: 2-3-3-1 with normalisation.
fn small_file() -> Vec<u8> {
    RawPolicy::random(shape(2, 3, 3, 1), true, 42).encode()
}

/// Replaces the checksum by the CRC-32 of the content, computed with the `crc` crate.
fn fix_checksum(bytes: &mut [u8]) {
    let n = bytes.len() - 4;
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
}

/// Encodes an arbitrary (possibly invalid) `PolicyFile` with a correct checksum.
fn raw_file(file: &PolicyFile<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = postcard::to_slice(file, &mut buf).unwrap().len();
    buf.truncate(n + 4);
    fix_checksum(&mut buf);
    buf
}

#[test]
fn every_truncation_is_reported_as_truncated() {
    let bytes = small_file();
    assert!(format::decode(&bytes).is_ok());
    for n in 0..bytes.len() {
        assert_eq!(
            format::decode(&bytes[..n]).unwrap_err(),
            LoadError::Truncated,
            "length {n}"
        );
        assert_eq!(
            Policy::<2, 3, 3, 1>::from_bytes(&bytes[..n]).unwrap_err(),
            LoadError::Truncated
        );
    }
}

#[test]
fn every_single_bit_flip_is_an_error() {
    let bytes = small_file();
    let mut checksum_errors = 0;
    for bit in 0..bytes.len() * 8 {
        let mut bad = bytes.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = format::decode(&bad).expect_err("a flipped bit was accepted");
        assert!(Policy::<2, 3, 3, 1>::from_bytes(&bad).is_err());
        // Every error has a readable message.
        assert!(!err.to_string().is_empty());
        checksum_errors += usize::from(matches!(err, LoadError::ChecksumMismatch { .. }));
    }
    // Flips inside f32 values and the checksum itself are all caught by the CRC.
    assert!(
        checksum_errors > bytes.len() * 8 * 3 / 4,
        "{checksum_errors}"
    );
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = small_file();
    bytes.push(0);
    assert_eq!(
        format::decode(&bytes).unwrap_err(),
        LoadError::TrailingBytes { count: 1 }
    );
}

#[test]
fn bad_magic_is_refused() {
    let mut bytes = small_file();
    bytes[0] = b'X';
    assert_eq!(format::decode(&bytes).unwrap_err(), LoadError::BadMagic);
    assert_eq!(format::decode(b"XY").unwrap_err(), LoadError::BadMagic);
    assert_eq!(format::decode(b"").unwrap_err(), LoadError::Truncated);
    assert!(LoadError::BadMagic.to_string().contains("magic"));
}

#[test]
fn checksum_mismatch_names_both_values() {
    let mut bytes = small_file();
    let n = bytes.len();
    bytes[n - 1] ^= 0x80;
    let LoadError::ChecksumMismatch { expected, found } = format::decode(&bytes).unwrap_err()
    else {
        panic!("expected a checksum mismatch");
    };
    assert_eq!(expected ^ found, 0x8000_0000);
}

#[test]
fn malformed_structure_is_refused() {
    let mut bytes = small_file();
    bytes[5] = 7; // normalisation tag must be 0 or 1
    assert!(matches!(
        format::decode(&bytes).unwrap_err(),
        LoadError::Malformed { .. }
    ));
}

/// `bytes` with the one-byte varint at `pos` written in `extra + 1` bytes instead
/// (`04` -> `84 00`, `84 80 00`, ...), with a correct checksum.
fn pad_varint(bytes: &[u8], pos: usize, extra: usize) -> Vec<u8> {
    let mut padded = bytes[..pos].to_vec();
    padded.push(bytes[pos] | 0x80);
    padded.extend(std::iter::repeat_n(0x80, extra - 1));
    padded.push(0x00);
    padded.extend_from_slice(&bytes[pos + 1..]);
    fix_checksum(&mut padded);
    padded
}

/// postcard's reader takes `84 00` for 4; the format does not, so every content has exactly
/// one encoding (and one hash). Checked at each varint of the small file: the version, the
/// first array's byte count, layer 0's dimensions and activation; and padding inserted at any
/// other one-byte position is refused too.
#[test]
fn padded_varints_are_refused() {
    let bytes = small_file();
    // 2-3-3-1 with normalisation: magic 0..4, version 4, tag 5, offset count 6 (8 bytes of
    // values), scale count 15, then layer 0's in_dim 24, out_dim 25, activation 26.
    assert_eq!(&bytes[4..7], &[1, 1, 8]);
    assert_eq!(&bytes[24..27], &[2, 3, 1]);
    for pos in [4, 6, 15, 24, 25, 26] {
        for extra in 1..=2 {
            let err = format::decode(&pad_varint(&bytes, pos, extra)).unwrap_err();
            assert!(
                matches!(err, LoadError::Malformed { reason } if reason.contains("shortest")),
                "byte {pos}, {extra} padding byte(s): {err}"
            );
        }
    }
    for pos in 4..bytes.len() - 4 {
        if bytes[pos] < 0x80 {
            assert!(
                format::decode(&pad_varint(&bytes, pos, 1)).is_err(),
                "padding at byte {pos} was accepted"
            );
        }
    }
}

fn base() -> RawPolicy {
    RawPolicy::random(shape(2, 3, 3, 1), true, 43)
}

/// Every semantic check, through a file with a valid checksum and through the writer.
#[test]
fn semantic_errors_are_named() {
    let raw = base();
    let good = raw.encode();
    let file = *format::decode(&good).unwrap().file();

    // Activation.
    let mut f = file;
    f.layers[2].activation = Activation::Identity;
    assert_eq!(
        format::decode(&raw_file(&f)).unwrap_err(),
        LoadError::UnsupportedActivation {
            layer: 2,
            expected: Activation::Tanh,
            found: Activation::Identity
        }
    );
    // Dimensions.
    let mut f = file;
    f.layers[1].in_dim = 0;
    assert_eq!(
        format::decode(&raw_file(&f)).unwrap_err(),
        LoadError::InvalidDimension { layer: 1, value: 0 }
    );
    let mut f = file;
    f.layers[1].in_dim = 4;
    assert_eq!(
        format::decode(&raw_file(&f)).unwrap_err(),
        LoadError::LayerChainMismatch {
            layer: 1,
            expected: 3,
            found: 4
        }
    );
    // Array lengths.
    let short = [0u8; 7];
    let mut f = file;
    f.layers[0].bias = F32Array::from_le_bytes(&short);
    let err = format::decode(&raw_file(&f)).unwrap_err();
    assert_eq!(
        err,
        LoadError::ArrayLength {
            field: Field::Bias(0),
            expected_bytes: 12,
            found_bytes: 7
        }
    );
    assert_eq!(
        err.to_string(),
        "layer 0 bias has 7 bytes, expected 12 (3 f32 values)"
    );
    // Non-finite values.
    let nan_w = [0.5, 0.25, f32::NAN, 1.0, 0.0, 0.0];
    let mut f = file;
    f.layers[0].weights = F32Array::from_values(&nan_w);
    let err = format::decode(&raw_file(&f)).unwrap_err();
    assert_eq!(
        err,
        LoadError::NonFiniteWeight {
            field: Field::Weights(0),
            index: 2
        }
    );
    assert_eq!(err.to_string(), "layer 0 weights value 2 is not finite");
    let inf = [f32::INFINITY, 1.0];
    let mut f = file;
    f.normalization.as_mut().unwrap().scale = F32Array::from_values(&inf);
    assert_eq!(
        format::decode(&raw_file(&f)).unwrap_err(),
        LoadError::NonFiniteWeight {
            field: Field::ObsScale,
            index: 0
        }
    );
    // Bounds.
    let low = [1.0];
    let mut f = file;
    f.action_low = F32Array::from_values(&low);
    f.action_high = F32Array::from_values(&low);
    let err = format::decode(&raw_file(&f)).unwrap_err();
    assert_eq!(
        err,
        LoadError::InvalidBounds {
            index: 0,
            low: 1.0,
            high: 1.0
        }
    );
    assert!(err.to_string().contains("low 1 must be < high 1"));
    // Version field of a hand-built file.
    let mut f = file;
    f.header = Header {
        magic: format::MAGIC,
        version: 0,
    };
    assert_eq!(
        format::decode(&raw_file(&f)).unwrap_err(),
        LoadError::UnsupportedVersion {
            found: 0,
            supported: 1
        }
    );
}

#[test]
fn the_writer_refuses_what_the_reader_refuses() {
    let mut raw = base();
    raw.layers[1].0[4] = f32::NEG_INFINITY;
    let err = format::encoded_len(&raw.spec()).unwrap_err();
    assert_eq!(
        err,
        EncodeError::InvalidPolicy(LoadError::NonFiniteWeight {
            field: Field::Weights(1),
            index: 4
        })
    );
    assert_eq!(
        format::encode(&raw.spec(), &mut [0u8; 1000]).unwrap_err(),
        err
    );

    let mut raw = base();
    raw.high = raw.low.clone();
    assert!(matches!(
        format::encode(&raw.spec(), &mut [0u8; 1000]).unwrap_err(),
        EncodeError::InvalidPolicy(LoadError::InvalidBounds { .. })
    ));

    let mut raw = base();
    raw.layers[2].0.pop();
    assert_eq!(
        format::encoded_len(&raw.spec()).unwrap_err(),
        EncodeError::InvalidPolicy(LoadError::ArrayLength {
            field: Field::Weights(2),
            expected_bytes: 12,
            found_bytes: 8
        })
    );

    let raw = base();
    let needed = format::encoded_len(&raw.spec()).unwrap();
    let mut small = vec![0u8; needed - 1];
    assert_eq!(
        format::encode(&raw.spec(), &mut small).unwrap_err(),
        EncodeError::BufferTooSmall {
            needed,
            available: needed - 1
        }
    );
}

#[test]
fn from_raw_validates() {
    let err = Policy::<1, 1, 1, 1>::try_from_raw(
        [0.0],
        [1.0],
        [[1.0]],
        [0.0],
        [[1.0]],
        [0.0],
        [[f32::NAN]],
        [0.0],
        [-1.0],
        [1.0],
    )
    .unwrap_err();
    assert_eq!(
        err,
        LoadError::NonFiniteWeight {
            field: Field::Weights(2),
            index: 0
        }
    );
    let err = Policy::<1, 1, 1, 1>::try_from_raw(
        [0.0],
        [1.0],
        [[1.0]],
        [0.0],
        [[1.0]],
        [0.0],
        [[1.0]],
        [0.0],
        [2.0],
        [-1.0],
    )
    .unwrap_err();
    assert_eq!(
        err,
        LoadError::InvalidBounds {
            index: 0,
            low: 2.0,
            high: -1.0
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(3),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = format::decode(&bytes);
        let _ = Policy::<2, 3, 3, 1>::from_bytes(&bytes);
    }

    #[test]
    fn random_bytes_after_a_valid_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = b"PLCY\x01".to_vec();
        bytes.extend_from_slice(&tail);
        prop_assert!(format::decode(&bytes).is_err());
    }

    #[test]
    fn random_corruptions_are_refused(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let good = small_file();
        let mut bad = good.clone();
        for (at, value) in edits {
            bad[at.index(good.len())] = value;
        }
        prop_assume!(bad != good);
        // A CRC-32 collision would be needed for an `Ok`; none is expected in these cases.
        prop_assert!(format::decode(&bad).is_err());
    }
}
