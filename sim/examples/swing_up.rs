//! Runs the energy swing-up controller on the reference pendulum: once from hanging down, then
//! over 100 seeded episodes with standard random resets, and prints the returns.
//!
//! `cargo run -p sim --release --example swing_up`

use core::f64::consts::PI;

use nalgebra::Vector2;
use sim::controllers::EnergySwingUp;
use sim::{Environment, Pendulum};

fn main() {
    let ctrl = EnergySwingUp::default();
    let mut env = Pendulum::default();
    println!("LQR gain K = {}", ctrl.lqr_gain());

    env.reset_seeded(0);
    env.set_state(Vector2::new(PI, 0.0));
    let mut ret = 0.0;
    let mut up_at = None;
    for k in 0..env.max_episode_steps() {
        let u = ctrl.act(&env.observation());
        ret += env.step_torque(f64::from(u)).reward;
        if up_at.is_none() && sim::wrap_angle(env.state().x).abs() < 0.1 {
            up_at = Some(k + 1);
        }
    }
    let th = sim::wrap_angle(env.state().x);
    let up_at = up_at.map_or_else(|| "never".to_string(), |k| format!("step {k}"));
    println!(
        "from hanging down: return {ret:.2}, first |θ| < 0.1 rad at {up_at}, final θ {th:.4} rad"
    );

    let returns: Vec<f64> = (0..100)
        .map(|seed| episode(&ctrl, &mut env, seed))
        .collect();
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    let worst = returns.iter().cloned().fold(f64::INFINITY, f64::min);
    let best = returns.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    println!(
        "100 episodes (seeds 0..100): mean return {mean:.2}, worst {worst:.2}, best {best:.2}"
    );
}

fn episode(ctrl: &EnergySwingUp, env: &mut Pendulum, seed: u64) -> f64 {
    let mut obs = [0.0f32; 3];
    env.reset(seed, &mut obs);
    let mut ret = 0.0;
    loop {
        let u = ctrl.act(&obs);
        let r = env.step(&[u], &mut obs);
        ret += r.reward;
        if r.terminated || r.truncated {
            return ret;
        }
    }
}
