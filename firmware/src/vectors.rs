//! The device-specific part of the vector table on the board that has no PAC, the MPS2+ AN505
//! (Cortex-M33F): one entry per interrupt line of the device, each cortex-m-rt's default
//! handler. The AN505 has 124 lines, the IoT Kit subsystem's 32 and the FPGA image's 92 (QEMU's
//! `mps2-an505`: `numirq = 92`), so the table takes 496 B. Without it cortex-m-rt links the
//! architectural maximum of Armv8-M Mainline, 480 entries (1,920 B of flash).
//!
//! No interrupt is enabled on this board (it runs the self-test and the benchmark only); a
//! board with a PAC (the STM32F405, the nRF51) gets its table from the PAC instead.

/// Interrupt lines of the AN505.
const LINES: usize = 32 + 92;

/// One entry of the table.
type Handler = unsafe extern "C" fn();

unsafe extern "C" {
    /// cortex-m-rt's default handler (`link.x`: `DefaultHandler_` unless the firmware defines
    /// one).
    fn DefaultHandler();
}

/// The interrupts portion of the vector table, placed by cortex-m-rt's `link.x` right after
/// the exceptions (its `device` feature, with this board's empty `device.x`).
#[unsafe(link_section = ".vector_table.interrupts")]
#[unsafe(no_mangle)]
#[used]
static __INTERRUPTS: [Handler; LINES] = [DefaultHandler; LINES];
