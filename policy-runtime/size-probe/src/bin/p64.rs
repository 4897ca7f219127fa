//! The pendulum actor 3-64-64-1: weights in flash (`static`), and a second copy loaded
//! from a weight file into RAM, to measure both paths.
#![no_std]
#![no_main]

use policy_runtime::{LoadError, Output, Policy};
use policy_runtime_size_probe as probe;

static POLICY: Policy<3, 64, 64, 1> = probe::policy();

/// One inference (kept as a separate symbol to measure its size and stack frame).
#[inline(never)]
#[unsafe(no_mangle)]
pub fn policy_act(obs: &[f32; 3]) -> Output<1> {
    POLICY.act(obs)
}

/// Decoding + validating a weight file into a policy in RAM (separate symbol, as above).
#[inline(never)]
#[unsafe(no_mangle)]
pub fn policy_load(policy: &mut Policy<3, 64, 64, 1>, bytes: &[u8]) -> Result<(), LoadError> {
    policy.load(bytes)
}

/// Entry point.
#[unsafe(no_mangle)]
pub extern "C" fn Reset() -> ! {
    let mut ram = const { probe::policy::<64, 64>() };
    let file: &[u8] = core::hint::black_box(&[]);
    if policy_load(&mut ram, file).is_ok() {
        probe::run(|obs| core::hint::black_box(&ram).act(obs))
    }
    probe::run(policy_act)
}
