//! Behavioural checks of the `sim` crate (one test binary, one module per topic).

mod energy;
mod hifi_imperfections;
mod hifi_matches_reference;
mod swing_up;
