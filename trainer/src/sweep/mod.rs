//! Multi-seed studies and hyperparameter sweeps (`trainer sweep`).
//!
//! A sweep file ([`spec`]) names a base configuration, a rig, seeds and the config fields to
//! vary (a grid, a random sample, or both); it expands into configurations × seeds = jobs, each
//! an ordinary training run in its own folder under the sweep folder ([`folder`]). Jobs run
//! locally, several at a time ([`local`]), or as a Slurm job array ([`slurm`]); either way,
//! re-running resumes: finished jobs are kept, interrupted ones continue from their
//! checkpoints. [`report`] aggregates the finished jobs: mean and 95 % confidence interval over
//! seeds per configuration.

pub mod folder;
pub mod local;
pub mod report;
pub mod slurm;
pub mod spec;

pub use folder::{JobState, Manifest, SweepFolder};
pub use report::{SweepReport, aggregate};
pub use spec::{Job, SweepSpec};
