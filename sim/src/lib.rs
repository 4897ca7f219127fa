//! Pendulum dynamics (placeholder, see issue 2).
