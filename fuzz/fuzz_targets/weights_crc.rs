//! The weight-file decoder past its checksum: the input gets a valid CRC-32 appended, so the
//! fuzzer reaches the structure checks (header, dimensions, lengths, finiteness, bounds).
//! Whatever is accepted must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fuzz_target!(|data: &[u8]| {
    let mut file = data.to_vec();
    file.extend_from_slice(&CRC32.checksum(data).to_le_bytes());
    let Ok(view) = policy_runtime::format::decode(&file) else {
        return;
    };
    // Round trip: the view's contents encode back to exactly the accepted bytes.
    let v = |it: policy_runtime::format::F32Iter<'_>| it.collect::<Vec<f32>>();
    let layers = view.layers();
    let w: Vec<(Vec<f32>, Vec<f32>)> = layers
        .iter()
        .map(|l| (v(l.weights()), v(l.bias())))
        .collect();
    let spec_layer = |i: usize| policy_runtime::format::LayerSpec {
        in_dim: layers[i].in_dim(),
        out_dim: layers[i].out_dim(),
        weights: &w[i].0,
        bias: &w[i].1,
    };
    let (off, scale) = (v(view.obs_offset()), v(view.obs_scale()));
    let (low, high) = (v(view.action_low()), v(view.action_high()));
    let norm = view.has_normalization();
    let spec = policy_runtime::format::PolicySpec {
        obs_offset: norm.then_some(&off[..]),
        obs_scale: norm.then_some(&scale[..]),
        layers: [spec_layer(0), spec_layer(1), spec_layer(2)],
        action_low: &low,
        action_high: &high,
    };
    let mut out = vec![0u8; file.len() + 64];
    let n = policy_runtime::format::encode(&spec, &mut out).expect("an accepted file re-encodes");
    assert_eq!(&out[..n], &file[..], "re-encoding changed the bytes");
});
