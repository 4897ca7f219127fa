//! The link's frame receiver past COBS and the CRC for `HostMsg` (see `common/framed.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/framed.rs"]
mod framed;

fuzz_target!(|data: &[u8]| framed::check::<hil_protocol::HostMsg>(data));
