//! The host-side policy: the same weight file run on the host through `policy-runtime`
//! ([`DynPolicy`], bit-identical to the board), the reference the board is judged against.

use policy_runtime::{DynPolicy, LoadError, Shape};

use crate::HilError;
use crate::plant::Plant;

/// A host policy: observation in, action out.
pub type HostPolicy = Box<dyn FnMut(&[f32]) -> Vec<f32>>;

/// Decodes `bytes` once: the policy's shape and, when the shape is one of
/// [`DynPolicy::SUPPORTED_SHAPES`], the host policy (`None` for other valid shapes: the board
/// then runs without a host reference).
pub fn load_host_policy(bytes: &[u8]) -> Result<(Shape, Option<HostPolicy>), HilError> {
    match DynPolicy::from_bytes(bytes) {
        Ok(p) => {
            let shape = p.shape();
            let host: HostPolicy = Box::new(move |obs: &[f32]| {
                let mut action = vec![f32::NAN; shape.act];
                // A wrong-length observation leaves NaN: a mismatch the session reports.
                let _ = p.act(obs, &mut action);
                action
            });
            Ok((shape, Some(host)))
        }
        Err(LoadError::UnsupportedShape { found }) => Ok((found, None)),
        Err(e) => Err(HilError::Policy(e)),
    }
}

/// Runs `policy` on the host against `plant` from the state seeded by `seed` for up to `steps`
/// steps; returns the episode return.
pub fn host_return(plant: &mut dyn Plant, seed: u64, steps: usize, policy: &mut HostPolicy) -> f64 {
    let mut obs = vec![0.0f32; plant.observation_dim()];
    plant.reset(seed, &mut obs);
    let mut ret = 0.0;
    for _ in 0..steps {
        let a = policy(&obs);
        let r = plant.step(&a, &mut obs);
        ret += r.reward;
        if r.terminated || r.truncated {
            break;
        }
    }
    ret
}
