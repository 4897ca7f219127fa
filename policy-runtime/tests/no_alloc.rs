//! Decoding and inference allocate nothing: a counting global allocator proves it.
//!
//! The count is per thread (the test harness runs tests on parallel threads), and only the
//! measured closure's allocations on the current thread are counted. This file is the only
//! place with `unsafe`, because implementing `GlobalAlloc` requires it.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{RawPolicy, encode_int8, shape};
use policy_runtime::{Policy, Status, format};

struct CountingAllocator;

thread_local! {
    // `const` initialisation: no lazy set-up, no destructor, so no allocation in here.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with` fails only during thread teardown; those allocations are not ours.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the number of allocations it made on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (r, ALLOCATIONS.with(Cell::get) - before)
}

#[test]
fn the_counter_counts() {
    let (v, n) = allocations(|| std::hint::black_box(vec![1u8; 10]));
    assert_eq!(v.len(), 10);
    assert_eq!(n, 1);
}

#[test]
fn decoding_allocates_nothing() {
    let bytes = RawPolicy::random(shape(3, 64, 64, 1), true, 1).encode();
    let (view, n) = allocations(|| format::decode(&bytes).map(|v| v.shape()));
    assert_eq!(view.unwrap(), shape(3, 64, 64, 1));
    assert_eq!(n, 0);
    let (policy, n) = allocations(|| Policy::<3, 64, 64, 1>::from_bytes(&bytes));
    assert!(policy.is_ok());
    assert_eq!(n, 0);
    let mut bad = bytes.clone();
    bad[100] ^= 4;
    let (err, n) = allocations(|| Policy::<3, 64, 64, 1>::from_bytes(&bad).map(|_| ()));
    assert!(err.is_err());
    assert_eq!(n, 0);
}

#[test]
fn encoding_into_a_buffer_allocates_nothing() {
    let raw = RawPolicy::random(shape(3, 64, 64, 1), true, 2);
    let spec = raw.spec();
    let mut buf = vec![0u8; 20_000];
    let (len, n) = allocations(|| format::encode(&spec, &mut buf));
    assert_eq!(len, format::encoded_len(&spec));
    assert_eq!(n, 0);
}

#[test]
fn inference_allocates_nothing() {
    let bytes = RawPolicy::random(shape(3, 64, 64, 1), true, 3).encode();
    let policy = Policy::<3, 64, 64, 1>::from_bytes(&bytes).unwrap();
    let observations = [
        [1.0, 0.0, 0.5],
        [0.2, -0.9, 7.0],
        [f32::NAN, 0.0, 0.0],
        [0.0, f32::INFINITY, 1.0],
    ];
    let (statuses, n) = allocations(|| {
        let mut statuses = [Status::Ok; 4];
        for _ in 0..1000 {
            for (s, obs) in statuses.iter_mut().zip(&observations) {
                *s = std::hint::black_box(policy.act(std::hint::black_box(obs))).status;
            }
        }
        statuses
    });
    assert_eq!(
        statuses,
        [
            Status::Ok,
            Status::Ok,
            Status::NonFiniteObservation,
            Status::NonFiniteObservation
        ]
    );
    assert_eq!(n, 0);
}

/// A 3-64-64-1 int8 file with constant weights (decoding and inference do not care).
fn int8_file() -> Vec<u8> {
    use policy_runtime::format::{Bytes, F32Array, Header, Int8File, Int8Hidden, Int8Output};
    let (w1, w2, w3) = (vec![3u8; 64 * 3], vec![0xFEu8; 64 * 64], vec![5u8; 64]);
    let (b64, m64, s64) = (
        vec![1u8; 64 * 4],
        [0, 0, 0, 0x40].repeat(64),
        vec![34u8; 64],
    );
    let hidden = |i: u32, w: &'static [u8]| Int8Hidden {
        in_dim: i,
        out_dim: 64,
        weights: Bytes(w),
        bias: Bytes(b64.clone().leak()),
        multiplier: Bytes(m64.clone().leak()),
        shift: Bytes(s64.clone().leak()),
    };
    let file = Int8File {
        header: Header {
            magic: format::INT8_MAGIC,
            version: format::INT8_FORMAT_VERSION,
        },
        obs_offset: F32Array::from_values(&[0.0; 3]),
        obs_scale: F32Array::from_values(&[1.0, 1.0, 0.125]),
        input_inv_scale: 127.0,
        hidden: [hidden(3, w1.leak()), hidden(64, w2.leak())],
        output: Int8Output {
            in_dim: 64,
            out_dim: 1,
            weights: Bytes(w3.leak()),
            bias: Bytes(&[0, 0, 0, 0]),
            scale: F32Array::from_values(&[1e-5]),
        },
        action_low: F32Array::from_values(&[-2.0]),
        action_high: F32Array::from_values(&[2.0]),
    };
    encode_int8(&file).unwrap()
}

#[test]
fn int8_decoding_and_inference_allocate_nothing() {
    let bytes = int8_file();
    let (policy, n) =
        allocations(|| policy_runtime::Int8Policy::<3, 64, 64, 1>::from_bytes(&bytes));
    let policy = policy.unwrap();
    assert_eq!(n, 0);
    let observations = [[1.0, 0.0, 0.5], [0.2, -0.9, 7.0], [f32::NAN, 0.0, 0.0]];
    let (statuses, n) = allocations(|| {
        let mut statuses = [Status::Ok; 3];
        for _ in 0..1000 {
            for (s, obs) in statuses.iter_mut().zip(&observations) {
                *s = std::hint::black_box(policy.act(std::hint::black_box(obs))).status;
            }
        }
        statuses
    });
    assert_eq!(
        statuses,
        [Status::Ok, Status::Ok, Status::NonFiniteObservation]
    );
    assert_eq!(n, 0);
}
