//! Stopping the firmware: after `Bye`, on a fatal error, on a panic and on a hard fault.
//!
//! With the `qemu` feature (default; what `hil` builds) the firmware ends QEMU with an exit
//! status over semihosting. Without it (a real board: `--no-default-features`, see `boards/`)
//! there is no semihosting call at all, so a board without a debugger attached does not trap:
//! the core stops in a `wfi` loop until it is reset.
//!
//! A panic is logged by `panic-probe` (its message, formatted on the host by defmt) and ends in
//! a `udf`, that is a hard fault: [`HardFault`] below ends QEMU with a failure status; on a
//! board, probe-rs reports the fault and the log.

use cortex_m_rt::{ExceptionFrame, exception};

/// Ends the program after a clean shutdown.
pub fn success() -> ! {
    defmt::flush();
    exit(0)
}

/// Logs `msg` as an error and ends the program with a failure status.
pub fn failure(msg: &str) -> ! {
    defmt::error!("{=str}", msg);
    defmt::flush();
    exit(1)
}

#[cfg(feature = "qemu")]
fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[cfg(not(feature = "qemu"))]
fn exit(_code: i32) -> ! {
    park()
}

/// Sleeps forever (until reset).
#[cfg(not(feature = "qemu"))]
fn park() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

/// Hard faults, including the one `panic-probe` raises after logging a panic.
///
/// # Safety
/// Called by the hardware only (cortex-m-rt requires the handler to be `unsafe`).
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("hard fault at pc {=u32:#010x}", frame.pc());
    defmt::flush();
    exit(1)
}
