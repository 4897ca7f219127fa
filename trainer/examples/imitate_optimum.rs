//! How far imitation of the optimiser gets (issue 12's analysis, BENCHMARKS.md): fits the
//! actor, by supervised regression on `tanh` outputs, to the (observation, action) pairs of
//! `EPISODES` optimal trajectories of the reference rig (`sim::optimal`, initial states from
//! evaluation seed 777, disjoint from `trainer eval`'s seed 0), for `EPOCHS` passes of Adam at
//! batch 256, and writes the actor as a weight file. No environment step is taken.
//!
//! ```sh
//! cargo run --release -p trainer --example imitate_optimum -- EPISODES EPOCHS OUT [HIDDEN [LR]]
//! cargo run --release -p trainer -- eval OUT --rig reference --optimum
//! ```
use candle_core::{Device, Tensor};
use rand::SeedableRng;
use sim::optimal::{TrajectoryOptimizer, Workspace};
use sim::{Pendulum, Rig};
use trainer::TrainConfig;
use trainer::ddpg::{Ddpg, Scaling};
use trainer::network::mlp_forward;
use trainer::quality::episode_seed;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        anyhow::bail!("usage: imitate_optimum EPISODES EPOCHS OUT [HIDDEN [LR]]");
    }
    let n_eps: usize = args[1].parse()?;
    let epochs: usize = args[2].parse()?;
    let out = &args[3];
    let rig = Rig::preset("reference").ok_or_else(|| anyhow::anyhow!("no reference rig"))?;
    let opt = TrajectoryOptimizer::for_rig(&rig, 2)?;
    let mut plant = Pendulum::new(rig.reference_params())?;
    let (mut obs, mut act) = (Vec::new(), Vec::new());
    let mut ws = Workspace::default();
    let t0 = std::time::Instant::now();
    for k in 0..n_eps {
        let seed = episode_seed(777, k);
        plant.reset_seeded(seed);
        let best = opt.solve(plant.state(), &mut ws);
        plant.reset_seeded(seed);
        for &u in &best.actions {
            obs.extend_from_slice(&plant.observation());
            act.push(u as f32);
            plant.step_torque(u);
        }
    }
    eprintln!("{} pairs in {:.1}s", act.len(), t0.elapsed().as_secs_f64());
    let h: usize = args.get(4).map_or(Ok(64), |a| a.parse())?;
    let lr: f64 = args.get(5).map_or(Ok(1e-3), |a| a.parse())?;
    let config = TrainConfig {
        rig: "reference".into(),
        actor_hidden1: h,
        actor_hidden2: h,
        actor_lr: lr,
        ..TrainConfig::default()
    };
    let scaling = Scaling::from_bounds(&[-1., -1., -8.], &[1., 1., 8.], &[-2.], &[2.], true);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut agent = Ddpg::new(&config, scaling.clone(), &mut rng)?;
    let n = act.len();
    let mut norm = Vec::new();
    scaling.normalize_into(&obs, &mut norm);
    let dev = Device::Cpu;
    let bs = 256;
    let mut idx: Vec<usize> = (0..n).collect();
    use rand::seq::SliceRandom;
    for e in 0..epochs {
        idx.shuffle(&mut rng);
        let mut tot = 0.0;
        for chunk in idx.chunks(bs) {
            let m = chunk.len();
            let s: Vec<f32> = chunk
                .iter()
                .flat_map(|&i| norm[3 * i..3 * i + 3].to_vec())
                .collect();
            let a: Vec<f32> = chunk.iter().map(|&i| act[i] / 2.0).collect();
            let s = Tensor::from_slice(&s, (m, 3), &dev)?;
            let a = Tensor::from_slice(&a, (m, 1), &dev)?;
            let mu = mlp_forward(&agent.actor.tracked(), &s)?.tanh()?;
            let loss = mu.sub(&a)?.sqr()?.mean_all()?;
            tot += loss.to_scalar::<f32>()? as f64 * m as f64;
            let g = loss.backward()?;
            let g = g
                .get(agent.actor.var().as_tensor())
                .unwrap()
                .to_vec1::<f32>()?;
            let g = agent.actor.params.split_flat(&g);
            agent.actor_opt.step(&mut agent.actor.params, &g);
            agent.actor.sync_vars()?;
        }
        if e % 10 == 0 || e + 1 == epochs {
            eprintln!("epoch {e}: mse {:.5}", tot / n as f64);
        }
    }
    std::fs::write(out, trainer::export::export_actor(&agent)?)?;
    Ok(())
}
