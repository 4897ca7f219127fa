//! The int8 weight-file decoder past its checksum: the input gets a valid CRC-32 appended, so
//! the fuzzer reaches the structure and semantic checks. Whatever is accepted must load into
//! an `Int8Policy` when it has the pendulum's shape, act without panicking, and re-encode to
//! exactly the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_runtime::{Int8Policy, format};

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fuzz_target!(|data: &[u8]| {
    let mut file = data.to_vec();
    file.extend_from_slice(&CRC32.checksum(data).to_le_bytes());
    let Ok(view) = format::decode_int8(&file) else {
        return;
    };
    let mut out = vec![0u8; file.len() + 64];
    let n = format::encode_int8(view.file(), &mut out).expect("an accepted file re-encodes");
    assert_eq!(&out[..n], &file[..], "re-encoding changed the bytes");
    if let Ok(p) = Int8Policy::<3, 64, 64, 1>::from_bytes(&file) {
        for obs in [[0.0, 1.0, 0.0], [1e30, -1e30, f32::MAX], [-1.0, 0.0, 8.0]] {
            let a = p.act(&obs).action[0];
            assert!(a.is_finite(), "a non-finite action");
        }
    }
});
