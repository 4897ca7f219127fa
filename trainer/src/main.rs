//! `trainer`: train a DDPG pendulum controller, evaluate exported policies.
//! See `trainer --help`; the work is done in the `trainer` library.

use clap::Parser;
use std::process::ExitCode;

// A training step makes a few hundred short-lived allocations (candle's tensors and graph
// nodes); mimalloc serves them faster than glibc's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use trainer::cli::{Cli, run, threads_for};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = threads_for(&cli).and_then(|threads| {
        pin_candle_threads(threads);
        run(cli)
    });
    cli_report::exit(outcome)
}

/// candle's CPU matmul reads its thread count from `RAYON_NUM_THREADS` on every call.
#[allow(unsafe_code)]
fn pin_candle_threads(threads: usize) {
    // SAFETY: called from `main` before any other thread exists (no concurrent env access).
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
}
