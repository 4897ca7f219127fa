//! The runtime computes exactly (bit for bit) the documented f32 summation order, which does
//! not depend on the target's block width: the same weights give the same action on the
//! host and on the microcontroller.

mod common;

use common::{RawPolicy, rng, shape};
use policy_runtime::Policy;
use rand::Rng;

/// Lanes of the dot product used by layers with fewer than 8 outputs.
const LANES: usize = 16;

fn dot(w: &[f32], x: &[f32]) -> f32 {
    let whole = x.len() / LANES * LANES;
    let mut acc = [0.0f32; LANES];
    for i in 0..whole {
        acc[i % LANES] += w[i] * x[i];
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for j in 0..width {
            acc[j] += acc[j + width];
        }
    }
    let mut sum = acc[0];
    for i in whole..x.len() {
        sum += w[i] * x[i];
    }
    sum
}

/// The documented tanh: `1 - 2/(2^k·(1 + f·q(f)) + 1)` with `t = 2y·log2(e)` (y limited to
/// ±10), `k = round(t)`, `f = t - k`, `q` in Estrin's scheme.
fn tanh(y: f32) -> f32 {
    const Q: [f32; 6] = [
        std::f32::consts::LN_2,
        0.240_226_5,
        0.055_503_57,
        0.009_618_083,
        0.001_339_086_3,
        0.000_154_531_63,
    ];
    let t = y.clamp(-10.0, 10.0) * (2.0 * std::f32::consts::LOG2_E);
    let k = t.round_ties_even();
    let f = t - k;
    let f2 = f * f;
    let f4 = f2 * f2;
    let q = (Q[0] + Q[1] * f) + f2 * (Q[2] + Q[3] * f) + f4 * (Q[4] + Q[5] * f);
    1.0 - 2.0 / ((1.0 + f * q) * 2f32.powi(k as i32) + 1.0)
}

/// The documented order in plain f32.
fn forward(raw: &RawPolicy, obs: &[f32]) -> Vec<f32> {
    let mut x: Vec<f32> = obs.to_vec();
    if let (Some(off), Some(sc)) = (&raw.offset, &raw.scale) {
        for ((x, &o), &s) in x.iter_mut().zip(off).zip(sc) {
            *x = (*x - o) * s;
        }
    }
    for (l, (w, b)) in raw.layers.iter().enumerate() {
        let n_in = x.len();
        let n_out = b.len();
        let y: Vec<f32> = (0..n_out)
            .map(|o| {
                let row = &w[o * n_in..(o + 1) * n_in];
                let v = if n_out >= 8 {
                    let mut s = b[o];
                    for i in 0..n_in {
                        s += row[i] * x[i];
                    }
                    s
                } else {
                    b[o] + dot(row, &x)
                };
                if l < 2 {
                    if v > 0.0 { v } else { 0.0 }
                } else {
                    v
                }
            })
            .collect();
        x = y;
    }
    x.iter()
        .zip(raw.low.iter().zip(&raw.high))
        .map(|(&y, (&lo, &hi))| {
            let t = tanh(y);
            let v = (0.5 * lo + 0.5 * hi) + (0.5 * hi - 0.5 * lo) * t;
            v.max(lo).min(hi)
        })
        .collect()
}

fn check<const O: usize, const H1: usize, const H2: usize, const A: usize>(seed: u64) {
    let raw = RawPolicy::random(shape(O, H1, H2, A), true, seed);
    let policy = Policy::<O, H1, H2, A>::from_bytes(&raw.encode()).unwrap();
    let mut rng = rng(seed ^ 0xABCD);
    for _ in 0..500 {
        let obs: [f32; O] = std::array::from_fn(|_| rng.random_range(-8.0..8.0));
        let got = policy.act(&obs).action;
        let want = forward(&raw, &obs);
        let got_bits: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
        let want_bits: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got_bits, want_bits, "{O}-{H1}-{H2}-{A} obs {obs:?}");
    }
}

#[test]
fn bit_exact_for_many_shapes() {
    check::<3, 64, 64, 1>(1);
    check::<3, 256, 256, 1>(2);
    // Partial blocks on every target, dot products with and without a remainder.
    check::<5, 13, 37, 2>(3);
    check::<7, 70, 9, 3>(4);
    check::<2, 100, 130, 17>(5);
    check::<1, 8, 33, 7>(6);
}
