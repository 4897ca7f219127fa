//! DDPG trainer (placeholder, see issue 5).
