//! The checkpoint loader past its checksum: the input is a body, given a valid header (magic,
//! version, length, CRC-64) here so the fuzzer reaches the postcard decode and the consistency
//! checks. Never panics; an accepted checkpoint round-trips: its serialisation loads back
//! and serialises to the same bytes (the input itself may use overlong varints).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trainer::checkpoint::{Checkpoint, VERSION};

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_XZ);

fuzz_target!(|data: &[u8]| {
    let mut file = b"DDPGCKPT".to_vec();
    file.extend_from_slice(&VERSION.to_le_bytes());
    file.extend_from_slice(&(data.len() as u64).to_le_bytes());
    file.extend_from_slice(&CRC64.checksum(data).to_le_bytes());
    file.extend_from_slice(data);
    let Ok(ck) = Checkpoint::from_bytes(&file, std::path::Path::new("fuzz")) else {
        return;
    };
    if ck.check().is_ok() {
        let a = ck.to_bytes().unwrap();
        let again = Checkpoint::from_bytes(&a, std::path::Path::new("fuzz"))
            .expect("a serialised checkpoint loads");
        again
            .check()
            .expect("a serialised checkpoint passes its checks");
        assert_eq!(
            again.to_bytes().unwrap(),
            a,
            "the round trip changed the bytes"
        );
    }
});
