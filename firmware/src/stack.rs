//! Stack-use measurement by painting: fill the free stack with a pattern, run, and find the
//! deepest word that was overwritten.

use core::arch::asm;

const PAINT: u32 = 0xDEAD_BEEF;
/// Bytes just below the current stack pointer that are left unpainted (the caller's own use).
const MARGIN: usize = 16;

unsafe extern "C" {
    /// Lowest address the stack may grow down to, from cortex-m-rt's linker script: the end of
    /// `.bss` in the default layout, the start of RAM with flip-link (stack below the statics).
    static mut _stack_end: u32;
    /// Initial stack pointer (top of RAM) from cortex-m-rt's linker script.
    static mut _stack_start: u32;
}

fn stack_limit() -> usize {
    &raw const _stack_end as usize
}

/// Top of the stack (initial stack pointer).
pub fn top() -> usize {
    &raw const _stack_start as usize
}

/// Paints every free stack word below the current stack pointer (minus a margin).
#[inline(always)]
pub fn paint() {
    let sp = cortex_m::register::msp::read() as usize - MARGIN;
    let start = stack_limit();
    // SAFETY: writes only the unused part of the stack between the stack limit and the current
    // stack pointer, with a register-only loop that uses no stack itself.
    unsafe {
        asm!(
            "2:",
            "cmp {p}, {end}",
            "bhs 3f",
            // Store and step separately: Thumb-1 (Cortex-M0) has no post-indexed store.
            "str {pat}, [{p}]",
            "adds {p}, #4",
            "b 2b",
            "3:",
            p = inout(reg) start => _,
            end = in(reg) sp,
            pat = in(reg) PAINT,
            options(nostack)
        );
    }
}

/// Lowest stack address that is no longer painted: the deepest the stack has reached.
pub fn low_water() -> usize {
    let mut p = stack_limit();
    let top = top();
    while p < top {
        // SAFETY: reads RAM between the stack limit and the top of the stack.
        if unsafe { core::ptr::read_volatile(p as *const u32) } != PAINT {
            break;
        }
        p += 4;
    }
    p
}

/// Current stack pointer.
#[inline(always)]
pub fn sp() -> usize {
    cortex_m::register::msp::read() as usize
}
