//! The dimensions of a policy network.

use core::fmt;

/// The layer sizes of an actor network: `obs`-`hidden1`-`hidden2`-`act`.
///
/// Displayed as `3-64-64-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Observation (input) dimension.
    pub obs: usize,
    /// Width of the first hidden layer.
    pub hidden1: usize,
    /// Width of the second hidden layer.
    pub hidden2: usize,
    /// Action (output) dimension.
    pub act: usize,
}

impl Shape {
    /// Number of multiply-adds of one forward pass (all three linear layers).
    pub const fn multiply_adds(&self) -> usize {
        self.obs * self.hidden1 + self.hidden1 * self.hidden2 + self.hidden2 * self.act
    }

    /// Number of parameters (weights and biases of the three layers).
    pub const fn parameters(&self) -> usize {
        self.multiply_adds() + self.hidden1 + self.hidden2 + self.act
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}",
            self.obs, self.hidden1, self.hidden2, self.act
        )
    }
}
