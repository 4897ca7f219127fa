//! The link's frame receiver past COBS and the CRC: the input is a postcard body, framed here
//! (CRC-32 appended, COBS, delimiter) so the fuzzer reaches the `HostMsg` decoder. Nothing
//! panics, and an accepted message m round-trips: encode(m) decodes to m' with
//! encode(m') == encode(m), compared as bytes (so NaN payloads count as equal to themselves).
//! (The input itself need not be re-created byte for byte: postcard accepts overlong varints,
//! which decode to the same message.)
#![no_main]

use hil_protocol::{FrameDecoder, HostMsg, MAX_FRAME, encode_frame};
use libfuzzer_sys::fuzz_target;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fuzz_target!(|data: &[u8]| {
    let mut body = data.to_vec();
    body.extend_from_slice(&CRC32.checksum(data).to_le_bytes());
    let mut frame = vec![0u8; hil_protocol::cobs::max_encoded_len(body.len()) + 1];
    let Ok(n) = hil_protocol::cobs::encode(&body, &mut frame) else {
        return;
    };
    frame[n] = 0;
    let mut dec = FrameDecoder::new();
    let mut got = None;
    for &b in &frame[..=n] {
        if let Some(r) = dec.push::<HostMsg>(b) {
            got = Some(r);
        }
    }
    if let Some(Ok(msg)) = got {
        let mut a = [0u8; MAX_FRAME];
        let n = encode_frame(&msg, &mut a).expect("an accepted message re-encodes");
        let mut dec = FrameDecoder::new();
        let again = a[..n]
            .iter()
            .find_map(|&b| dec.push::<HostMsg>(b))
            .expect("a re-encoded frame completes")
            .expect("a re-encoded frame decodes");
        let mut b = [0u8; MAX_FRAME];
        let m = encode_frame(&again, &mut b).unwrap();
        assert_eq!(&a[..n], &b[..m], "the round trip changed the frame");
    }
});
