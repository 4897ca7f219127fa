//! Board time and instruction counting, both from SysTick on the core clock.
//!
//! *Time*: SysTick interrupts every millisecond of core-clock time and counts milliseconds;
//! [`now_us`] adds the fraction read from the counter. In QEMU with `-icount shift=0` the
//! core clock is QEMU's virtual clock: it advances 1 ns per executed instruction and, while
//! the core sleeps in `wfi`, with host time. On a real board it is the crystal-driven clock.
//!
//! *Instructions*: with `-icount shift=0`, SysTick advances `CORE_CLOCK_HZ / 1 GHz` counts per
//! executed instruction. [`Calibration`] times a loop of known length at start-up to get the
//! exact ratio and the overhead of the measurement itself. On a real board the same code gives
//! core cycles scaled by the calibration loop's cycles per instruction.

use core::arch::asm;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

use crate::config::CORE_CLOCK_HZ;

/// SysTick counts per millisecond.
const TICKS_PER_MS: u32 = CORE_CLOCK_HZ / 1000;
/// Period of the time base, microseconds.
pub const TICK_US: u32 = 1000;

static MILLIS: AtomicU32 = AtomicU32::new(0);

/// Starts SysTick on the core clock with a 1 ms interrupt.
pub fn init(syst: &mut SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(TICKS_PER_MS - 1);
    syst.clear_current();
    syst.enable_counter();
    syst.enable_interrupt();
}

/// SysTick interrupt body: one more millisecond.
pub fn on_tick() {
    // Only this handler writes `MILLIS`, so a load and a store need no read-modify-write
    // atomics (which the Cortex-M0 lacks).
    MILLIS.store(
        MILLIS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Release,
    );
}

fn current() -> u32 {
    SYST::get_current()
}

/// Microseconds since [`init`] (wraps after 71 minutes; callers use wrapping differences).
/// Call with interrupts enabled (it waits for a pending SysTick interrupt to run).
pub fn now_us() -> u32 {
    loop {
        let ms = MILLIS.load(Ordering::Acquire);
        let val = current();
        if MILLIS.load(Ordering::Acquire) == ms && !cortex_m::peripheral::SCB::is_pendst_pending() {
            // u32 is enough: TICKS_PER_MS * 1000 < 2^32 for clocks up to 4.29 GHz.
            let elapsed = (TICKS_PER_MS - 1 - val) * 1000 / TICKS_PER_MS;
            return ms.wrapping_mul(1000).wrapping_add(elapsed);
        }
        // The counter wrapped between the two reads or its interrupt is pending: let the
        // interrupt run (if enabled) and read again.
        cortex_m::asm::nop();
    }
}

/// SysTick counts elapsed between two counter reads `start` and `end` (down counter, at most
/// one wrap in between).
fn elapsed_ticks(start: u32, end: u32) -> u32 {
    if end <= start {
        start - end
    } else {
        start + TICKS_PER_MS - end
    }
}

/// Runs `f` with interrupts masked and returns its result and the SysTick counts it took.
/// `f` must take less than a millisecond of core-clock time.
#[inline(always)]
fn time<R>(f: impl FnOnce() -> R) -> (R, u32) {
    cortex_m::interrupt::free(|_| {
        let start = current();
        let r = core::hint::black_box(f());
        let end = current();
        (r, elapsed_ticks(start, end))
    })
}

/// Iterations of the calibration loop (2 instructions each).
const CAL_ITERATIONS: u32 = 5_000;

#[inline(never)]
fn calibration_loop(n: u32) {
    // SAFETY: a register-only count-down loop of exactly 2 instructions per iteration.
    unsafe {
        asm!("2:", "subs {n}, #1", "bne 2b", n = inout(reg) n => _, options(nomem, nostack));
    }
}

/// Conversion from SysTick counts to instructions, measured at start-up.
#[derive(Debug, Clone, Copy)]
pub struct Calibration {
    /// Counts taken by an empty measurement.
    overhead_ticks: u32,
    /// Instructions per SysTick count (f32 on the FPU: no 64-bit division code in flash;
    /// exact to well under one instruction for counts below 2^24).
    instructions_per_tick: f32,
}

impl Calibration {
    /// Times an empty measurement and a loop of `2 * CAL_ITERATIONS` instructions.
    pub fn measure() -> Self {
        let ((), empty) = time(|| ());
        let ((), full) = time(|| calibration_loop(CAL_ITERATIONS));
        let loop_ticks = full.saturating_sub(empty).max(1);
        Self {
            overhead_ticks: empty,
            instructions_per_tick: (2 * CAL_ITERATIONS) as f32 / loop_ticks as f32,
        }
    }

    /// Converts SysTick counts (with the measurement overhead included) to instructions.
    pub fn instructions(&self, ticks: u32) -> u32 {
        let net = ticks.saturating_sub(self.overhead_ticks);
        (net as f32 * self.instructions_per_tick + 0.5) as u32
    }

    /// Instructions per SysTick count (1 GHz / SysTick clock under QEMU `-icount shift=0`).
    pub fn instructions_per_tick(&self) -> f32 {
        self.instructions_per_tick
    }

    /// The measurement overhead in instructions (already subtracted by [`Self::instructions`]).
    pub fn overhead_instructions(&self) -> u32 {
        (self.overhead_ticks as f32 * self.instructions_per_tick + 0.5) as u32
    }

    /// The longest measurement that can be counted: one SysTick period (1 ms of core clock),
    /// in instructions. A longer one would wrap the counter more than once.
    pub fn window_instructions(&self) -> u32 {
        (TICKS_PER_MS as f32 * self.instructions_per_tick) as u32
    }

    /// Runs `f` with interrupts masked; returns its result and the instructions it took.
    #[inline(always)]
    pub fn count<R>(&self, f: impl FnOnce() -> R) -> (R, u32) {
        let (r, ticks) = time(f);
        (r, self.instructions(ticks))
    }
}
