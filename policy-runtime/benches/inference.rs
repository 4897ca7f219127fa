//! Latency of one inference: this runtime vs candle's single-observation forward pass of
//! the same network (same weights), for 3-64-64-1 and 3-256-256-1.
//!
//! Criterion's throughput line counts FLOP (2 per multiply-add), so its `elem/s` figure is
//! FLOP/s. After the criterion output a summary table prints ns per inference, GFLOP/s and
//! the candle/runtime ratio, from the median of criterion's own samples.
//!
//! Two ways to time the runtime:
//! - `policy-runtime`: back-to-back calls on independent observations (criterion's usual
//!   loop; the CPU may overlap the end of one call with the start of the next), the figure
//!   compared with candle, which is timed the same way;
//! - `policy-runtime latency`: each observation depends on the previous action (its first
//!   element gets `action · 1e-30` added), so no two calls overlap: the time a control loop
//!   waits from sensor reading to actuator command.
//!
//! Run: `cargo bench -p policy-runtime --bench inference`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use candle_nn::{Linear, Module};
use common::{RawPolicy, rng, shape};
use criterion::{Criterion, Throughput};
use policy_runtime::{Policy, Shape};
use rand::Rng;

/// The same network in candle.
struct CandleActor {
    offset: Tensor,
    scale: Tensor,
    layers: [Linear; 3],
    mid: Tensor,
    half: Tensor,
}

impl CandleActor {
    fn new(raw: &RawPolicy) -> candle_core::Result<Self> {
        let dev = Device::Cpu;
        let s = raw.shape;
        let dims = [s.obs, s.hidden1, s.hidden2, s.act];
        let layer = |l: usize| -> candle_core::Result<Linear> {
            let (w, b) = &raw.layers[l];
            Ok(Linear::new(
                Tensor::from_slice(w, (dims[l + 1], dims[l]), &dev)?,
                Some(Tensor::from_slice(b, dims[l + 1], &dev)?),
            ))
        };
        let mid: Vec<f32> = raw
            .low
            .iter()
            .zip(&raw.high)
            .map(|(l, h)| 0.5 * l + 0.5 * h)
            .collect();
        let half: Vec<f32> = raw
            .low
            .iter()
            .zip(&raw.high)
            .map(|(l, h)| 0.5 * h - 0.5 * l)
            .collect();
        Ok(Self {
            offset: Tensor::from_slice(
                raw.offset.as_deref().unwrap_or(&vec![0.0; s.obs]),
                (1, s.obs),
                &dev,
            )?,
            scale: Tensor::from_slice(
                raw.scale.as_deref().unwrap_or(&vec![1.0; s.obs]),
                (1, s.obs),
                &dev,
            )?,
            layers: [layer(0)?, layer(1)?, layer(2)?],
            mid: Tensor::from_slice(&mid, (1, s.act), &dev)?,
            half: Tensor::from_slice(&half, (1, s.act), &dev)?,
        })
    }

    /// One observation in, one action out (including the copies in and out of tensors).
    fn act(&self, obs: &[f32]) -> candle_core::Result<Vec<f32>> {
        let x = Tensor::from_slice(obs, (1, obs.len()), &Device::Cpu)?;
        let x = x.broadcast_sub(&self.offset)?.broadcast_mul(&self.scale)?;
        let x = self.layers[0].forward(&x)?.relu()?;
        let x = self.layers[1].forward(&x)?.relu()?;
        let t = self.layers[2].forward(&x)?.tanh()?;
        let a = t.broadcast_mul(&self.half)?.broadcast_add(&self.mid)?;
        a.flatten_all()?.to_vec1()
    }
}

/// Per-iteration times (ns) reported to criterion, kept for the summary.
#[derive(Default)]
struct Samples(RefCell<Vec<f64>>);

impl Samples {
    fn time(&self, iters: u64, mut f: impl FnMut()) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        let d = start.elapsed();
        self.0.borrow_mut().push(d.as_nanos() as f64 / iters as f64);
        d
    }

    /// (median, fastest) time per iteration. On a shared machine the fastest sample is the
    /// best estimate of the uncontended time.
    fn median_and_best(&self) -> (f64, f64) {
        let mut v = self.0.borrow().clone();
        v.sort_by(f64::total_cmp);
        match (v.get(v.len() / 2), v.first()) {
            (Some(&median), Some(&best)) => (median, best),
            _ => (f64::NAN, f64::NAN), // filtered out on the command line
        }
    }
}

struct Row {
    shape: Shape,
    runtime_ns: (f64, f64),
    latency_ns: (f64, f64),
    candle_ns: (f64, f64),
}

fn bench_shape<const O: usize, const H1: usize, const H2: usize, const A: usize>(
    c: &mut Criterion,
    rows: &mut Vec<Row>,
) {
    let raw = RawPolicy::random(shape(O, H1, H2, A), true, 2024);
    let policy: Box<Policy<O, H1, H2, A>> = Box::new(Policy::from_bytes(&raw.encode()).unwrap());
    let candle = CandleActor::new(&raw).unwrap();
    let mut r = rng(7);
    let observations: Vec<[f32; O]> = (0..256)
        .map(|_| std::array::from_fn(|_| r.random_range(-8.0..8.0)))
        .collect();
    // Same network, same result.
    for obs in &observations {
        let a = policy.act(obs).action;
        let b = candle.act(obs).unwrap();
        for (a, b) in a.iter().zip(&b) {
            assert!((a - b).abs() <= 1e-5, "runtime {a} vs candle {b}");
        }
    }

    let s = Policy::<O, H1, H2, A>::SHAPE;
    let mut group = c.benchmark_group(format!("inference {s}"));
    group.throughput(Throughput::Elements(2 * s.multiply_adds() as u64));
    let (rt, lat, cd) = (Samples::default(), Samples::default(), Samples::default());
    group.bench_function("policy-runtime", |b| {
        b.iter_custom(|iters| {
            let mut k = 0usize;
            rt.time(iters, || {
                k = (k + 1) & 255;
                black_box(policy.act(black_box(&observations[k])));
            })
        })
    });
    group.bench_function("policy-runtime latency", |b| {
        b.iter_custom(|iters| {
            let mut k = 0usize;
            let mut last = 0.0f32;
            lat.time(iters, || {
                k = (k + 1) & 255;
                let mut obs = observations[k];
                obs[0] += last * 1e-30;
                last = policy.act(black_box(&obs)).action[0];
            })
        })
    });
    group.bench_function("candle", |b| {
        b.iter_custom(|iters| {
            let mut k = 0usize;
            cd.time(iters, || {
                k = (k + 1) & 255;
                black_box(candle.act(black_box(&observations[k])).unwrap());
            })
        })
    });
    group.finish();
    rows.push(Row {
        shape: s,
        runtime_ns: rt.median_and_best(),
        latency_ns: lat.median_and_best(),
        candle_ns: cd.median_and_best(),
    });
}

/// Lanes of the widest vector register of the build.
#[cfg(target_feature = "avx512f")]
const VECTOR_LANES: usize = 16;
/// Lanes of the widest vector register of the build.
#[cfg(all(not(target_feature = "avx512f"), target_feature = "avx"))]
const VECTOR_LANES: usize = 8;
/// Lanes of the widest vector register of the build.
#[cfg(not(any(target_feature = "avx512f", target_feature = "avx")))]
const VECTOR_LANES: usize = 4;

/// One multiply-add step on one vector register (separate multiply and add, as the runtime
/// computes).
#[inline(always)]
fn step(v: [f32; VECTOR_LANES], m: f32, a: f32) -> [f32; VECTOR_LANES] {
    v.map(|x| x * m + a)
}

/// Best of 5 runs of independent chains `v = v * m + a`, one vector register each, in FLOP/s.
macro_rules! peak_of_chains {
    ($($c:ident),+) => {{
        let chains = [$(stringify!($c)),+].len();
        let (m, a) = (black_box(0.999_f32), black_box(1e-3_f32));
        let iters = 5_000_000u64;
        let mut best = 0.0f64;
        for _ in 0..5 {
            let z = black_box([0.0f32; VECTOR_LANES]);
            $(let mut $c = z;)+
            let start = Instant::now();
            for _ in 0..iters {
                $($c = step($c, m, a);)+
            }
            let secs = start.elapsed().as_secs_f64();
            black_box(($($c,)+));
            best = best.max(2.0 * (iters as usize * chains * VECTOR_LANES) as f64 / secs);
        }
        best
    }};
}

/// The machine's multiply-add peak on one core, measured: independent chains of
/// `v = v * m + a` on the widest vector registers of the build, enough of them to hide the
/// multiply and add latencies and few enough to stay in registers (16 of the 32 AVX-512
/// registers; 14 of the 16 SSE/AVX registers). In FLOP/s (2 per multiply-add).
fn peak_flops() -> f64 {
    if VECTOR_LANES == 16 {
        peak_of_chains!(
            c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15
        )
    } else {
        peak_of_chains!(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13)
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut rows = Vec::new();
    bench_shape::<3, 64, 64, 1>(&mut c, &mut rows);
    bench_shape::<3, 256, 256, 1>(&mut c, &mut rows);
    c.final_summary();
    let peak = peak_flops();

    let isa = if cfg!(target_feature = "avx512f") {
        "AVX-512"
    } else if cfg!(target_feature = "avx2") {
        "AVX2"
    } else if cfg!(target_feature = "avx") {
        "AVX"
    } else {
        "SSE2"
    };
    println!(
        "\nsummary: ns per inference, median (best) of criterion's samples; FLOP = 2 x MACs; \
         code built for {isa}"
    );
    println!(
        "multiply-add peak of one core, measured now: {:.1} GFLOP/s (separate multiply and add)",
        peak / 1e9
    );
    println!(
        "{:<12} {:>6} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>9}",
        "network",
        "MACs",
        "runtime ns",
        "GFLOP/s",
        "latency ns",
        "GFLOP/s",
        "candle ns",
        "candle/runtime",
        "bound ns"
    );
    for r in rows {
        let flop = 2.0 * r.shape.multiply_adds() as f64;
        let (rt, rt_best) = r.runtime_ns;
        let (lat, lat_best) = r.latency_ns;
        let (cd, cd_best) = r.candle_ns;
        println!(
            "{:<12} {:>6} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>9}",
            r.shape.to_string(),
            r.shape.multiply_adds(),
            format!("{rt:.1} ({rt_best:.1})"),
            format!("{:.1} ({:.1})", flop / rt, flop / rt_best),
            format!("{lat:.1} ({lat_best:.1})"),
            format!("{:.1} ({:.1})", flop / lat, flop / lat_best),
            format!("{cd:.0} ({cd_best:.0})"),
            format!("{:.0}x ({:.0}x)", cd / rt, cd_best / rt_best),
            format!("{:.1}", flop / peak * 1e9),
        );
    }
}
