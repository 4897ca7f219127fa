//! # policy-runtime
//!
//! **Design rule: inference never allocates, never panics and does the same work for every
//! input; every size is a const generic, so a policy's memory is known at compile time.**
//! Weight files are validated completely when loaded, so that nothing needs checking later.
//!
//! The crate is `#![no_std]`, has no `alloc`, and forbids `unsafe`.
//!
//! - [`Policy`] — a DDPG actor `OBS-H1-H2-ACT` (Linear→ReLU→Linear→ReLU→Linear→tanh, with
//!   observation normalisation and action bounds) in fixed-size arrays, built at compile
//!   time ([`Policy::from_raw`], weights in flash) or from a weight file at run time
//!   ([`Policy::from_bytes`]). [`Policy::act`] maps an observation to an [`Output`]: an
//!   action always finite and within bounds, and a [`Status`] saying whether it is the
//!   network's or the safe action (non-finite observation).
//! - [`Int8Policy`] — the same actor quantised to int8 (int8 weights per output channel,
//!   int8 activations, int32 accumulators, integer requantisation; f32 only for the input
//!   normalisation and the output's tanh and scaling), from an int8 weight file (`PLQ8`,
//!   [`format::decode_int8`]). Same rules: no allocation, no panic path, constant work.
//! - [`format`] — the weight file (postcard + CRC-32, specified in `FORMAT.md`):
//!   [`format::encode`] for writers, [`format::decode`] for readers that learn the
//!   dimensions at run time.
//!
//! ## Numerics
//!
//! Every output of a layer is summed in an order fixed by the layer's shape alone (see
//! `inference.rs`), and tanh is `1 - 2/(2^t + 1)` with `t = 2y·log2(e)` and `2^t` computed
//! in f32 from the exponent bits and a degree-6 polynomial (max abs error 1.9e-7, no call,
//! no table, no branch), so the same weights give bit-identical actions on every target and
//! build (checked on x86-64 SSE2 and AVX-512 by `tests/summation_order.rs`, and against the
//! Cortex-M4F firmware by the workspace's HIL tests). Actions agree with an f64
//! implementation within 1e-5 (`tests/agreement.rs`). No fused multiply-add: `a * b + c`
//! already compiles to one `vmla.f32` (rounded like separate multiply and add) on
//! Cortex-M4F, while a software `fmaf` (libm's) is a call of a software routine there
//! (checked in the `thumbv7em` assembly), as it would be on the default x86-64 target, and
//! would break the bit-identity.
//!
//! ## Memory and code size (Cortex-M4F)
//!
//! Measured with `size-probe/` (`thumbv7em-none-eabihf`, release, LTO, opt-level 3):
//!
//! | | 3-64-64-1 | 3-256-256-1 |
//! |---|---|---|
//! | `size_of::<Policy>()` (flash in a `static`, RAM when loaded; weights 64-byte aligned) | 17,984 B | 268,352 B |
//! | activations of one [`Policy::act`] (`OBS + H1 + H2 + 2·ACT` f32) | 532 B | 2,068 B |
//! | stack of one [`Policy::act`] (frame incl. activations + callees) | 640 B | 2,192 B |
//! | `.text` of the inference path | 2,642 B | 2,606 B |
//! | `.text` of [`Policy::load`] (decode + validate; bitwise CRC, no table) | about 9,150 B | |
//! | stack of [`Policy::load`] | about 0.6 KB | |
//!
//! `size-probe/check.sh` also checks that no panic code is linked into these images: the
//! inference and loading paths have no panic path at all.
//!
//! The inner loop of the 64x64 layer is 2.28 instructions per multiply-add (`vldr` +
//! `vmla.f32`, no call; static count of the loop body in the disassembly). In the firmware
//! on QEMU (`cargo run --release -p hil -- bench`), one inference takes 11,493 instructions
//! for 3-64-64-1 (2.64 per multiply-add) and 160,048 for 3-256-256-1 (2.40); the firmware
//! measures 624 B and 2,192 B of inference stack.
//!
//! ```
//! use policy_runtime::{Policy, Status};
//!
//! // A 2-2-2-1 actor whose weights sit in a `static` (flash on a microcontroller).
//! static POLICY: Policy<2, 2, 2, 1> = Policy::from_raw(
//!     [0.0, 0.0], [1.0, 1.0],                // observation offset, scale
//!     [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0],  // layer 0 weights [out][in], bias
//!     [[1.0, 1.0], [0.5, -1.0]], [0.0, 0.0], // layer 1
//!     [[1.0, -1.0]], [0.0],                  // layer 2
//!     [-2.0], [2.0],                         // action bounds
//! );
//! let out = POLICY.act(&[0.5, 0.25]);
//! assert_eq!(out.status, Status::Ok);
//! assert!((out.action[0] - 2.0 * 0.75f32.tanh()).abs() < 1e-6);
//! assert_eq!(POLICY.act(&[f32::NAN, 0.0]).status, Status::NonFiniteObservation);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

#[cfg(feature = "alloc")]
mod dynamic;
pub mod format;
mod inference;
mod int8;
mod layout;
mod output;
#[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
mod pairs;
mod policy;
#[cfg(any(test, all(target_arch = "arm", not(target_has_atomic = "32"))))]
mod rows;
mod shape;

#[cfg(feature = "alloc")]
pub use dynamic::{DynPolicy, LengthMismatch};
pub use format::{EncodeError, Field, LoadError, Precision};
pub use int8::{HIDDEN_ZERO_POINT, Int8Policy, quantize_input, requantize};
pub use output::{Output, Status};
pub use policy::Policy;
pub use shape::Shape;
