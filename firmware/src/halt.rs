//! Stopping the firmware: after `Bye`, on a fatal error, on a panic and on a hard fault.
//!
//! With the `qemu` feature (default; what `hil` builds) the firmware ends QEMU with an exit
//! status over semihosting. Without it (a real board: `--no-default-features`, see `boards/`)
//! there is no semihosting call at all, so a board without a debugger attached does not trap:
//! the core stops in a `wfi` loop until it is reset.
//!
//! A panic is logged (location and message, see [`panic`]) and ends in a `udf`, that is a hard
//! fault: [`HardFault`] below ends QEMU with a failure status; on a board, probe-rs reports the
//! fault and the log.

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

/// Hard faults, including the one the panic handler raises after logging a panic.
///
/// # Safety
/// Called by the hardware only (cortex-m-rt requires the handler to be `unsafe`).
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("hard fault at pc {=u32:#010x}", frame.pc());
    defmt::flush();
    exit(1)
}

/// The panic handler (without the `panic-message` feature): logs the panic's location and, when
/// it is a literal string (`panic!("…")`, `expect("…")`, the defmt transports' checks), its
/// message, then raises a hard fault. No `core::fmt`: the firmware's code has no panic path of
/// its own, and formatting a `PanicInfo` on the board costs about 3 KB of flash
/// (`firmware/README.md`). A panic inside the handler (the log itself panicking) goes straight
/// to the fault.
#[cfg(not(feature = "panic-message"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::sync::atomic::{AtomicBool, Ordering};
    // Load and store, not swap: Armv6-M has no atomic read-modify-write. Interrupts are off,
    // and every supported core is single-core, so nothing runs in between.
    static PANICKED: AtomicBool = AtomicBool::new(false);
    cortex_m::interrupt::disable();
    if !PANICKED.load(Ordering::Relaxed) {
        PANICKED.store(true, Ordering::Relaxed);
        let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
        let message = info
            .message()
            .as_str()
            .unwrap_or("(formatted; build with the `panic-message` feature to see it)");
        defmt::error!("panicked at {=str}:{=u32}: {=str}", file, line, message);
    }
    cortex_m::asm::udf()
}
