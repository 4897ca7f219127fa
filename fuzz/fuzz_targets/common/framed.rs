//! Shared by the `frame_*_msg` targets: frames a postcard body (CRC-32 appended, COBS,
//! delimiter) so the fuzzer reaches a message decoder, and checks the round trip of whatever
//! it accepts: encode(m) decodes to m' with encode(m') == encode(m), compared as bytes (so NaN
//! payloads count as equal to themselves). The input itself need not be re-created byte for
//! byte: postcard accepts overlong varints, which decode to the same message.

use hil_protocol::{FrameDecoder, MAX_FRAME, encode_frame};
use serde::Serialize;
use serde::de::DeserializeOwned;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fn decode_one<T: DeserializeOwned>(frame: &[u8]) -> Option<Result<T, hil_protocol::FrameError>> {
    let mut dec = FrameDecoder::new();
    frame.iter().filter_map(|&b| dec.push::<T>(b)).last()
}

#[allow(dead_code)] // used by the frame_*_msg targets, not by frame_raw
pub fn check<T: Serialize + DeserializeOwned>(data: &[u8]) {
    let mut body = data.to_vec();
    body.extend_from_slice(&CRC32.checksum(data).to_le_bytes());
    let mut frame = vec![0u8; hil_protocol::cobs::max_encoded_len(body.len()) + 1];
    let Ok(n) = hil_protocol::cobs::encode(&body, &mut frame) else {
        return;
    };
    frame[n] = 0;
    if let Some(Ok(msg)) = decode_one::<T>(&frame[..=n]) {
        round_trip(&msg);
    }
}

/// encode(m) decodes to m' with encode(m') == encode(m), as bytes.
pub fn round_trip<T: Serialize + DeserializeOwned>(msg: &T) {
    let mut a = [0u8; MAX_FRAME];
    let n = encode_frame(msg, &mut a).expect("an accepted message re-encodes");
    let again: T = decode_one(&a[..n])
        .expect("a re-encoded frame completes")
        .expect("a re-encoded frame decodes");
    let mut b = [0u8; MAX_FRAME];
    let m = encode_frame(&again, &mut b).unwrap();
    assert_eq!(&a[..n], &b[..m], "the round trip changed the frame");
}
