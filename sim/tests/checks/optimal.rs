//! The optimal-control reference (`sim::optimal`): hand-made cases with known answers, local
//! optimality, and never worse than a controller it could have copied.

use std::f64::consts::PI;
use std::sync::OnceLock;

use nalgebra::Vector2;
use sim::controllers::EnergySwingUp;
use sim::optimal::{GridSpec, TrajectoryOptimizer, Workspace, replay};
use sim::{Environment, Pendulum, PendulumParams, Rig, RigError, wrap_angle};

fn optimiser() -> &'static TrajectoryOptimizer {
    static OPT: OnceLock<TrajectoryOptimizer> = OnceLock::new();
    OPT.get_or_init(|| {
        TrajectoryOptimizer::for_rig(&Rig::resolve("reference").unwrap(), 2).unwrap()
    })
}

/// Angles (wrapped) after each step of `actions` from `x0`.
fn angles(x0: Vector2<f64>, actions: &[f64]) -> Vec<f64> {
    let mut env = Pendulum::default();
    env.set_state(x0);
    actions
        .iter()
        .map(|&u| {
            env.step_torque(u);
            wrap_angle(env.state().x)
        })
        .collect()
}

/// The swing-up controller's episode from `x0`: (return, actions).
fn swing_up(x0: Vector2<f64>) -> (f64, Vec<f64>) {
    let ctrl = EnergySwingUp::default();
    let mut env = Pendulum::default();
    env.set_state(x0);
    let mut obs = env.observation();
    let mut ret = 0.0;
    let mut actions = Vec::new();
    for _ in 0..200 {
        let u = ctrl.act(&obs);
        actions.push(f64::from(u));
        ret += env.step(&[u], &mut obs).reward;
    }
    (ret, actions)
}

/// Direction reversals of θ̇ before the angle first comes within 0.5 rad of upright.
fn swings(x0: Vector2<f64>, actions: &[f64]) -> usize {
    let mut env = Pendulum::default();
    env.set_state(x0);
    let mut last_sign = 0.0f64;
    let mut reversals = 0;
    for &u in actions {
        env.step_torque(u);
        let s = env.state();
        if wrap_angle(s.x).abs() < 0.5 {
            break;
        }
        let sign = s.y.signum();
        if last_sign != 0.0 && sign != last_sign {
            reversals += 1;
        }
        last_sign = sign;
    }
    reversals
}

#[test]
fn upright_at_rest_costs_nothing() {
    let best = optimiser().solve(Vector2::new(0.0, 0.0), &mut Workspace::default());
    assert!(best.ret > -1e-9, "return {} from upright at rest", best.ret);
}

#[test]
fn hanging_at_rest_swings_up_with_no_more_swings_than_the_energy_controller() {
    let x0 = Vector2::new(PI, 0.0);
    let best = optimiser().solve(x0, &mut Workspace::default());
    let th = angles(x0, &best.actions);
    assert!(
        th[150..].iter().all(|t| t.abs() < 0.1),
        "not held upright over the last 50 steps: {:?}",
        &th[150..]
    );
    let (ctrl_ret, ctrl_actions) = swing_up(x0);
    assert!(best.ret >= ctrl_ret, "{} < controller {ctrl_ret}", best.ret);
    let (n_opt, n_ctrl) = (swings(x0, &best.actions), swings(x0, &ctrl_actions));
    assert!(
        n_opt <= n_ctrl,
        "{n_opt} swings, the controller needs {n_ctrl}"
    );
    // The torque limit (2 N·m, 6 rad/s² against gravity's 15 rad/s²) forces at least one
    // swing back before the pendulum can go over the top.
    assert!(n_opt >= 1, "swung up from the bottom without swinging back");
    assert_eq!(replay(optimiser().params(), x0, &best.actions), best.ret);
}

/// Where the speed clip is active the return does not depend on the torque through the
/// dynamics, and its optimum sits on the clip's kink, which a Newton method approaches but does
/// not land on exactly (seen: 7·10⁻⁵ left at one step of seed 11). So the check is that no
/// single change of ±0.05 N·m gains more than 10⁻³, far below the 0.01 the reports print.
#[test]
fn no_single_action_change_improves_the_return() {
    let opt = optimiser();
    let mut ws = Workspace::default();
    let mut env = Pendulum::default();
    let mut obs = [0.0f32; 3];
    for seed in [3u64, 11, 42] {
        env.reset(seed, &mut obs);
        let x0 = env.state();
        let best = opt.solve(x0, &mut ws);
        let u_max = opt.params().max_torque;
        for t in 0..best.actions.len() {
            for delta in [-0.05, 0.05] {
                let mut a = best.actions.clone();
                a[t] = (a[t] + delta).clamp(-u_max, u_max);
                let r = replay(opt.params(), x0, &a);
                assert!(
                    r <= best.ret + 1e-3,
                    "seed {seed}: changing step {t} by {delta} gives {r} > {}",
                    best.ret
                );
            }
        }
    }
}

#[test]
fn never_worse_than_the_swing_up_controller_and_close_to_the_grid_estimate() {
    let opt = optimiser();
    let mut ws = Workspace::default();
    let mut env = Pendulum::default();
    let mut obs = [0.0f32; 3];
    let mut gaps = Vec::new();
    for seed in 100..130u64 {
        env.reset(seed, &mut obs);
        let x0 = env.state();
        let best = opt.solve(x0, &mut ws);
        let (ctrl, ctrl_actions) = swing_up(x0);
        assert!(
            best.ret >= ctrl - 1e-9,
            "seed {seed}: {} < {ctrl}",
            best.ret
        );
        // Refining the controller's own sequence can only improve it.
        let refined = opt.refine(x0, &ctrl_actions, &mut ws);
        assert!(refined.ret >= ctrl - 1e-9);
        gaps.push(best.ret - opt.grid_return(x0));
    }
    // The grid's interpolated value is a coarse estimate of the same optimum: close on average.
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!(mean.abs() < 5.0, "optimum − grid estimate: mean {mean}");
}

#[test]
fn only_deterministic_reference_rigs_and_sensible_grids_are_accepted() {
    let err = TrajectoryOptimizer::for_rig(&Rig::resolve("realistic").unwrap(), 1).unwrap_err();
    assert!(
        matches!(err, RigError::NotDeterministicReference { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("model = \"reference\""), "{err}");
    let tiny = GridSpec {
        angles: 4,
        speeds: 3,
        torques: 2,
    };
    let err = TrajectoryOptimizer::new(&PendulumParams::default(), &[tiny], 1).unwrap_err();
    assert!(err.to_string().contains("grid.angles"), "{err}");
}
