//! The link's frame receiver on a raw byte stream, both message directions: never panics,
//! and every message it accepts re-encodes to a frame that decodes to the same bytes.
#![no_main]

use hil_protocol::{BoardMsg, FrameDecoder, HostMsg, MAX_FRAME, encode_frame};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn stream<T: Serialize + DeserializeOwned>(data: &[u8]) {
    let mut dec = FrameDecoder::new();
    for &b in data {
        if let Some(Ok(msg)) = dec.push::<T>(b) {
            round_trip(&msg);
        }
    }
}

/// encode(m) decodes to m' with encode(m') == encode(m) (bytes, so NaN payloads compare).
fn round_trip<T: Serialize + DeserializeOwned>(msg: &T) {
    let mut a = [0u8; MAX_FRAME];
    let n = encode_frame(msg, &mut a).expect("an accepted message re-encodes");
    let mut dec = FrameDecoder::new();
    let mut again = None;
    for &b in &a[..n] {
        if let Some(r) = dec.push::<T>(b) {
            again = Some(r.expect("a re-encoded frame decodes"));
        }
    }
    let again = again.expect("a re-encoded frame completes");
    let mut b = [0u8; MAX_FRAME];
    let m = encode_frame(&again, &mut b).unwrap();
    assert_eq!(&a[..n], &b[..m]);
}

fuzz_target!(|data: &[u8]| {
    stream::<HostMsg>(data);
    stream::<BoardMsg>(data);
});
