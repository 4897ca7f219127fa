//! DDPG (Lillicrap et al. 2015) for the pendulum in candle, with the pieces of the `trainer`
//! command-line tool: configuration, training loop, checkpoints, export to the
//! `policy-runtime` weight format, evaluation through `policy-runtime`, and plots.
//!
//! The binary (`src/main.rs`) is a thin command-line layer over [`train::Trainer`] and
//! [`eval`].

pub mod action_head;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod ddpg;
pub mod denormals;
pub mod error;
pub mod eval;
pub mod export;
pub mod fused_mlp;
pub mod losses;
pub mod metrics;
pub mod network;
pub mod noise;
pub mod optimizer;
pub mod optimum;
pub mod plot;
pub mod quality;
pub mod quantize;
mod regularisers;
pub mod replay;
pub mod rig_defaults;
pub mod robustness;
pub mod selection;
pub mod sweep;
pub mod train;
pub mod worker;

pub use config::{ConfigOverrides, NoiseKind, TrainConfig};
pub use ddpg::Ddpg;
pub use error::TrainError;
pub use train::{RunOptions, RunOutcome, Trainer};
