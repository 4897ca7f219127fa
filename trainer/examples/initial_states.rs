//! Recovery from initial states outside the rig's reset distribution: a grid of 24 angles
//! (evenly over the circle) × 8 speeds (±30, ±50, ±75 and ±100 % of the rig's velocity range,
//! the observation's bound: up to ±8 rad/s on `realistic`, where the reset draws only ±1 rad/s),
//! 192 episodes per controller. Each episode draws its plant from the rig's randomisation
//! (episode seed `speed index · 100 + angle index`), then the state is overwritten with the grid
//! point. An episode succeeds as in `trainer eval`: `|θ| < 0.1 rad` over each of its last 50
//! steps. Prints, per policy file, how many episodes the policy and the rig's swing-up + LQR
//! recover, and the policy's failures by starting speed.
//!
//! ```sh
//! cargo run --release -p trainer --example initial_states -- RIG POLICY [POLICY ...]
//! ```
use sim::{Environment, Rig, RigPlant};
use trainer::quality::{SUCCESS_ANGLE, SUCCESS_WINDOW};

/// Starting speeds as fractions of the rig's velocity range.
const SPEEDS: [f64; 8] = [-1.0, -0.75, -0.5, -0.3, 0.3, 0.5, 0.75, 1.0];
/// Starting angles per speed.
const ANGLES: usize = 24;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        anyhow::bail!("usage: initial_states RIG POLICY [POLICY ...]");
    }
    let rig = Rig::resolve(&args[1])?;
    let baseline = rig.baseline()?;
    let mut plant = rig.build()?;
    let v_max = f64::from(plant.observation_high()[2]);
    println!(
        "rig `{}`: {} starts, speeds ±30/50/75/100 % of {v_max} rad/s",
        rig.name,
        SPEEDS.len() * ANGLES
    );
    let lqr = recovered(&mut plant, v_max, |obs, _| baseline.act(obs));
    for path in &args[2..] {
        let policy = trainer::eval::load_policy_file(std::path::Path::new(path))?;
        // A policy trained with `observe_previous_action` takes the previous applied action
        // as a fourth input (`sim::feedback`).
        let inputs = policy.shape().obs.clamp(3, 4);
        let ours = recovered(&mut plant, v_max, |obs, previous| {
            let input = [obs[0], obs[1], obs[2], previous];
            let mut a = [0.0f32; 1];
            policy.act(&input[..inputs], &mut a).map_or(0.0, |_| a[0])
        });
        let mut by_speed = std::collections::BTreeMap::new();
        for (&(_, w), ok) in starts(v_max).iter().zip(&ours) {
            if !ok {
                *by_speed.entry(format!("{w:+.1}")).or_insert(0) += 1;
            }
        }
        let count = |v: &[bool]| v.iter().filter(|&&ok| ok).count();
        println!(
            "{path}: policy {}/{n}, swing-up + LQR {}/{n}; policy failures by starting speed [rad/s]: {by_speed:?}",
            count(&ours),
            count(&lqr),
            n = ours.len()
        );
    }
    Ok(())
}

/// The grid's `(θ, θ̇)` starts, speed-major.
fn starts(v_max: f64) -> Vec<(f64, f64)> {
    SPEEDS
        .iter()
        .flat_map(|&f| {
            (0..ANGLES).map(move |i| {
                let th = -std::f64::consts::PI
                    + (i as f64 + 0.5) * std::f64::consts::TAU / ANGLES as f64;
                (th, f * v_max)
            })
        })
        .collect()
}

/// For each start of [`starts`], whether `act` (given the observation and the action applied
/// at the previous step) brings the rod upright and keeps it there.
fn recovered(plant: &mut RigPlant, v_max: f64, act: impl Fn(&[f32; 3], f32) -> f32) -> Vec<bool> {
    let (low, high) = (plant.action_low()[0], plant.action_high()[0]);
    starts(v_max)
        .iter()
        .enumerate()
        .map(|(k, &(th, w))| {
            let mut obs = [0.0f32; 3];
            plant.reset(((k / ANGLES) * 100 + k % ANGLES) as u64, &mut obs);
            plant.set_state(nalgebra::Vector2::new(th, w));
            let mut o = plant.observation();
            let steps = plant.max_episode_steps();
            let mut upright_tail = 0;
            let mut previous = 0.0;
            for t in 0..steps {
                previous = sim::feedback::applied_action(act(&o, previous), low, high);
                plant.step(&[previous], &mut o);
                if t + SUCCESS_WINDOW >= steps
                    && sim::wrap_angle(plant.state()[0]).abs() < SUCCESS_ANGLE
                {
                    upright_tail += 1;
                }
            }
            upright_tail == SUCCESS_WINDOW.min(steps)
        })
        .collect()
}
