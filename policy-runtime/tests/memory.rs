//! A policy's memory is exactly its arrays: no pointers, no hidden buffers.

use core::mem::size_of;

use policy_runtime::{Output, Policy, Shape};

/// Parameters + normalisation (2 per observation) + bounds, mid-points, half-ranges and safe
/// action (5 per action dimension), 4 bytes each.
const fn expected(s: Shape) -> usize {
    4 * (s.parameters() + 2 * s.obs + 5 * s.act)
}

#[test]
fn policy_size_is_the_size_of_its_weights() {
    assert_eq!(
        size_of::<Policy<3, 64, 64, 1>>(),
        expected(Policy::<3, 64, 64, 1>::SHAPE)
    );
    assert_eq!(size_of::<Policy<3, 64, 64, 1>>(), 17_968);
    assert_eq!(
        size_of::<Policy<3, 256, 256, 1>>(),
        expected(Policy::<3, 256, 256, 1>::SHAPE)
    );
    assert_eq!(size_of::<Policy<3, 256, 256, 1>>(), 268_336);
    assert_eq!(size_of::<Output<1>>(), 8);
}
