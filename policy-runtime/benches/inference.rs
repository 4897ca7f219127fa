//! Latency of one inference: this runtime vs candle's single-observation forward pass of
//! the same network (same weights), for 3-64-64-1 and 3-256-256-1.
//!
//! Criterion's throughput line counts FLOP (2 per multiply-add), so its `elem/s` figure is
//! FLOP/s. After the criterion output a summary table prints ns per inference, GFLOP/s and
//! the candle/runtime ratio, from the median of criterion's own samples.
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
    let (rt, cd) = (Samples::default(), Samples::default());
    group.bench_function("policy-runtime", |b| {
        b.iter_custom(|iters| {
            let mut k = 0usize;
            rt.time(iters, || {
                k = (k + 1) & 255;
                black_box(policy.act(black_box(&observations[k])));
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
        candle_ns: cd.median_and_best(),
    });
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut rows = Vec::new();
    bench_shape::<3, 64, 64, 1>(&mut c, &mut rows);
    bench_shape::<3, 256, 256, 1>(&mut c, &mut rows);
    c.final_summary();

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
        "{:<12} {:>6} {:>18} {:>16} {:>20} {:>16}",
        "network", "MACs", "runtime ns", "GFLOP/s", "candle ns", "candle/runtime"
    );
    for r in rows {
        let flop = 2.0 * r.shape.multiply_adds() as f64;
        let (rt, rt_best) = r.runtime_ns;
        let (cd, cd_best) = r.candle_ns;
        println!(
            "{:<12} {:>6} {:>18} {:>16} {:>20} {:>16}",
            r.shape.to_string(),
            r.shape.multiply_adds(),
            format!("{rt:.1} ({rt_best:.1})"),
            format!("{:.1} ({:.1})", flop / rt, flop / rt_best),
            format!("{cd:.0} ({cd_best:.0})"),
            format!("{:.0}x ({:.0}x)", cd / rt, cd_best / rt_best),
        );
    }
}
