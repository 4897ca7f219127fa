//! The C API of `policy-runtime`: the pendulum actor (3-64-64-1, or 4-64-64-1 for a policy
//! that also observes the previous action; an f32 or an int8 weight file) for C firmware, with
//! no allocation and no global state.
//!
//! Design rule: the caller owns every byte. A policy lives in storage the caller provides
//! (`PLR_STORAGE_SIZE` bytes for any policy, `PLR_STORAGE_SIZE_INT8` for an int8 one, aligned
//! to `PLR_STORAGE_ALIGN`, e.g. a `static` array). A call
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
//! | `PLR_ERR_STORAGE_SIZE` (−2) | the storage is smaller than the policy's network needs (`PLR_STORAGE_SIZE` any, `PLR_STORAGE_SIZE_INT8` an int8 one) |
//! | `PLR_ERR_STORAGE_ALIGN` (−3) | the storage is not aligned to `PLR_STORAGE_ALIGN` |
//! | `PLR_ERR_NOT_LOADED` (−4) | `plr_act` on storage no successful `plr_load` has filled |
//! | `PLR_ERR_LENGTH` (−5) | `obs_len` is not the loaded policy's (3 or 4) or `action_len` is not 1 |
//! | `PLR_ERR_SHAPE` (−6) | the file's network is neither 3-64-64-1 nor 4-64-64-1 |
//! | `PLR_ERR_FORMAT` (−7) | the file is not a valid weight file (truncated, bad magic or version, CRC, malformed) |
//! | `PLR_ERR_CONTENTS` (−8) | the file is well-formed but a value breaks the format's rules (non-finite weight, bad bounds, …) |
//!
//! A failed `plr_load` leaves the storage as it was: a policy loaded before stays usable.
//!
//! A policy trained with `--observe-previous-action true` takes a fourth input: the torque the
//! plant applied at the previous step (N·m, clipped to the action bounds, 0 after a reset or
//! when unknown), the convention of `sim::feedback`. `plr_obs_len` says how many inputs the
//! loaded policy takes.
#![no_std]
// The C boundary takes raw pointers from C; each `unsafe` block states what it relies on.
#![allow(unsafe_code)]

#[cfg(not(target_os = "none"))]
extern crate std;

use core::mem::{ManuallyDrop, MaybeUninit, align_of, offset_of, size_of};

use policy_runtime::format::{decode, decode_int8, precision_of};
use policy_runtime::{Int8Policy, LoadError, Output, Policy, Precision, Status};

/// Observations of the pendulum: `cos θ`, `sin θ`, `θ̇` (rad/s).
pub const PLR_OBS: usize = 3;
/// The most inputs a policy takes: the observations, then the previous applied torque (N·m)
/// for a policy trained with `--observe-previous-action true`.
pub const PLR_OBS_MAX: usize = 4;
/// Actions of the pendulum policy: the torque (N·m).
pub const PLR_ACT: usize = 1;
/// Bytes of storage any policy fits in (at least `plr_storage_size()`).
pub const PLR_STORAGE_SIZE: usize = 18_304;
/// Bytes of storage any int8 policy fits in (an f32 one is refused with
/// `PLR_ERR_STORAGE_SIZE`): for boards with little RAM. On the Cortex-M4/M33 (and the host)
/// an int8 network stores its hidden layers pair-packed, two bytes per weight, for two
/// multiply-adds per instruction.
#[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
pub const PLR_STORAGE_SIZE_INT8: usize = 10_064;
/// Bytes of storage any int8 policy fits in (an f32 one is refused with
/// `PLR_ERR_STORAGE_SIZE`): for boards with little RAM. On the Cortex-M0 (Armv6-M) an int8
/// network stores one byte per weight.
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
pub const PLR_STORAGE_SIZE_INT8: usize = 5_760;
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
    /// The storage is smaller than the policy's network needs.
    PlrErrStorageSize = -2,
    /// The storage is not aligned to `PLR_STORAGE_ALIGN`.
    PlrErrStorageAlign = -3,
    /// No policy has been loaded into this storage.
    PlrErrNotLoaded = -4,
    /// `obs_len` or `action_len` is not the policy's.
    PlrErrLength = -5,
    /// The file's network is neither 3-64-64-1 nor 4-64-64-1.
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

type F32Policy3 = Policy<PLR_OBS, 64, 64, PLR_ACT>;
type QPolicy3 = Int8Policy<PLR_OBS, 64, 64, PLR_ACT>;
type F32Policy4 = Policy<PLR_OBS_MAX, 64, 64, PLR_ACT>;
type QPolicy4 = Int8Policy<PLR_OBS_MAX, 64, 64, PLR_ACT>;

/// Tags of a filled storage, one per network (so garbage in fresh storage never reads as a
/// policy).
const TAG_F32: u32 = 0x504C_4632;
const TAG_INT8: u32 = 0x504C_5138;
const TAG_F32_PREV: u32 = 0x504C_4634;
const TAG_INT8_PREV: u32 = 0x504C_5134;

/// One network of the four, in the same bytes (the tag says which).
#[repr(C)]
union Net {
    f32: ManuallyDrop<F32Policy3>,
    int8: ManuallyDrop<QPolicy3>,
    f32_prev: ManuallyDrop<F32Policy4>,
    int8_prev: ManuallyDrop<QPolicy4>,
}

/// The layout of the caller's storage: a tag, then one network. Only the bytes the tag's
/// network needs are ever accessed, so int8 storage may be shorter than a `Slot`.
#[repr(C, align(64))]
struct Slot {
    tag: u32,
    net: MaybeUninit<Net>,
}

/// Where the network starts in the storage.
const NET_OFFSET: usize = offset_of!(Slot, net);

/// Storage bytes a network of type `P` needs.
const fn needs<P>() -> usize {
    NET_OFFSET + size_of::<P>()
}

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

const _: () = assert!(size_of::<Slot>() <= PLR_STORAGE_SIZE);
const _: () = assert!(max(needs::<QPolicy3>(), needs::<QPolicy4>()) <= PLR_STORAGE_SIZE_INT8);
const _: () = assert!(align_of::<Slot>() == PLR_STORAGE_ALIGN);

/// Bytes of storage any policy needs (`PLR_STORAGE_SIZE` or less).
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

/// The caller's storage, checked: non-null, aligned to `PLR_STORAGE_ALIGN`, room for the tag.
/// Whether it has room for a network is checked per network ([`Storage::net`]).
#[derive(Clone, Copy)]
struct Storage {
    ptr: *mut u8,
    len: usize,
}

impl Storage {
    fn new(ptr: *mut u8, len: usize) -> Result<Self, PlrStatus> {
        if ptr.is_null() {
            return Err(PLR_ERR_NULL);
        }
        if len < NET_OFFSET {
            return Err(PLR_ERR_STORAGE_SIZE);
        }
        if (ptr as usize) % PLR_STORAGE_ALIGN != 0 {
            return Err(PLR_ERR_STORAGE_ALIGN);
        }
        Ok(Self { ptr, len })
    }

    /// Which network the storage holds (0 or garbage: none).
    fn tag(self) -> u32 {
        // SAFETY: `ptr` is non-null and aligned to 64, with at least `NET_OFFSET` bytes the
        // caller lends (`Storage::new`); the tag is the first 4.
        unsafe { self.ptr.cast::<u32>().read() }
    }

    /// Sets the tag.
    ///
    /// # Safety
    /// A non-zero tag only after its network is complete.
    unsafe fn set_tag(self, tag: u32) {
        // SAFETY: as in `tag`; the caller lends the bytes for writing (`plr_load`, `plr_init`).
        unsafe { self.ptr.cast::<u32>().write(tag) }
    }

    /// The network bytes as a `P`, if the storage has room for one.
    fn net<P>(self) -> Result<*mut P, PlrStatus> {
        if self.len < needs::<P>() {
            return Err(PLR_ERR_STORAGE_SIZE);
        }
        // SAFETY: `len` bytes from `ptr` are the caller's, and `NET_OFFSET + size_of::<P>()`
        // of them are in range; `NET_OFFSET` is a multiple of 64, which every network's
        // alignment divides (`Slot` holds each at that offset).
        Ok(unsafe { self.ptr.add(NET_OFFSET) }.cast::<P>())
    }
}

/// Builds a policy in the storage's network bytes: `blank`, then `load` (which cannot fail once
/// the file is validated and its shape checked, the callers' order), then the tag. The size is
/// checked first: if the network does not fit, nothing is touched.
///
/// # Safety
/// The caller must lend the storage for writing.
unsafe fn build_in_place<P>(
    storage: Storage,
    tag: u32,
    blank: P,
    load: impl FnOnce(&mut P) -> Result<(), LoadError>,
) -> Result<(), PlrStatus> {
    let net = storage.net::<P>()?;
    // SAFETY: `net` points to room for a `P`, aligned, lent by the caller. The tag is cleared
    // before the bytes are overwritten and set after the network is complete.
    unsafe {
        storage.set_tag(0);
        net.write(blank);
        load(&mut *net).map_err(|e| load_code(&e))?;
        storage.set_tag(tag);
    }
    Ok(())
}

/// Validates `file` completely, then builds its network in the storage (in place: no copy of
/// the weights on the stack). On any error found by the validation the storage is untouched.
///
/// # Safety
/// As `build_in_place`.
unsafe fn load_into(storage: Storage, file: &[u8]) -> Result<(), PlrStatus> {
    let code = |e: LoadError| load_code(&e);
    // SAFETY (every block below): the caller lends the storage; the file is validated and its
    // shape is the policy's.
    match precision_of(file) {
        Some(Precision::F32) => {
            let view = decode(file).map_err(code)?;
            match view.shape() {
                F32Policy3::SHAPE => unsafe {
                    build_in_place(storage, TAG_F32, F32Policy3::blank(), |p| {
                        p.load_view(&view)
                    })
                },
                F32Policy4::SHAPE => unsafe {
                    build_in_place(storage, TAG_F32_PREV, F32Policy4::blank(), |p| {
                        p.load_view(&view)
                    })
                },
                _ => Err(PLR_ERR_SHAPE),
            }
        }
        Some(Precision::Int8) => {
            let view = decode_int8(file).map_err(code)?;
            match view.shape() {
                QPolicy3::SHAPE => unsafe {
                    build_in_place(storage, TAG_INT8, QPolicy3::blank(), |p| p.load_view(&view))
                },
                QPolicy4::SHAPE => unsafe {
                    build_in_place(storage, TAG_INT8_PREV, QPolicy4::blank(), |p| {
                        p.load_view(&view)
                    })
                },
                _ => Err(PLR_ERR_SHAPE),
            }
        }
        _ => Err(PLR_ERR_FORMAT),
    }
}

/// Validates the weight file `bytes[..len]` (f32 `PLCY` or int8 `PLQ8`; 3-64-64-1, or
/// 4-64-64-1 for a policy that observes the previous action) and loads it into `storage`
/// (`storage_len` bytes: `PLR_STORAGE_SIZE` fits any policy, `PLR_STORAGE_SIZE_INT8` an int8
/// one; aligned to `PLR_STORAGE_ALIGN`).
/// Returns `PLR_OK` or a negative code; on error the storage is unchanged. The file's bytes
/// are copied: they need not outlive the call.
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
    let storage = match Storage::new(storage, storage_len) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if bytes.is_null() {
        return PLR_ERR_NULL;
    }
    // SAFETY: the caller guarantees `len` readable bytes at `bytes`.
    let file = unsafe { core::slice::from_raw_parts(bytes, len) };
    // SAFETY: the caller lends the storage for writing.
    match unsafe { load_into(storage, file) } {
        Ok(()) => PLR_OK,
        Err(code) => code,
    }
}

/// The number of inputs the policy in `storage` takes, written to `*obs_len`: 3 (`cos θ`,
/// `sin θ`, `θ̇`), or 4 for a policy that also observes the previous applied torque. Returns
/// `PLR_OK` or a negative code (`PLR_ERR_NOT_LOADED` if no policy is loaded; nothing written).
///
/// # Safety
/// As `plr_act`'s `storage`; `obs_len` must point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn plr_obs_len(
    storage: *const u8,
    storage_len: usize,
    obs_len: *mut usize,
) -> PlrStatus {
    let storage = match Storage::new(storage.cast_mut(), storage_len) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if obs_len.is_null() {
        return PLR_ERR_NULL;
    }
    let n = match storage.tag() {
        TAG_F32 | TAG_INT8 => PLR_OBS,
        TAG_F32_PREV | TAG_INT8_PREV => PLR_OBS_MAX,
        _ => return PLR_ERR_NOT_LOADED,
    };
    // SAFETY: the caller guarantees a writable `size_t` at `obs_len`.
    unsafe { obs_len.write(n) };
    PLR_OK
}

/// The first `N` observations at `obs`, if the loaded policy takes `obs_len` = `N`.
///
/// # Safety
/// `obs` must point to `obs_len` readable floats.
unsafe fn inputs<'a, const N: usize>(
    obs: *const f32,
    obs_len: usize,
) -> Result<&'a [f32; N], PlrStatus> {
    if obs_len == N {
        // SAFETY: `obs_len` (= N) readable floats, guaranteed by the caller.
        Ok(unsafe { &*obs.cast::<[f32; N]>() })
    } else {
        Err(PLR_ERR_LENGTH)
    }
}

/// The network `P` in the storage acting on the observation.
///
/// # Safety
/// The storage's tag must name a `P` (so its bytes hold a complete one); `obs` as `inputs`.
unsafe fn act_as<P, const N: usize>(
    storage: Storage,
    act: impl FnOnce(&P, &[f32; N]) -> Output<1>,
    obs: *const f32,
    obs_len: usize,
) -> Result<Output<1>, PlrStatus> {
    let net = storage.net::<P>()?;
    // SAFETY: the caller guarantees `obs`; `net` is in range and holds a complete `P`.
    unsafe {
        let x = inputs::<N>(obs, obs_len)?;
        Ok(act(&*net, x))
    }
}

/// The loaded network's output for the observation, or the code of what is wrong.
///
/// # Safety
/// The storage must be as `plr_act` requires, `obs` as `inputs`.
unsafe fn act_on(
    storage: Storage,
    obs: *const f32,
    obs_len: usize,
) -> Result<Output<1>, PlrStatus> {
    // SAFETY: the tag is written only after its network is complete (`build_in_place`), so a
    // tag names the network in the bytes; zeroed or `plr_init`ed storage has tag 0.
    unsafe {
        match storage.tag() {
            TAG_F32 => act_as(storage, F32Policy3::act, obs, obs_len),
            TAG_INT8 => act_as(storage, QPolicy3::act, obs, obs_len),
            TAG_F32_PREV => act_as(storage, F32Policy4::act, obs, obs_len),
            TAG_INT8_PREV => act_as(storage, QPolicy4::act, obs, obs_len),
            _ => Err(PLR_ERR_NOT_LOADED),
        }
    }
}

/// Computes the action for `obs[..obs_len]` into `action[..action_len]` (`action_len` = 1),
/// with the policy `plr_load` put in `storage`. `obs_len` is the policy's (`plr_obs_len`): 3,
/// `cos θ`, `sin θ`, `θ̇` (rad/s); or 4, those and the torque the plant applied at the
/// previous step (N·m, clipped to the bounds; 0 after a reset). Returns `PLR_OK`,
/// `PLR_NON_FINITE_OBSERVATION` or `PLR_NON_FINITE_OUTPUT` (the action is then the safe
/// action, zero clamped into the bounds), or a negative code (nothing written). The same work
/// for every input; bit-identical to the Rust runtime's action.
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
    let storage = match Storage::new(storage.cast_mut(), storage_len) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if obs.is_null() || action.is_null() {
        return PLR_ERR_NULL;
    }
    if action_len != PLR_ACT {
        return PLR_ERR_LENGTH;
    }
    // SAFETY: the storage is checked; the caller guarantees `obs_len` readable floats at `obs`.
    let out = match unsafe { act_on(storage, obs, obs_len) } {
        Ok(out) => out,
        Err(code) => return code,
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
    match Storage::new(storage, storage_len) {
        Ok(s) => {
            // SAFETY: tag 0 names no network.
            unsafe { s.set_tag(0) };
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
