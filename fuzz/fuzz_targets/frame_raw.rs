//! The link's frame receiver on a raw byte stream, both message directions: never panics,
//! and every message it accepts round-trips (see `common/framed.rs`).
#![no_main]

use hil_protocol::{BoardMsg, FrameDecoder, HostMsg};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[path = "common/framed.rs"]
mod framed;

fn stream<T: Serialize + DeserializeOwned>(data: &[u8]) {
    let mut dec = FrameDecoder::new();
    for &b in data {
        if let Some(Ok(msg)) = dec.push::<T>(b) {
            framed::round_trip(&msg);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    stream::<HostMsg>(data);
    stream::<BoardMsg>(data);
});
