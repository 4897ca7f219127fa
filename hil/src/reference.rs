//! The same policy run on the host through `policy-runtime`: the reference the board is judged
//! against.

use policy_runtime::Policy;

use crate::HilError;
use crate::plant::Plant;
use crate::policy_file::dims_of;

/// A host policy: observation in, action out.
pub type HostPolicy = Box<dyn FnMut(&[f32]) -> Vec<f32>>;

fn boxed<const O: usize, const H1: usize, const H2: usize, const A: usize>(
    bytes: &[u8],
) -> Result<HostPolicy, HilError> {
    let p: Box<Policy<O, H1, H2, A>> =
        Box::new(Policy::from_bytes(bytes).map_err(|e| HilError::Policy(e.to_string()))?);
    Ok(Box::new(move |obs: &[f32]| {
        match <&[f32; O]>::try_from(obs) {
            Ok(o) => p.act(o).action.to_vec(),
            Err(_) => vec![f32::NAN; A],
        }
    }))
}

/// Loads `bytes` into a host policy, for the shapes the host knows at compile time
/// (`3-32-32-1`, `3-64-64-1`, `3-128-128-1`, `3-256-256-1`); `None` for other shapes.
pub fn host_policy(bytes: &[u8]) -> Result<Option<HostPolicy>, HilError> {
    let d = dims_of(bytes)?;
    Ok(Some(match (d.obs, d.h1, d.h2, d.act) {
        (3, 32, 32, 1) => boxed::<3, 32, 32, 1>(bytes)?,
        (3, 64, 64, 1) => boxed::<3, 64, 64, 1>(bytes)?,
        (3, 128, 128, 1) => boxed::<3, 128, 128, 1>(bytes)?,
        (3, 256, 256, 1) => boxed::<3, 256, 256, 1>(bytes)?,
        _ => return Ok(None),
    }))
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
