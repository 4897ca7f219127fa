//! `selftest`: what `cargo run --release` runs under QEMU (feature `qemu`). Logs, over defmt,
//! the embedded policy's shape and hash, the action for a few known observations (bits and
//! value), the instructions per inference and the inference stack, then exits with status 0 if
//! every action is finite, inside the bounds and the network's own output (status `Ok`), 1
//! otherwise. The workspace test `firmware_self_test_under_qemu` checks the printed actions bit
//! for bit against the host runtime.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use firmware::policy::{ACT, H1, H2, OBS, POLICY, POLICY_HASH, PRECISION};
use firmware::{control_loop, halt, measure_inference_stack, start_clock};
use policy_runtime::Status;

/// Observations `[cos θ, sin θ, θ̇]`: upright at rest, hanging at rest, 45° falling.
const KNOWN: [[f32; 3]; 3] = [
    [1.0, 0.0, 0.0],
    [-1.0, 0.0, 0.0],
    [
        core::f32::consts::FRAC_1_SQRT_2,
        core::f32::consts::FRAC_1_SQRT_2,
        -2.0,
    ],
];

/// Runs the policy on one known observation, logs the result; `true` if it is valid.
fn check(calibration: &firmware::clock::Calibration, obs: &[f32; 3]) -> (bool, u32) {
    let mut x = [0.0f32; OBS];
    for (d, v) in x.iter_mut().zip(obs) {
        *d = *v;
    }
    let (result, instructions) = calibration.count(|| control_loop::infer(&x));
    let (low, high) = (POLICY.low(), POLICY.high());
    let mut pass = result.status == Status::Ok;
    for (k, a) in result.action.iter().enumerate() {
        pass &= a.is_finite() && *a >= low[k] && *a <= high[k];
    }
    defmt::println!(
        "selftest: obs {} -> action bits {:#010x} = {} status {=str}",
        &x[..],
        &result.action.map(f32::to_bits)[..],
        &result.action[..],
        if result.status == Status::Ok {
            "Ok"
        } else {
            "NOT Ok"
        },
    );
    (pass, instructions)
}

#[entry]
fn main() -> ! {
    #[cfg(feature = "selftest-panics")]
    if core::hint::black_box(true) {
        panic!("the self-test panics on purpose (feature `selftest-panics`)");
    }
    let inference_stack = measure_inference_stack();
    let calibration = start_clock();
    defmt::println!(
        "selftest: policy {=usize}-{=usize}-{=usize}-{=usize} hash {=u64:016x} precision {=str}",
        OBS,
        H1,
        H2,
        ACT,
        POLICY_HASH,
        PRECISION
    );
    let mut pass = true;
    let mut instructions = 0;
    for obs in &KNOWN {
        let (ok, n) = check(&calibration, obs);
        pass &= ok;
        instructions = n;
    }
    if instructions >= calibration.window_instructions() {
        // More than one SysTick period: the count has wrapped and is not the inference's.
        defmt::println!("selftest: the inference takes longer than the counting window");
        pass = false;
    }
    defmt::println!(
        "selftest: instructions per inference {=u32}, inference stack {=u32} B",
        instructions,
        inference_stack
    );
    defmt::println!(
        "selftest: {=f32} instructions per SysTick count, window {=u32} instructions",
        calibration.instructions_per_tick(),
        calibration.window_instructions()
    );
    if pass {
        defmt::println!("selftest: PASS");
        halt::success()
    }
    halt::failure("selftest: FAIL")
}
