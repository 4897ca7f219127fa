//! Flush-to-zero for the gradient step: subnormal floats are treated as zero while a
//! [`FlushDenormals`] guard lives.
//!
//! Why: where the actor's tanh saturates (a bang-bang swing-up), its gradients reach
//! 1e-30 and below, and Adam's moments and the backward pass then meet subnormal numbers,
//! which x86 cores handle in microcode at about a hundred times the normal cost. Measured on
//! the default 10,000-step run: Adam's actor step took 24 µs per update with subnormals and
//! 1 µs with them flushed (BENCHMARKS.md, "Training speed"). A subnormal `f32` is below
//! 1.2e-38, far under anything that moves a weight, so flushing it does not change what is
//! learned; the same seed still gives the same result on the same machine.
//!
//! The guard sets the thread's floating-point control register (x86-64: MXCSR's FTZ and DAZ
//! bits; AArch64: FPCR's FZ bit) and restores the previous value when dropped, so code after
//! the update (evaluation through `policy-runtime`, export) keeps IEEE semantics. On other
//! architectures it does nothing.

/// While alive, the current thread flushes subnormal floats to zero (inputs and results).
/// Restores the previous floating-point mode on drop.
#[must_use = "the mode is restored when the guard is dropped"]
pub struct FlushDenormals {
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(dead_code)
    )]
    saved: u64,
}

impl FlushDenormals {
    /// Turns flush-to-zero on for the current thread.
    pub fn new() -> Self {
        let saved = imp::read();
        imp::write(saved | imp::FLUSH_BITS);
        Self { saved }
    }
}

impl Default for FlushDenormals {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for FlushDenormals {
    fn drop(&mut self) {
        imp::write(self.saved);
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod imp {
    use std::arch::asm;

    /// MXCSR bit 15 (FTZ, flush results) and bit 6 (DAZ, treat inputs as zero).
    pub const FLUSH_BITS: u64 = (1 << 15) | (1 << 6);

    pub fn read() -> u64 {
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr` stores the 32-bit MXCSR into the local `csr`, which is valid for
        // writes; it changes no other state.
        unsafe {
            asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
        }
        u64::from(csr)
    }

    pub fn write(value: u64) {
        // Only the low 32 bits exist; every value written is one read from MXCSR with FTZ and
        // DAZ possibly set, so no reserved bit is set (which would fault).
        let csr = value as u32;
        // SAFETY: `ldmxcsr` loads MXCSR from the local `csr`; the value is a previously read
        // MXCSR with at most the FTZ and DAZ bits added (both defined on every x86-64 core).
        unsafe {
            asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly));
        }
    }
}

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod imp {
    use std::arch::asm;

    /// FPCR bit 24 (FZ, flush subnormal inputs and results to zero).
    pub const FLUSH_BITS: u64 = 1 << 24;

    pub fn read() -> u64 {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effects.
        unsafe {
            asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags));
        }
        fpcr
    }

    pub fn write(value: u64) {
        // SAFETY: the value is a previously read FPCR with at most FZ added.
        unsafe {
            asm!("msr fpcr, {}", in(reg) value, options(nomem, nostack, preserves_flags));
        }
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    pub const FLUSH_BITS: u64 = 0;

    pub fn read() -> u64 {
        0
    }

    pub fn write(_: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest positive normal `f32` halved: a subnormal.
    fn subnormal_product() -> f32 {
        std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.5)
    }

    #[test]
    fn subnormals_flush_inside_the_guard_and_come_back_after_it() {
        let before = subnormal_product();
        assert!(
            before > 0.0 && !before.is_normal(),
            "IEEE mode outside the guard"
        );
        {
            let _guard = FlushDenormals::new();
            if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
                assert_eq!(subnormal_product(), 0.0, "flushed inside the guard");
            }
        }
        assert_eq!(subnormal_product(), before, "mode restored after the guard");
    }

    #[test]
    fn guards_nest() {
        let outer = FlushDenormals::new();
        {
            let _inner = FlushDenormals::new();
        }
        if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            assert_eq!(
                subnormal_product(),
                0.0,
                "the inner guard restores the outer mode"
            );
        }
        drop(outer);
        assert!(subnormal_product() > 0.0);
    }
}
