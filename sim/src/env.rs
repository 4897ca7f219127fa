//! The environment interface shared by the trainer, the runtime's closed-loop tests and the
//! hardware-in-the-loop host.

/// Result of one environment step (the observation is written into the caller's buffer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepResult {
    /// Reward for the transition, computed from the state *before* the step.
    pub reward: f64,
    /// The episode ended because of the task (a terminal state): do not bootstrap.
    /// Always `false` for the pendulum.
    pub terminated: bool,
    /// The episode was cut by the time limit: not a terminal state, bootstrap through it.
    pub truncated: bool,
}

/// A seeded, allocation-free episodic environment with continuous observations and actions.
///
/// Buffers are supplied by the caller so that [`Environment::step`] never allocates.
pub trait Environment {
    /// Number of observation elements.
    fn observation_dim(&self) -> usize;
    /// Number of action elements.
    fn action_dim(&self) -> usize;
    /// Lower action bound per element (length [`Environment::action_dim`]).
    fn action_low(&self) -> &[f32];
    /// Upper action bound per element (length [`Environment::action_dim`]).
    fn action_high(&self) -> &[f32];
    /// Lower observation bound per element (may be `-inf`).
    fn observation_low(&self) -> &[f32];
    /// Upper observation bound per element (may be `+inf`).
    fn observation_high(&self) -> &[f32];
    /// Maximum number of steps in an episode before truncation.
    fn max_episode_steps(&self) -> usize;
    /// Starts a new episode whose initial state is drawn from an RNG seeded with `seed`,
    /// and writes the first observation into `obs` (length [`Environment::observation_dim`]).
    fn reset(&mut self, seed: u64, obs: &mut [f32]);
    /// Applies `action` (clipped to the bounds by the environment) for one control period and
    /// writes the next observation into `obs`.
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> StepResult;
}
