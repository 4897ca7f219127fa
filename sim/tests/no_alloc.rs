//! `step` and `reset` of both models never allocate (a counting global allocator, per thread).

// A global allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sim::{Environment, HiFiParams, HiFiPendulum, Imperfections, Pendulum};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the thread-local counter
// is const-initialised and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations made by 3 episodes of resets and steps.
fn allocations_during_episodes<E: Environment>(env: &mut E) -> usize {
    let mut obs = [0.0f32; 3];
    let before = allocations();
    for seed in 0..3 {
        env.reset(seed, &mut obs);
        for _ in 0..env.max_episode_steps() {
            let u = -2.0 * obs[1];
            env.step(&[u], &mut obs);
        }
    }
    allocations() - before
}

#[test]
fn step_and_reset_do_not_allocate() {
    // The counter works: a Vec allocates.
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 16]);
    assert!(allocations() > before && v.len() == 16);

    assert_eq!(allocations_during_episodes(&mut Pendulum::default()), 0);
    assert_eq!(allocations_during_episodes(&mut HiFiPendulum::default()), 0);
    let mut realistic = HiFiParams::realistic();
    realistic.imperfections = Imperfections {
        actuator_delay_steps: 3,
        ..realistic.imperfections
    };
    let mut plant = HiFiPendulum::new(realistic).unwrap();
    assert_eq!(allocations_during_episodes(&mut plant), 0);
}

#[test]
fn models_are_send_clone_debug() {
    fn check<T: Send + Clone + std::fmt::Debug>() {}
    check::<Pendulum>();
    check::<HiFiPendulum>();
    check::<sim::controllers::EnergySwingUp>();
}
