//! The C API of `policy-runtime`: the pendulum actor (3-64-64-1, an f32 or an int8 weight file)
//! for C firmware, with no allocation and no global state.
//!
//! Design rule: the caller owns every byte. A policy lives in storage the caller provides
//! (`PLR_STORAGE_SIZE` bytes, aligned to `PLR_STORAGE_ALIGN`, e.g. a `static` array). A call
//! returns a documented integer code and never panics. Nothing is allocated, and the weight
//! file is validated exactly as the Rust runtime validates it.
//!
//! The header `include/policy_runtime.h` is generated from this file by cbindgen; the test
//! `header_is_current` fails when it is stale. Codes:
//!
//! | code | meaning |
//! | --- | --- |
//! | `PLR_OK` (0) | success; from `plr_act`: the action is the network's |
//! | `PLR_NON_FINITE_OBSERVATION` (1) | `plr_act`: an observation was NaN or ±∞; the safe action was written |
//! | `PLR_NON_FINITE_OUTPUT` (2) | `plr_act`: the network's output was not finite; the safe action was written |
//! | `PLR_ERR_NULL` (−1) | a pointer argument is null |
//! | `PLR_ERR_STORAGE_SIZE` (−2) | the storage is smaller than `plr_storage_size()` |
//! | `PLR_ERR_STORAGE_ALIGN` (−3) | the storage is not aligned to `PLR_STORAGE_ALIGN` |
//! | `PLR_ERR_NOT_LOADED` (−4) | `plr_act` on storage no successful `plr_load` has filled |
//! | `PLR_ERR_LENGTH` (−5) | `obs_len` is not 3 or `action_len` is not 1 |
//! | `PLR_ERR_SHAPE` (−6) | the file's network is not 3-64-64-1 |
//! | `PLR_ERR_FORMAT` (−7) | the file is not a valid weight file (truncated, bad magic or version, CRC, malformed) |
//! | `PLR_ERR_CONTENTS` (−8) | the file is well-formed but a value breaks the format's rules (non-finite weight, bad bounds, …) |
//!
//! A failed `plr_load` leaves the storage as it was: a policy loaded before stays usable.
#![no_std]
// The C boundary takes raw pointers from C; each `unsafe` block states what it relies on.
#![allow(unsafe_code)]

#[cfg(not(target_os = "none"))]
extern crate std;

use core::mem::{align_of, size_of};

use policy_runtime::format::precision_of;
use policy_runtime::{Int8Policy, LoadError, Policy, Precision, Status};

/// Observations of the pendulum policy: `cos θ`, `sin θ`, `θ̇` (rad/s).
pub const PLR_OBS: usize = 3;
/// Actions of the pendulum policy: the torque (N·m).
pub const PLR_ACT: usize = 1;
/// Bytes of storage one policy needs (at least `plr_storage_size()`).
pub const PLR_STORAGE_SIZE: usize = 24_064;
/// Alignment the storage needs, bytes.
pub const PLR_STORAGE_ALIGN: usize = 64;

/// The result of every call: zero or positive for success, negative for an error. In C an
/// `enum` of `int32_t` values (`PLR_OK`, `PLR_ERR_NULL`, …), so the names are constants
/// of the compiler rather than macros.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlrStatus {
    /// Success (and, from `plr_act`, the network's own action).
    PlrOk = 0,
    /// `plr_act`: a non-finite observation; the safe action was written.
    PlrNonFiniteObservation = 1,
    /// `plr_act`: a non-finite network output; the safe action was written.
    PlrNonFiniteOutput = 2,
    /// A pointer argument is null.
    PlrErrNull = -1,
    /// The storage is smaller than `plr_storage_size()`.
    PlrErrStorageSize = -2,
    /// The storage is not aligned to `PLR_STORAGE_ALIGN`.
    PlrErrStorageAlign = -3,
    /// No policy has been loaded into this storage.
    PlrErrNotLoaded = -4,
    /// `obs_len` or `action_len` is not the policy's.
    PlrErrLength = -5,
    /// The file's network is not 3-64-64-1.
    PlrErrShape = -6,
    /// The file is not a valid weight file.
    PlrErrFormat = -7,
    /// A value of the file breaks the format's rules.
    PlrErrContents = -8,
}

use PlrStatus::{
    PlrErrContents as PLR_ERR_CONTENTS, PlrErrFormat as PLR_ERR_FORMAT,
    PlrErrLength as PLR_ERR_LENGTH, PlrErrNotLoaded as PLR_ERR_NOT_LOADED,
    PlrErrNull as PLR_ERR_NULL, PlrErrShape as PLR_ERR_SHAPE,
    PlrErrStorageAlign as PLR_ERR_STORAGE_ALIGN, PlrErrStorageSize as PLR_ERR_STORAGE_SIZE,
    PlrNonFiniteObservation as PLR_NON_FINITE_OBSERVATION,
    PlrNonFiniteOutput as PLR_NON_FINITE_OUTPUT, PlrOk as PLR_OK,
};

type F32Policy = Policy<PLR_OBS, 64, 64, PLR_ACT>;
type QPolicy = Int8Policy<PLR_OBS, 64, 64, PLR_ACT>;

/// Tag of a filled storage (so garbage in fresh storage never reads as a policy).
const TAG_F32: u32 = 0x504C_4632;
const TAG_INT8: u32 = 0x504C_5138;

/// What the caller's storage holds.
#[repr(C, align(64))]
struct Slot {
    tag: u32,
    f32: core::mem::MaybeUninit<F32Policy>,
    int8: core::mem::MaybeUninit<QPolicy>,
}

const _: () = assert!(size_of::<Slot>() <= PLR_STORAGE_SIZE);
const _: () = assert!(align_of::<Slot>() == PLR_STORAGE_ALIGN);

/// Bytes of storage one policy needs.
#[unsafe(no_mangle)]
pub extern "C" fn plr_storage_size() -> usize {
    size_of::<Slot>()
}

fn load_code(e: &LoadError) -> PlrStatus {
    match e {
        LoadError::ShapeMismatch { .. } | LoadError::UnsupportedShape { .. } => PLR_ERR_SHAPE,
        LoadError::Truncated
        | LoadError::BadMagic
        | LoadError::UnsupportedVersion { .. }
        | LoadError::Malformed { .. }
        | LoadError::TrailingBytes { .. }
        | LoadError::ChecksumMismatch { .. }
        | LoadError::WrongPrecision { .. } => PLR_ERR_FORMAT,
        _ => PLR_ERR_CONTENTS,
    }
}

/// The storage as a slot, after the size and alignment checks.
fn slot_ptr(storage: *mut u8, storage_len: usize) -> Result<*mut Slot, PlrStatus> {
    if storage.is_null() {
        return Err(PLR_ERR_NULL);
    }
    if storage_len < size_of::<Slot>() {
        return Err(PLR_ERR_STORAGE_SIZE);
    }
    if (storage as usize) % align_of::<Slot>() != 0 {
        return Err(PLR_ERR_STORAGE_ALIGN);
    }
    Ok(storage.cast::<Slot>())
}

/// Validates the weight file `bytes[..len]` (f32 `PLCY` or int8 `PLQ8`, 3-64-64-1) and loads
/// it into `storage` (`storage_len` bytes, at least `plr_storage_size()`, aligned to
/// `PLR_STORAGE_ALIGN`). Returns `PLR_OK` or a negative code; on error the storage is
/// unchanged. The file's bytes are copied: they need not outlive the call.
///
/// # Safety
/// `storage` must point to `storage_len` writable bytes not used for anything else while the
/// policy lives there, and `bytes` to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn plr_load(
    storage: *mut u8,
    storage_len: usize,
    bytes: *const u8,
    len: usize,
) -> PlrStatus {
    let slot = match slot_ptr(storage, storage_len) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if bytes.is_null() {
        return PLR_ERR_NULL;
    }
    // SAFETY: the caller guarantees `len` readable bytes at `bytes`.
    let file = unsafe { core::slice::from_raw_parts(bytes, len) };
    match precision_of(file) {
        Some(Precision::F32) => match F32Policy::from_bytes(file) {
            Ok(p) => {
                // SAFETY: `slot` is non-null, aligned and large enough (checked), and the
                // caller reserves the storage; the fields are written without reading.
                unsafe {
                    (*slot).f32.write(p);
                    (*slot).tag = TAG_F32;
                }
                PLR_OK
            }
            Err(e) => load_code(&e),
        },
        Some(Precision::Int8) => match QPolicy::from_bytes(file) {
            Ok(p) => {
                // SAFETY: as above.
                unsafe {
                    (*slot).int8.write(p);
                    (*slot).tag = TAG_INT8;
                }
                PLR_OK
            }
            Err(e) => load_code(&e),
        },
        _ => PLR_ERR_FORMAT,
    }
}

/// Computes the action for `obs[..obs_len]` (`obs_len` = 3: `cos θ`, `sin θ`, `θ̇`) into
/// `action[..action_len]` (`action_len` = 1), with the policy `plr_load` put in `storage`.
/// Returns `PLR_OK`, `PLR_NON_FINITE_OBSERVATION` or `PLR_NON_FINITE_OUTPUT` (the action is
/// then the safe action, zero clamped into the bounds), or a negative code (nothing written).
/// The same work for every input; bit-identical to the Rust runtime's action.
///
/// # Safety
/// `storage` must be the storage of a successful `plr_load`, or zeroed or `plr_init`ed
/// storage (which gives `PLR_ERR_NOT_LOADED`); `obs` must point to `obs_len` readable floats
/// and `action` to `action_len` writable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn plr_act(
    storage: *const u8,
    storage_len: usize,
    obs: *const f32,
    obs_len: usize,
    action: *mut f32,
    action_len: usize,
) -> PlrStatus {
    let slot = match slot_ptr(storage.cast_mut(), storage_len) {
        Ok(s) => s.cast_const(),
        Err(code) => return code,
    };
    if obs.is_null() || action.is_null() {
        return PLR_ERR_NULL;
    }
    if obs_len != PLR_OBS || action_len != PLR_ACT {
        return PLR_ERR_LENGTH;
    }
    // SAFETY: the caller guarantees `obs_len` readable floats at `obs`.
    let o = unsafe { &*obs.cast::<[f32; PLR_OBS]>() };
    // SAFETY: `slot` is checked; its tag is written only after its policy field (plr_load), so
    // a tag names an initialised field; zeroed or `plr_init`ed storage has tag 0.
    let out = unsafe {
        match (*slot).tag {
            TAG_F32 => (*slot).f32.assume_init_ref().act(o),
            TAG_INT8 => (*slot).int8.assume_init_ref().act(o),
            _ => return PLR_ERR_NOT_LOADED,
        }
    };
    // SAFETY: the caller guarantees `action_len` (= 1) writable floats at `action`.
    unsafe { action.write(out.action[0]) };
    match out.status {
        Status::Ok => PLR_OK,
        Status::NonFiniteObservation => PLR_NON_FINITE_OBSERVATION,
        _ => PLR_NON_FINITE_OUTPUT,
    }
}

/// Marks `storage` as holding no policy (call once on fresh storage whose contents are
/// unknown, e.g. not zeroed `.bss`, before any `plr_act`). Returns `PLR_OK` or a negative code.
///
/// # Safety
/// As `plr_load`'s `storage`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn plr_init(storage: *mut u8, storage_len: usize) -> PlrStatus {
    match slot_ptr(storage, storage_len) {
        Ok(slot) => {
            // SAFETY: checked pointer; writes the tag only.
            unsafe { (*slot).tag = 0 };
            PLR_OK
        }
        Err(code) => code,
    }
}

#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // No panic path is expected (policy-runtime has none); stop here if one is ever reached.
    loop {
        core::hint::spin_loop();
    }
}
