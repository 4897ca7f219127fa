//! Post-training quantisation of an exported f32 policy to the int8 weight file (`PLQ8`,
//! `policy-runtime/FORMAT.md`).
//!
//! The scheme (TFLite-Micro / CMSIS-NN style):
//! - **weights**: symmetric int8 per output channel, `s_w[o] = max_k |W[o][k]| / 127`,
//!   `W_q = round(W / s_w)`;
//! - **activations**: one scale per tensor, calibrated on the observations the f32 policy
//!   meets in `episodes` rollouts on the calibration rig (the training rig): the normalised
//!   observation symmetric int8, `s₀ = max |x'| / 127`; each hidden ReLU output int8 with zero
//!   point −128, `s_h = max h / 255`;
//! - **biases**: int32 in accumulator units, `round(b / (s_w s_in))`, with the input zero
//!   point folded in (`+ 128 · Σ_k W_q[o][k]` after a ReLU layer);
//! - **requantisation**: `M = s_w s_in / s_out` as an integer multiplier `m ∈ [2^30, 2^31)`
//!   and a right shift, per output channel;
//! - **output**: the last accumulator times `s_w3[o] · s_h2` in f32, then tanh and the action
//!   scaling in f32 (one value per action: nothing to gain from integers there).

use std::sync::Mutex;

use policy_runtime::format::{self, Bytes, F32Array, Int8File, Int8Hidden, Int8Output};
use policy_runtime::{DynPolicy, HIDDEN_ZERO_POINT};
use sim::Rig;

use crate::TrainError;
use crate::quality::{self, Controller};

/// What [`quantize`] needs besides the policy.
#[derive(Debug, Clone)]
pub struct QuantizeOptions {
    /// Rig of the calibration rollouts (use the training rig).
    pub rig: Rig,
    /// Calibration episodes.
    pub episodes: usize,
    /// Evaluation seed of the calibration episodes (keep it apart from the seeds you
    /// evaluate on).
    pub seed: u64,
}

/// The calibrated activation ranges and what the int8 file was built from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Observations seen.
    pub samples: usize,
    /// `max |x'|` of the normalised observation.
    pub input_max: f64,
    /// `max h` of the two hidden layers' outputs.
    pub hidden_max: [f64; 2],
}

/// A controller that records every observation it is asked about.
struct Recorder<'a> {
    inner: &'a DynPolicy,
    seen: Mutex<Vec<f32>>,
}

impl Controller for Recorder<'_> {
    fn act(&self, obs: &[f32], action: &mut [f32]) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.extend_from_slice(obs);
        }
        Controller::act(self.inner, obs, action);
    }

    fn input_dim(&self) -> usize {
        self.inner.input_dim()
    }
}

/// The f32 network of a decoded file, in f64 for calibration.
struct Net {
    offset: Vec<f64>,
    scale: Vec<f64>,
    /// Per layer: row-major weights, bias, `(in, out)`.
    layers: Vec<(Vec<f64>, Vec<f64>, usize, usize)>,
}

impl Net {
    fn of(view: &format::PolicyView<'_>) -> Self {
        let v = |it: format::F32Iter<'_>| it.map(f64::from).collect::<Vec<f64>>();
        Self {
            offset: v(view.obs_offset()),
            scale: v(view.obs_scale()),
            layers: view
                .layers()
                .iter()
                .map(|l| (v(l.weights()), v(l.bias()), l.in_dim(), l.out_dim()))
                .collect(),
        }
    }

    /// `x'` and the two hidden outputs for one raw observation.
    fn activations(&self, obs: &[f32]) -> [Vec<f64>; 3] {
        let x: Vec<f64> = obs
            .iter()
            .zip(self.offset.iter().zip(&self.scale))
            .map(|(&o, (off, sc))| (f64::from(o) - off) * sc)
            .collect();
        let layer = |l: usize, input: &[f64]| -> Vec<f64> {
            let (w, b, i, o) = &self.layers[l];
            (0..*o)
                .map(|r| {
                    let z: f64 = b[r] + (0..*i).map(|k| w[r * i + k] * input[k]).sum::<f64>();
                    z.max(0.0)
                })
                .collect()
        };
        let h1 = layer(0, &x);
        let h2 = layer(1, &h1);
        [x, h1, h2]
    }
}

/// Per output channel: int8 weights and their scales.
fn quantize_weights(w: &[f64], i: usize, o: usize) -> (Vec<u8>, Vec<f64>, Vec<i64>) {
    let mut q = Vec::with_capacity(i * o);
    let mut scales = Vec::with_capacity(o);
    let mut row_sums = Vec::with_capacity(o);
    for row in w.chunks_exact(i) {
        let max = row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let s = if max > 0.0 { max / 127.0 } else { 1.0 };
        let mut sum = 0i64;
        for v in row {
            let x = (v / s).round().clamp(-127.0, 127.0) as i8;
            sum += i64::from(x);
            q.push(x as u8);
        }
        scales.push(s);
        row_sums.push(sum);
    }
    (q, scales, row_sums)
}

/// `M` as `(m, shift)` with `M ≈ m / 2^shift`, `m ∈ [2^30, 2^31)` when `M` allows.
pub fn multiplier(m_real: f64) -> Result<(i32, u8), TrainError> {
    if !(m_real.is_finite() && m_real > 0.0) {
        return Err(TrainError::Export(format!(
            "requantisation factor {m_real} is not positive and finite"
        )));
    }
    let e = m_real.log2().floor() as i32;
    let mut shift = 30 - e;
    if shift > 62 {
        shift = 62;
    }
    if shift < 1 {
        return Err(TrainError::Export(format!(
            "requantisation factor {m_real} is too large for an int8 layer"
        )));
    }
    let mut m = (m_real * 2f64.powi(shift)).round();
    if m >= 2f64.powi(31) {
        m = (m / 2.0).round();
        shift -= 1;
    }
    Ok((m as i32, shift as u8))
}

fn le_i32(values: &[i64], what: &str) -> Result<Vec<u8>, TrainError> {
    let mut out = Vec::with_capacity(values.len() * 4);
    for &v in values {
        let v = i32::try_from(v)
            .map_err(|_| TrainError::Export(format!("{what} {v} does not fit in int32")))?;
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// The int32 biases of a layer whose int8 input `q` means `s_in · (q − zero_point)`:
/// `round(b / (s_w s_in)) − zero_point · Σ_k W_q[o][k]`.
fn biases(b: &[f64], s_w: &[f64], s_in: f64, row_sums: &[i64], zero_point: i64) -> Vec<i64> {
    b.iter()
        .zip(s_w)
        .zip(row_sums)
        .map(|((b, s), sum)| (b / (s * s_in)).round() as i64 - zero_point * sum)
        .collect()
}

/// The largest `|x'|`, `|h1|` and `|h2|` over the observations of rollouts of the `f32`
/// policy on the calibration rig, and how many observations that was.
fn calibrate(
    f32_file: &[u8],
    net: &Net,
    obs_dim: usize,
    options: &QuantizeOptions,
) -> Result<([f64; 3], usize), TrainError> {
    let policy = DynPolicy::from_bytes(f32_file).map_err(|e| TrainError::Export(e.to_string()))?;
    let recorder = Recorder {
        inner: &policy,
        seen: Mutex::new(Vec::new()),
    };
    quality::evaluate(
        &options.rig,
        &recorder,
        options.seed,
        options.episodes,
        0.0,
        1,
    )?;
    let seen = recorder.seen.into_inner().unwrap_or_default();
    let mut max = [0.0f64; 3];
    for obs in seen.chunks_exact(obs_dim) {
        for (m, a) in max.iter_mut().zip(net.activations(obs)) {
            *m = a.iter().fold(*m, |m, v| m.max(v.abs()));
        }
    }
    Ok((max, seen.len() / obs_dim.max(1)))
}

/// Quantises the f32 weight file `f32_file` to an int8 weight file, calibrated on rollouts of
/// the f32 policy; returns the file's bytes and the calibration.
pub fn quantize(
    f32_file: &[u8],
    options: &QuantizeOptions,
) -> Result<(Vec<u8>, Calibration), TrainError> {
    let view = format::decode(f32_file).map_err(|e| TrainError::Export(e.to_string()))?;
    let net = Net::of(&view);
    let (max, samples) = calibrate(f32_file, &net, view.obs_dim(), options)?;
    let s0 = if max[0] > 0.0 { max[0] / 127.0 } else { 1.0 };
    let s_h = [1, 2].map(|k| if max[k] > 0.0 { max[k] / 255.0 } else { 1.0 });

    let quantised: Vec<_> = net
        .layers
        .iter()
        .map(|(w, _, i, o)| quantize_weights(w, *i, *o))
        .collect();
    let s_in = [s0, s_h[0], s_h[1]];
    let zp = i64::from(HIDDEN_ZERO_POINT);
    let zero_points = [0, zp, zp];
    let mut bias_bytes = Vec::new();
    for l in 0..3 {
        let (_, s_w, sums) = &quantised[l];
        let b = biases(&net.layers[l].1, s_w, s_in[l], sums, zero_points[l]);
        bias_bytes.push(le_i32(&b, "bias")?);
    }
    let mut requant = Vec::new();
    for l in 0..2 {
        let (m, s): (Vec<i64>, Vec<u8>) = quantised[l]
            .1
            .iter()
            .map(|sw| multiplier(sw * s_in[l] / s_h[l]).map(|(m, s)| (i64::from(m), s)))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        requant.push((le_i32(&m, "multiplier")?, s));
    }
    let out_scale: Vec<f32> = quantised[2].1.iter().map(|s| (s * s_h[1]) as f32).collect();
    let f32s = |it: format::F32Iter<'_>| it.collect::<Vec<f32>>();
    let (offset, scale) = (f32s(view.obs_offset()), f32s(view.obs_scale()));
    let (low, high) = (f32s(view.action_low()), f32s(view.action_high()));
    let dims = |l: usize| (net.layers[l].2 as u32, net.layers[l].3 as u32);
    let hidden = |l: usize| Int8Hidden {
        in_dim: dims(l).0,
        out_dim: dims(l).1,
        weights: Bytes(&quantised[l].0),
        bias: Bytes(&bias_bytes[l]),
        multiplier: Bytes(&requant[l].0),
        shift: Bytes(&requant[l].1),
    };
    let file = Int8File {
        header: format::Header {
            magic: format::INT8_MAGIC,
            version: format::INT8_FORMAT_VERSION,
        },
        obs_offset: F32Array::from_values(&offset),
        obs_scale: F32Array::from_values(&scale),
        input_inv_scale: (1.0 / s0) as f32,
        hidden: [hidden(0), hidden(1)],
        output: Int8Output {
            in_dim: dims(2).0,
            out_dim: dims(2).1,
            weights: Bytes(&quantised[2].0),
            bias: Bytes(&bias_bytes[2]),
            scale: F32Array::from_values(&out_scale),
        },
        action_low: F32Array::from_values(&low),
        action_high: F32Array::from_values(&high),
    };
    let bytes = format::encode_int8_to_vec(&file).map_err(|e| TrainError::Export(e.to_string()))?;
    Ok((
        bytes,
        Calibration {
            samples,
            input_max: max[0],
            hidden_max: [max[1], max[2]],
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipliers_round_trip_their_factor() {
        for m_real in [1e-9, 3.7e-4, 0.01, 0.5, 0.999_999, 1.0, 7.25, 1e6] {
            let (m, s) = multiplier(m_real).unwrap();
            let back = f64::from(m) / 2f64.powi(i32::from(s));
            assert!(
                (back - m_real).abs() <= m_real * 1e-8 + 2f64.powi(-62),
                "{m_real}: {back}"
            );
            assert!((1..=62).contains(&s));
            if m_real > 1e-9 {
                assert!(m >= 1 << 30, "{m_real}: m {m}");
            }
        }
        assert!(multiplier(0.0).is_err());
        assert!(multiplier(f64::NAN).is_err());
        assert!(multiplier(1e12).is_err());
    }
}
