//! A policy's memory is its arrays: no pointers, no hidden buffers; only the padding that
//! aligns each weight matrix to a 64-byte cache line.

use core::mem::size_of;

use policy_runtime::{Output, Policy, Shape};

/// Parameters + normalisation (2 per observation) + bounds, mid-points, half-ranges, safe
/// action and the caller's request for it (6 per action dimension), 4 bytes each.
const fn expected(s: Shape) -> usize {
    4 * (s.parameters() + 2 * s.obs + 6 * s.act)
}

/// Size of `Policy<..>`: its arrays plus alignment padding (< 64 bytes before each of the
/// three weight matrices and at the end).
fn check<const O: usize, const H1: usize, const H2: usize, const A: usize>(exact: usize) {
    let size = size_of::<Policy<O, H1, H2, A>>();
    let arrays = expected(Policy::<O, H1, H2, A>::SHAPE);
    assert!(
        size >= arrays && size < arrays + 4 * 64,
        "{size} vs {arrays}"
    );
    assert_eq!(size % 64, 0);
    assert_eq!(core::mem::align_of::<Policy<O, H1, H2, A>>(), 64);
    assert_eq!(size, exact);
}

#[test]
fn policy_size_is_the_size_of_its_weights() {
    check::<3, 64, 64, 1>(17_984);
    check::<3, 256, 256, 1>(268_352);
    check::<2, 2, 2, 1>(256);
    assert_eq!(size_of::<Output<1>>(), 8);
}
