//! The pendulum actor 3-256-256-1 with its weights in flash.
#![no_std]
#![no_main]

use policy_runtime::{Output, Policy};
use policy_runtime_size_probe as probe;

static POLICY: Policy<3, 256, 256, 1> = probe::policy();

/// One inference (kept as a separate symbol to measure its size and stack frame).
#[inline(never)]
#[unsafe(no_mangle)]
pub fn policy_act(obs: &[f32; 3]) -> Output<1> {
    POLICY.act(obs)
}

/// Entry point.
#[unsafe(no_mangle)]
pub extern "C" fn Reset() -> ! {
    probe::run(policy_act)
}
