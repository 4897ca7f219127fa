//! The optimal-control reference: for one initial state of a deterministic rig, the action
//! sequence over the episode that maximises the return, so a learned controller can be
//! compared with the best possible one on the same episode ("how far from optimal am I?").
//!
//! The problem, for the reference model (Gym `Pendulum-v1`, see [`crate::pendulum`]):
//!
//! ```text
//! maximise  R = −Σ_{t<T} l(x_t, u_t),   l = wrap(θ)² + 0.1 θ̇² + 0.001 u²
//! subject to x_{t+1} = f(x_t, u_t) (semi-implicit Euler with the speed clip), |u_t| ≤ u_max
//! ```
//!
//! The upright state is unstable and the cost is not convex (how many swings, and which way,
//! are discrete choices), so a local method started from an open-loop guess (zero, random)
//! gets stuck. The solver therefore works in two stages:
//!
//! 1. **Global**: finite-horizon dynamic programming on a grid of (θ, θ̇) ([`GridSpec`], once
//!    per optimiser, ≈1 s on two cores) gives a greedy closed-loop rollout that picks the
//!    number and direction of swings.
//! 2. **Local**: box-constrained iLQR refines each of several closed-loop starts on the exact
//!    dynamics: the grid rollout, and the energy swing-up + LQR controller with each of
//!    [`ENERGY_GAINS`] (how fast it pumps: the number of swings) after a full-torque push
//!    either way for each of [`PUSH_STEPS`] periods (the swing direction). The best refined
//!    sequence wins.
//!
//! The returned return is replayed step by step through [`Pendulum::step_torque`], the same
//! code the evaluation runs. It is a lower bound on the true optimum (a local method can only
//! certify local optimality); the tests check hand-made cases and that no single-action
//! perturbation improves it.

mod dynamics;
mod grid;
mod ilqr;

pub use grid::GridSpec;
pub use ilqr::{IlqrSettings, Workspace};

use nalgebra::Vector2;

use crate::controllers::EnergySwingUp;
use crate::error::ParamError;
use crate::pendulum::{Pendulum, PendulumParams};
use crate::rig::{Rig, RigError, RigModel};
use dynamics::Dynamics;
use grid::ValueGrid;

/// Which start the best refined sequence came from.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Start {
    /// The greedy rollout of the dynamic-programming grid with this index in the optimiser's
    /// list ([`DEFAULT_GRIDS`] by default).
    Grid(usize),
    /// `push` N·m (full torque either way, or 0) for `steps` periods, then the energy swing-up
    /// + LQR controller with energy gain `energy_gain`.
    SwingUp {
        /// Torque of the initial push [N·m].
        push: f64,
        /// Periods of the push.
        steps: usize,
        /// The swing-up law's energy gain `k_E`.
        energy_gain: f64,
    },
    /// A sequence given by the caller ([`TrajectoryOptimizer::refine`]).
    Given,
}

/// The grids of [`TrajectoryOptimizer::for_rig`]: 512 × 257 states with 41 torque levels,
/// and 256 × 129 with 21. Their rollouts differ where the grid's interpolation error decides
/// between two swing patterns, and each wins on some states (measured on 200 standard states:
/// the finer grid alone scores 0.38 points better on average than the coarser alone, yet the
/// coarser is better on 18 of them).
pub const DEFAULT_GRIDS: [GridSpec; 2] = [
    GridSpec {
        angles: 512,
        speeds: 257,
        torques: 41,
    },
    GridSpec {
        angles: 256,
        speeds: 129,
        torques: 21,
    },
];

/// Push lengths of the swing-up starts, periods (each in both directions; 0: no push).
pub const PUSH_STEPS: [usize; 4] = [0, 4, 8, 16];
/// Energy gains of the swing-up starts (a higher gain pumps faster: fewer, harder swings).
pub const ENERGY_GAINS: [f64; 3] = [0.5, 1.0, 3.0];

/// An optimised episode.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimalTrajectory {
    /// Torque per period [N·m], inside the torque limit.
    pub actions: Vec<f64>,
    /// The return of `actions` replayed through the reference model.
    pub ret: f64,
    /// The start the best sequence was refined from.
    pub start: Start,
}

/// The trajectory optimiser of one reference model; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct TrajectoryOptimizer {
    params: PendulumParams,
    dynamics: Dynamics,
    grids: Vec<ValueGrid>,
    swing_ups: Vec<EnergySwingUp>,
    settings: IlqrSettings,
}

impl TrajectoryOptimizer {
    /// Builds the optimiser for the reference model with `params` (its episode length is the
    /// horizon), running the dynamic-programming pass of each of `grids` on `threads` threads.
    pub fn new(
        params: &PendulumParams,
        grids: &[GridSpec],
        threads: usize,
    ) -> Result<Self, ParamError> {
        params.validate()?;
        if grids.is_empty() {
            return Err(ParamError::ZeroCount { name: "grids" });
        }
        for grid in grids {
            check_grid(grid)?;
        }
        let dynamics = Dynamics::new(params);
        let steps = params.max_episode_steps;
        Ok(Self {
            params: params.clone(),
            dynamics,
            grids: grids
                .iter()
                .map(|g| ValueGrid::build(&dynamics, *g, steps, threads))
                .collect(),
            swing_ups: ENERGY_GAINS
                .iter()
                .map(|&k| EnergySwingUp::new(params).map(|c| c.with_energy_gain(k)))
                .collect::<Result<_, _>>()?,
            settings: IlqrSettings::default(),
        })
    }

    /// The optimiser for `rig`, which must be deterministic: the reference model
    /// (`model = "reference"`). The high-fidelity plant (another integrator, lag, delay,
    /// friction) is refused with [`RigError::NotDeterministicReference`].
    pub fn for_rig(rig: &Rig, threads: usize) -> Result<Self, RigError> {
        if rig.model != RigModel::Reference {
            return Err(RigError::NotDeterministicReference {
                rig: rig.name.clone(),
            });
        }
        Self::new(&rig.reference_params(), &DEFAULT_GRIDS, threads).map_err(|source| {
            RigError::Param {
                rig: rig.name.clone(),
                source,
            }
        })
    }

    /// The model's parameters.
    pub fn params(&self) -> &PendulumParams {
        &self.params
    }

    /// The first (finest) grid's estimate of the optimal return from `x0` (`−V_0(x0)`,
    /// interpolated).
    pub fn grid_return(&self, x0: Vector2<f64>) -> f64 {
        -self.grids[0].value(0, [x0.x, x0.y])
    }

    /// The best return found from `x0` over all starts (see the [module docs](self)).
    pub fn solve(&self, x0: Vector2<f64>, ws: &mut Workspace) -> OptimalTrajectory {
        let x = [x0.x, x0.y];
        let steps = self.params.max_episode_steps;
        let mut best: Option<(f64, Vec<f64>, Start)> = None;
        let mut actions = vec![0.0; steps];
        for start in self.starts() {
            self.initial_guess(start, x, &mut actions);
            let cost = ilqr::optimise(&self.dynamics, x, &mut actions, &self.settings, ws);
            if best.as_ref().is_none_or(|b| cost < b.0) {
                best = Some((cost, actions.clone(), start));
            }
        }
        let (_, actions, start) = best.expect("at least one start");
        self.finish(x0, actions, start)
    }

    /// Refines a caller's action sequence from `x0` (e.g. a policy's own episode): the result
    /// is never worse than `initial` (length: the episode length).
    pub fn refine(
        &self,
        x0: Vector2<f64>,
        initial: &[f64],
        ws: &mut Workspace,
    ) -> OptimalTrajectory {
        let mut actions = initial.to_vec();
        actions.resize(self.params.max_episode_steps, 0.0);
        ilqr::optimise(
            &self.dynamics,
            [x0.x, x0.y],
            &mut actions,
            &self.settings,
            ws,
        );
        self.finish(x0, actions, Start::Given)
    }

    /// Replays `actions` through the reference model for the reported return.
    fn finish(&self, x0: Vector2<f64>, actions: Vec<f64>, start: Start) -> OptimalTrajectory {
        let ret = replay(&self.params, x0, &actions);
        OptimalTrajectory {
            actions,
            ret,
            start,
        }
    }

    /// Every start [`TrajectoryOptimizer::solve`] tries: each grid's rollout, then each energy
    /// gain with no push and with each push length in both directions.
    pub fn starts(&self) -> impl Iterator<Item = Start> + '_ {
        let u = self.dynamics.max_torque;
        let swing = ENERGY_GAINS.iter().flat_map(move |&energy_gain| {
            PUSH_STEPS.iter().flat_map(move |&steps| {
                let pushes: &[f64] = if steps == 0 { &[0.0] } else { &[1.0, -1.0] };
                pushes.iter().map(move |&sign| Start::SwingUp {
                    push: sign * u,
                    steps,
                    energy_gain,
                })
            })
        });
        (0..self.grids.len()).map(Start::Grid).chain(swing)
    }

    /// A closed-loop rollout to start the local optimiser from.
    fn initial_guess(&self, start: Start, x0: [f64; 2], actions: &mut [f64]) {
        let d = &self.dynamics;
        let (push, steps, gain) = match start {
            Start::SwingUp {
                push,
                steps,
                energy_gain,
            } => (push, steps, energy_gain),
            Start::Grid(i) => {
                self.grids[i.min(self.grids.len() - 1)].rollout(d, x0, actions);
                return;
            }
            Start::Given => {
                actions.fill(0.0);
                return;
            }
        };
        let controller = ENERGY_GAINS
            .iter()
            .position(|&k| k == gain)
            .and_then(|i| self.swing_ups.get(i))
            .unwrap_or(&self.swing_ups[0]);
        let mut x = x0;
        for (t, a) in actions.iter_mut().enumerate() {
            *a = if t < steps {
                push
            } else {
                let (s, c) = x[0].sin_cos();
                f64::from(controller.act(&[c as f32, s as f32, x[1] as f32]))
            };
            x = d.step(x, *a);
        }
    }
}

fn check_grid(grid: &GridSpec) -> Result<(), ParamError> {
    for (name, value, min) in [
        ("grid.angles", grid.angles, 8),
        ("grid.speeds", grid.speeds, 3),
        ("grid.torques", grid.torques, 2),
    ] {
        if value < min {
            return Err(ParamError::TooSmall {
                name,
                value: value as u64,
                min: min as u64,
            });
        }
    }
    Ok(())
}

/// The return of `actions` from `x0` on the reference model with `params`, step by step
/// through [`Pendulum::step_torque`].
pub fn replay(params: &PendulumParams, x0: Vector2<f64>, actions: &[f64]) -> f64 {
    let Ok(mut env) = Pendulum::new(params.clone()) else {
        return f64::NAN;
    };
    env.set_state(x0);
    actions.iter().map(|&u| env.step_torque(u).reward).sum()
}
