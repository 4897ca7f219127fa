//! The result of one inference.

/// What happened during one call of [`Policy::act`](crate::Policy::act).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The action is the network's output, scaled into the action bounds.
    Ok,
    /// An observation element was NaN or infinite: the action is the configured safe action.
    NonFiniteObservation,
    /// The observation was finite but so extreme that the network's output was NaN
    /// (for example `inf - inf` inside a layer): the action is the configured safe action.
    NonFiniteOutput,
}

/// An action together with how it was obtained.
///
/// The action is always finite and inside `[low, high]` per dimension, whatever the status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Output<const ACT: usize> {
    /// The action to apply.
    pub action: [f32; ACT],
    /// Whether the action came from the network ([`Status::Ok`]) or is the safe action.
    pub status: Status,
}

impl<const ACT: usize> Output<ACT> {
    /// `true` when the action is the network's output ([`Status::Ok`]).
    pub const fn is_ok(&self) -> bool {
        matches!(self.status, Status::Ok)
    }
}
