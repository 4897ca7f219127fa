//! `Policy::from_bytes` then `act`: the first 12 bytes are an observation, the rest a weight
//! file (a valid CRC-32 appended) for a 3-8-8-1 policy. Accepted policies act without panicking
//! and always return a finite action inside the bounds (the safe one for a bad observation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_runtime::Policy;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (obs, body) = data.split_at(12);
    let mut file = body.to_vec();
    file.extend_from_slice(&CRC32.checksum(body).to_le_bytes());
    let Ok(policy) = Policy::<3, 8, 8, 1>::from_bytes(&file) else {
        return;
    };
    let x = |i: usize| f32::from_le_bytes(obs[4 * i..4 * i + 4].try_into().unwrap());
    let out = policy.act(&[x(0), x(1), x(2)]);
    let view = policy_runtime::format::decode(&file).unwrap();
    let (lo, hi) = (
        view.action_low().next().unwrap(),
        view.action_high().next().unwrap(),
    );
    let a = out.action[0];
    assert!(
        a.is_finite() && a >= lo && a <= hi,
        "action {a} outside [{lo}, {hi}]"
    );
});
