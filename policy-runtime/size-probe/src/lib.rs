//! Shared parts of the probe programs: deterministic weights built at compile time.
#![no_std]

use policy_runtime::Policy;

/// Pseudo-random values in [-0.1, 0.1) from a linear congruential generator, at compile time.
pub const fn matrix<const I: usize, const O: usize>(seed: u32) -> [[f32; I]; O] {
    let mut m = [[0.0f32; I]; O];
    let mut s = seed;
    let mut o = 0;
    while o < O {
        let mut i = 0;
        while i < I {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            m[o][i] = ((s >> 8) as f32 / 16_777_216.0 - 0.5) * 0.2;
            i += 1;
        }
        o += 1;
    }
    m
}

/// A bias vector like [`matrix`].
pub const fn vector<const N: usize>(seed: u32) -> [f32; N] {
    let m: [[f32; N]; 1] = matrix(seed);
    m[0]
}

/// A policy with compile-time weights.
pub const fn policy<const H1: usize, const H2: usize>() -> Policy<3, H1, H2, 1> {
    Policy::from_raw(
        [0.0, 0.0, 0.0],
        [1.0, 1.0, 0.125],
        matrix(1),
        vector(2),
        matrix(3),
        vector(4),
        matrix(5),
        vector(6),
        [-2.0],
        [2.0],
    )
}

/// The loop run by the probe binaries: never returns, never lets the result be optimised out.
pub fn run(act: impl Fn(&[f32; 3]) -> policy_runtime::Output<1>) -> ! {
    let mut obs = [0.1f32, 0.2, 0.3];
    loop {
        let out = act(core::hint::black_box(&obs));
        obs[0] = core::hint::black_box(out.action[0]);
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
