//! Prints the cost of the DDPG hot paths: one gradient step (critic + actor + soft updates)
//! for several batch and critic sizes, and one single-observation actor forward pass.
//!
//! The first two lines compare, side by side in one run, the inline update and the one with
//! the actor regularisers' pass on the worker thread (`parallel_update`): whole 10,000-step
//! default runs (training seconds and environment steps per second), then single updates.
//!
//! `cargo bench -p trainer --bench update` (set `RAYON_NUM_THREADS=1` or `2` to compare
//! candle's matmul thread counts; the `trainer` binary pins it from `config.threads`).

// The allocator of the `trainer` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use trainer::TrainConfig;
use trainer::ddpg::{Ddpg, Scaling};
use trainer::replay::{Batch, ReplayBuffer};

fn agent(batch: usize, actor: usize, critic: usize) -> (Ddpg, ReplayBuffer, Batch, ChaCha8Rng) {
    agent_with(batch, actor, critic, true)
}

fn agent_with(
    batch: usize,
    actor: usize,
    critic: usize,
    parallel_update: bool,
) -> (Ddpg, ReplayBuffer, Batch, ChaCha8Rng) {
    let config = TrainConfig {
        parallel_update,
        batch_size: batch,
        actor_hidden1: actor,
        actor_hidden2: actor,
        critic_hidden1: critic,
        critic_hidden2: critic,
        ..TrainConfig::default()
    };
    let scaling =
        Scaling::from_bounds(&[-1.0, -1.0, -8.0], &[1.0, 1.0, 8.0], &[-2.0], &[2.0], true);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let agent = Ddpg::new(&config, scaling, &mut rng).unwrap();
    let mut replay = ReplayBuffer::new(10_000, 3, 1);
    for _ in 0..10_000 {
        let th: f32 = rng.random_range(-std::f32::consts::PI..std::f32::consts::PI);
        let v: f32 = rng.random_range(-8.0..8.0);
        let obs = [th.cos(), th.sin(), v];
        replay.push(&obs, &[rng.random_range(-2.0..2.0)], -th * th, false, &obs);
    }
    (agent, replay, Batch::default(), rng)
}

/// Median µs per update of the default-sized agent over `rounds` rounds of 1,000 updates,
/// the regularisers' pass on the worker thread or inline, rounds alternating between the two.
fn worker_vs_inline(rounds: usize) -> (f64, f64) {
    let mut agents = [agent_with(64, 64, 64, false), agent_with(64, 64, 64, true)];
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..=rounds {
        for (k, (agent, replay, b, rng)) in agents.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..1_000 {
                replay.sample(rng, 64, b);
                agent.update(b).unwrap();
            }
            if round > 0 {
                times[k].push(t.elapsed().as_secs_f64() * 1e3); // µs per update
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut times[0]), median(&mut times[1]))
}

/// Training seconds and steps/s of one 10,000-step default run (no final evaluation) in a
/// fresh temporary run directory.
fn run_10k(parallel_update: bool) -> (f64, f64) {
    let config = TrainConfig {
        total_steps: 10_000,
        final_eval_episodes: 0,
        parallel_update,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut trainer = trainer::Trainer::new(config, dir.path()).unwrap();
    let out = trainer
        .run(&trainer::RunOptions {
            quiet: true,
            stop_after: None,
        })
        .unwrap();
    (out.train_secs, out.steps_per_sec)
}

/// Medians of `rounds` 10,000-step default runs with the worker thread and inline,
/// alternating.
fn runs_worker_vs_inline(rounds: usize) {
    let mut secs = [Vec::new(), Vec::new()];
    let mut rates = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (k, parallel) in [false, true].into_iter().enumerate() {
            let (s, r) = run_10k(parallel);
            secs[k].push(s);
            rates[k].push(r);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (si, sw) = (median(&mut secs[0]), median(&mut secs[1]));
    let (ri, rw) = (median(&mut rates[0]), median(&mut rates[1]));
    println!(
        "run     10,000 default steps: inline {si:.2} s ({ri:.0} steps/s), with the worker thread {sw:.2} s ({rw:.0} steps/s), ratio {:.2} (medians of {rounds}, alternating)",
        sw / si
    );
}

fn main() {
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into());
    println!("RAYON_NUM_THREADS={threads}");
    runs_worker_vs_inline(3);
    let (inline, worker) = worker_vs_inline(5);
    println!(
        "update  batch  64, default: regularisers inline {inline:.1} µs, on the worker thread {worker:.1} µs (ratio {:.2}; medians of 5 × 1,000 updates, alternating)",
        worker / inline
    );
    for (batch, actor, critic) in [
        (64, 64, 64),
        (128, 64, 64),
        (256, 64, 64),
        (128, 64, 128),
        (128, 64, 256),
        (64, 256, 256),
    ] {
        let (mut agent, replay, mut b, mut rng) = agent(batch, actor, critic);
        let iters = if critic >= 256 { 200 } else { 2_000 };
        for _ in 0..50 {
            replay.sample(&mut rng, batch, &mut b);
            agent.update(&b).unwrap();
        }
        let t = Instant::now();
        for _ in 0..iters {
            replay.sample(&mut rng, batch, &mut b);
            agent.update(&b).unwrap();
        }
        let per = t.elapsed().as_secs_f64() / iters as f64;
        println!(
            "update  batch {batch:>3}, actor 3-{actor}-{actor}-1, critic 4-{critic}-{critic}-1: {:8.1} µs/update",
            per * 1e6
        );
    }
    let (mut agent, _, _, _) = agent(128, 64, 64);
    let obs = [0.5f32, -0.3, 1.0];
    let iters = 20_000;
    let t = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(agent.act(std::hint::black_box(&obs)).unwrap());
    }
    println!(
        "act     actor 3-64-64-1, one observation: {:8.2} µs/forward",
        t.elapsed().as_secs_f64() / iters as f64 * 1e6
    );
}
