//! Behavioural checks of the `sim` crate (one test binary, one module per topic).

mod determinism;
mod energy;
mod golden;
mod hifi_imperfections;
mod hifi_matches_reference;
mod optimal;
mod params;
mod rig;
mod swing_up;
