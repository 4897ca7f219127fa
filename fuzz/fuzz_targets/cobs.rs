//! COBS: decoding arbitrary bytes never panics; decode(encode(x)) == x; whatever decodes
//! re-encodes to a frame that decodes to the same bytes.
#![no_main]

use hil_protocol::cobs::{decode, encode, max_encoded_len};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut enc = vec![0u8; max_encoded_len(data.len())];
    let n = encode(data, &mut enc).expect("max_encoded_len is enough");
    assert!(!enc[..n].contains(&0), "an encoding holds the delimiter");
    let mut dec = vec![0u8; data.len()];
    let m = decode(&enc[..n], &mut dec).expect("an encoding decodes");
    assert_eq!(&dec[..m], data);

    let mut out = vec![0u8; data.len()];
    if let Ok(k) = decode(data, &mut out) {
        let mut again = vec![0u8; max_encoded_len(k)];
        let e = encode(&out[..k], &mut again).unwrap();
        let mut back = vec![0u8; k];
        let j = decode(&again[..e], &mut back).unwrap();
        assert_eq!(&back[..j], &out[..k]);
    }
});
