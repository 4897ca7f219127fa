//! The pendulum actor 3-64-64-1 quantised to int8, loaded from a weight file into RAM: the
//! size of the int8 loading and inference paths, and proof that neither links panic code.
#![no_std]
#![no_main]

use policy_runtime::{Int8Policy, LoadError, Output};
use policy_runtime_size_probe as probe;

/// One int8 inference (a separate symbol to measure its size and stack frame).
#[inline(never)]
#[unsafe(no_mangle)]
pub fn policy_act_int8(policy: &Int8Policy<3, 64, 64, 1>, obs: &[f32; 3]) -> Output<1> {
    policy.act(obs)
}

/// Decoding + validating an int8 weight file (separate symbol, as above).
#[inline(never)]
#[unsafe(no_mangle)]
pub fn policy_load_int8(
    policy: &mut Int8Policy<3, 64, 64, 1>,
    bytes: &[u8],
) -> Result<(), LoadError> {
    policy.load(bytes)
}

/// Entry point.
#[unsafe(no_mangle)]
pub extern "C" fn Reset() -> ! {
    let mut ram = const { Int8Policy::<3, 64, 64, 1>::blank() };
    let file: &[u8] = core::hint::black_box(&[]);
    let _ = policy_load_int8(&mut ram, file);
    probe::run(|obs| policy_act_int8(core::hint::black_box(&ram), obs))
}
