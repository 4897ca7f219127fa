//! `firmware`: the link server (what `hil` builds and a board runs). See the library docs.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
#[cfg(board_link)]
use firmware::{control_loop, fatal, link, measure_inference_stack, start_clock};

#[cfg(not(board_link))]
#[entry]
fn main() -> ! {
    firmware::fatal(
        "this board has no serial link driver (the M4F and M0 boards have one): run `selftest` here",
    )
}

#[cfg(board_link)]
#[entry]
fn main() -> ! {
    let inference_stack = measure_inference_stack();
    let calibration = start_clock();
    let Some(rx) = link::init() else {
        fatal("the serial port was initialised twice")
    };
    control_loop::Board::new(rx, calibration, inference_stack).run()
}
