//! The C API (`policy-runtime-c`) as C calls it: bytes 0–1 are the storage length (u16,
//! little-endian, capped at the storage's size), byte 2 the observation count handed to
//! `plr_act` (mod 6), bytes 3–18 four observations, the rest a weight file (a valid CRC-32
//! appended). Must hold: no crash (AddressSanitizer watches the raw-pointer code), and the C
//! API agrees with the Rust runtime (`DynPolicy`): a file it loads gives the same action bits
//! and status; a 3- or 4-input 64-64-1 file the runtime loads is refused only for lack of
//! storage; a refused load leaves the storage empty; `plr_act` takes exactly the policy's
//! number of inputs.
#![no_main]
#![allow(unsafe_code)] // calls the C API as C would

use libfuzzer_sys::fuzz_target;
use policy_runtime::{DynPolicy, Status};
use policy_runtime_c::*;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

#[repr(C, align(64))]
struct Storage([u8; PLR_STORAGE_SIZE]);

fn code(status: Status) -> PlrStatus {
    match status {
        Status::Ok => PlrStatus::PlrOk,
        Status::NonFiniteObservation => PlrStatus::PlrNonFiniteObservation,
        _ => PlrStatus::PlrNonFiniteOutput,
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 19 {
        return;
    }
    let len = usize::from(u16::from_le_bytes([data[0], data[1]])).min(PLR_STORAGE_SIZE);
    let obs_len = usize::from(data[2] % 6);
    let obs: Vec<f32> = data[3..19]
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let mut file = data[19..].to_vec();
    file.extend_from_slice(&CRC32.checksum(&data[19..]).to_le_bytes());

    let mut storage = Box::new(Storage([0xA5; PLR_STORAGE_SIZE]));
    let p = storage.0.as_mut_ptr();
    let mut action = [f32::NAN];
    unsafe {
        let init = plr_init(p, len);
        if len < 64 {
            assert_eq!(init, PlrStatus::PlrErrStorageSize);
            return;
        }
        assert_eq!(init, PlrStatus::PlrOk);
        let loaded = plr_load(p, len, file.as_ptr(), file.len());
        let host = DynPolicy::from_bytes(&file);
        let mut n = usize::MAX;
        let n_code = plr_obs_len(p, len, &mut n);
        let acted = plr_act(p, len, obs.as_ptr(), obs_len, action.as_mut_ptr(), 1);
        if loaded != PlrStatus::PlrOk {
            assert_eq!(n_code, PlrStatus::PlrErrNotLoaded, "a refused load left a policy");
            assert_eq!(acted, PlrStatus::PlrErrNotLoaded);
            if let Ok(h) = &host {
                let s = h.shape();
                let ours = (s.obs == 3 || s.obs == 4) && (s.hidden1, s.hidden2, s.act) == (64, 64, 1);
                assert!(
                    !ours || loaded == PlrStatus::PlrErrStorageSize,
                    "the runtime loads this {s:?} file, the C API says {loaded:?}"
                );
            }
            return;
        }
        let host = host.expect("the C API loaded a file the runtime refuses");
        assert_eq!(n_code, PlrStatus::PlrOk);
        assert_eq!(n, host.shape().obs);
        if obs_len != n {
            assert_eq!(acted, PlrStatus::PlrErrLength);
            return;
        }
        let mut want = [0.0f32];
        let status = host.act(&obs[..n], &mut want).unwrap();
        assert_eq!(acted, code(status));
        assert_eq!(action[0].to_bits(), want[0].to_bits(), "C and Rust actions differ");
    }
});
