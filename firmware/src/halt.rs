//! Stopping the firmware: after `Bye`, on a fatal error and on a panic.
//!
//! With the `qemu` feature (default; what `hil` builds) the firmware reports over semihosting
//! and ends QEMU with an exit status. Without it (a real board: `--no-default-features`, see
//! `boards/`) there is no semihosting call at all, so a board without a debugger attached
//! does not trap: the core stops in a `wfi` loop until it is reset.

/// Ends the program after a clean shutdown.
pub fn success() -> ! {
    #[cfg(feature = "qemu")]
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_SUCCESS);
    park()
}

/// Reports `parts` (concatenated, one line) and ends the program with a failure status.
///
/// Plain byte output, no `core::fmt`: formatting machinery would cost several KB of flash.
pub fn failure(parts: &[&str]) -> ! {
    #[cfg(feature = "qemu")]
    {
        use cortex_m_semihosting::{debug, hio};
        if let Ok(mut out) = hio::hstdout() {
            for p in parts {
                let _ = out.write_all(p.as_bytes());
            }
            let _ = out.write_all(b"\n");
        }
        debug::exit(debug::EXIT_FAILURE);
    }
    #[cfg(not(feature = "qemu"))]
    let _ = parts;
    park()
}

/// Sleeps forever (until reset).
fn park() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
