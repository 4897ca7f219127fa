//! Step throughput of the reference model and the high-fidelity plant.
//!
//! `cargo bench -p sim --bench step` — criterion reports `thrpt` in steps per second
//! (elements = environment steps; episodes are reset every 200 steps as in training).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim::{Environment, HiFiParams, HiFiPendulum, Pendulum};

fn run_steps<E: Environment>(env: &mut E, steps: u64, obs: &mut [f32; 3], seed: &mut u64) {
    for _ in 0..steps {
        // A cheap state-dependent action so the loop cannot be hoisted.
        let u = -2.0 * obs[1] - 0.5 * obs[2];
        let r = env.step(black_box(&[u]), obs);
        if r.truncated {
            *seed += 1;
            env.reset(*seed, obs);
        }
    }
}

/// Measures `steps` environment steps per iteration.
fn bench_env<E: Environment>(c: &mut Criterion, name: &str, steps: u64, mut env: E) {
    let mut group = c.benchmark_group("step");
    group.throughput(Throughput::Elements(steps));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function(name, |b| {
        let mut obs = [0.0f32; 3];
        let mut seed = 0;
        env.reset(seed, &mut obs);
        b.iter(|| run_steps(&mut env, steps, &mut obs, &mut seed));
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_env(c, "reference", 10_000, Pendulum::default());
    bench_env(c, "hifi_default", 200, HiFiPendulum::default());
    let realistic = HiFiPendulum::new(HiFiParams::realistic()).unwrap();
    bench_env(c, "hifi_realistic", 200, realistic);
}

criterion_group!(step, benches);
criterion_main!(step);
