//! Prints the cost of the DDPG hot paths: one gradient step (critic + actor + soft updates)
//! for several batch and critic sizes, and one single-observation actor forward pass.
//!
//! `cargo bench -p trainer --bench update` (set `RAYON_NUM_THREADS=1` or `2` to compare
//! candle's matmul thread counts; the `trainer` binary pins it from `config.threads`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use trainer::TrainConfig;
use trainer::ddpg::{Ddpg, Scaling};
use trainer::replay::{Batch, ReplayBuffer};

fn agent(batch: usize, actor: usize, critic: usize) -> (Ddpg, ReplayBuffer, Batch, ChaCha8Rng) {
    let config = TrainConfig {
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

fn main() {
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into());
    println!("RAYON_NUM_THREADS={threads}");
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
