//! The weight-file decoder on raw bytes: never panics; whatever it accepts reads back fully.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = policy_runtime::format::decode(data) {
        let sum: f32 = view
            .layers()
            .iter()
            .flat_map(|l| l.weights().chain(l.bias()))
            .chain(view.obs_offset())
            .chain(view.action_low())
            .sum();
        std::hint::black_box(sum);
    }
});
