//! The C API: the header matches the code, every error code is reachable, actions equal the
//! Rust runtime's bit for bit, and a C program compiled with the host's `cc` links the static
//! library and gives the same actions.

#![allow(unsafe_code)] // calls the C API as C would

use std::path::{Path, PathBuf};
use std::process::Command;

use policy_runtime::DynPolicy;
use policy_runtime_c::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn policy(name: &str) -> Vec<u8> {
    std::fs::read(root().join("..").join("policies").join(name)).unwrap()
}

/// The shipped policies and their inputs: 3 (the pendulum's observation), or 4 (and the
/// previous applied torque, `--observe-previous-action true`), each in f32 and int8.
const FILES: [(&str, usize); 4] = [
    ("pendulum.postcard", 3),
    ("pendulum-int8.postcard", 3),
    ("strong-motor-prev-action.postcard", 4),
    ("strong-motor-prev-action-int8.postcard", 4),
];

/// 64-byte aligned storage, with room to misalign it.
#[repr(C, align(64))]
struct Storage([u8; PLR_STORAGE_SIZE + 64]);

fn storage() -> Box<Storage> {
    Box::new(Storage([0; PLR_STORAGE_SIZE + 64]))
}

fn act(s: &Storage, obs: &[f32]) -> (PlrStatus, f32) {
    let mut a = [f32::NAN];
    let (p, n) = (s.0.as_ptr(), s.0.len());
    let code = unsafe { plr_act(p, n, obs.as_ptr(), obs.len(), a.as_mut_ptr(), 1) };
    (code, a[0])
}

/// Observations on a grid (with `n` = 4, a previous torque from a list), plus non-finite ones.
fn observations(n: usize) -> Vec<Vec<f32>> {
    let mut v = Vec::new();
    for i in 0..40 {
        let th = -3.2 + 0.16 * i as f32;
        for (k, w) in [-8.0, -1.5, 0.0, 0.7, 8.0].into_iter().enumerate() {
            let previous = [-6.0, -0.5, 0.0, 1.25, 6.0][(i + k) % 5];
            v.push([th.cos(), th.sin(), w, previous][..n].to_vec());
        }
    }
    v.push([f32::NAN, 0.0, 0.0, 0.0][..n].to_vec());
    v.push([1.0, f32::INFINITY, 0.0, 0.0][..n].to_vec());
    if n == 4 {
        v.push(vec![1.0, 0.0, 0.0, f32::NAN]);
    }
    v
}

mod header {
    use super::*;

    /// `include/policy_runtime.h` is what cbindgen generates from the code now
    /// (`UPDATE_HEADER=1` rewrites it).
    #[test]
    fn header_is_current() {
        let config = cbindgen::Config::from_file(root().join("cbindgen.toml")).unwrap();
        let mut out = Vec::new();
        cbindgen::Builder::new()
            .with_config(config)
            .with_src(root().join("src").join("lib.rs"))
            .generate()
            .expect("cbindgen")
            .write(&mut out);
        let path = root().join("include").join("policy_runtime.h");
        if std::env::var_os("UPDATE_HEADER").is_some() {
            std::fs::write(&path, &out).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out,
            "{} is stale: run UPDATE_HEADER=1 cargo test -p policy-runtime-c header",
            path.display()
        );
        let text = String::from_utf8(out).unwrap();
        for name in [
            "plr_load",
            "plr_act",
            "plr_init",
            "plr_storage_size",
            "plr_obs_len",
            "PLR_OBS_MAX",
            "PLR_ERR_SHAPE",
        ] {
            assert!(text.contains(name), "{name} missing from the header");
        }
    }
}

mod api {
    use super::*;

    #[test]
    fn actions_equal_the_rust_runtime_in_both_precisions_and_both_input_counts() {
        for (file, n) in FILES {
            let bytes = policy(file);
            let mut s = storage();
            assert!(plr_storage_size() <= PLR_STORAGE_SIZE);
            let code =
                unsafe { plr_load(s.0.as_mut_ptr(), s.0.len(), bytes.as_ptr(), bytes.len()) };
            assert_eq!(code, PlrStatus::PlrOk, "{file}");
            let mut inputs = usize::MAX;
            let code = unsafe { plr_obs_len(s.0.as_ptr(), s.0.len(), &mut inputs) };
            assert_eq!((code, inputs), (PlrStatus::PlrOk, n), "{file}");
            let host = DynPolicy::from_bytes(&bytes).unwrap();
            assert_eq!(host.shape().obs, n, "{file}");
            for obs in observations(n) {
                let mut want = [0.0f32];
                let status = host.act(&obs, &mut want).unwrap();
                let (code, got) = act(&s, &obs);
                assert_eq!(got.to_bits(), want[0].to_bits(), "{file} {obs:?}");
                let expected = match status {
                    policy_runtime::Status::Ok => PlrStatus::PlrOk,
                    policy_runtime::Status::NonFiniteObservation => {
                        PlrStatus::PlrNonFiniteObservation
                    }
                    _ => PlrStatus::PlrNonFiniteOutput,
                };
                assert_eq!(code, expected, "{file} {obs:?}");
            }
        }
    }

    #[test]
    fn every_error_code_is_reachable_and_a_failed_load_keeps_the_policy() {
        let bytes = policy("pendulum.postcard");
        let mut s = storage();
        let (p, n) = (s.0.as_mut_ptr(), s.0.len());
        unsafe {
            assert_eq!(plr_init(p, n), PlrStatus::PlrOk);
            assert_eq!(act(&s, &[1.0, 0.0, 0.0]).0, PlrStatus::PlrErrNotLoaded);
            let (p, n) = (s.0.as_mut_ptr(), s.0.len());
            assert_eq!(
                plr_load(std::ptr::null_mut(), n, bytes.as_ptr(), bytes.len()),
                PlrStatus::PlrErrNull
            );
            assert_eq!(plr_load(p, n, std::ptr::null(), 0), PlrStatus::PlrErrNull);
            assert_eq!(
                plr_load(p, 100, bytes.as_ptr(), bytes.len()),
                PlrStatus::PlrErrStorageSize
            );
            assert_eq!(
                plr_load(p.add(4), n - 4, bytes.as_ptr(), bytes.len()),
                PlrStatus::PlrErrStorageAlign
            );
            assert_eq!(
                plr_load(p, n, bytes.as_ptr(), bytes.len()),
                PlrStatus::PlrOk
            );
            let before = act(&s, &[0.3, 0.9, 1.0]);
            let p = s.0.as_mut_ptr();
            // Truncated, corrupted, another shape, a non-finite weight: refused, policy kept.
            assert_eq!(plr_load(p, n, bytes.as_ptr(), 10), PlrStatus::PlrErrFormat);
            let mut bad = bytes.clone();
            bad[100] ^= 0x40;
            assert_eq!(
                plr_load(p, n, bad.as_ptr(), bad.len()),
                PlrStatus::PlrErrFormat
            );
            assert_eq!(plr_load(p, n, b"junk".as_ptr(), 4), PlrStatus::PlrErrFormat);
            let small = random_policy_file(policy_runtime::Shape {
                obs: 3,
                hidden1: 8,
                hidden2: 8,
                act: 1,
            });
            assert_eq!(
                plr_load(p, n, small.as_ptr(), small.len()),
                PlrStatus::PlrErrShape
            );
            let nan = non_finite_file();
            assert_eq!(
                plr_load(p, n, nan.as_ptr(), nan.len()),
                PlrStatus::PlrErrContents
            );
            assert_eq!(act(&s, &[0.3, 0.9, 1.0]), before);
            let mut a = [0.0f32];
            let s2 = s.0.as_ptr();
            assert_eq!(
                plr_act(s2, n, [0.0f32; 3].as_ptr(), 2, a.as_mut_ptr(), 1),
                PlrStatus::PlrErrLength
            );
            assert_eq!(
                plr_act(s2, n, std::ptr::null(), 3, a.as_mut_ptr(), 1),
                PlrStatus::PlrErrNull
            );
        }
    }

    /// `PLR_STORAGE_SIZE_INT8` bytes hold either int8 policy and act as the full storage does;
    /// an f32 policy is refused there, and the int8 policy loaded before stays.
    #[test]
    fn int8_policies_fit_the_small_storage() {
        let mut small = storage();
        let mut full = storage();
        let n = PLR_STORAGE_SIZE_INT8;
        for (file, count) in FILES.into_iter().filter(|(f, _)| f.contains("int8")) {
            let bytes = policy(file);
            unsafe {
                let (b, len) = (bytes.as_ptr(), bytes.len());
                assert_eq!(plr_load(small.0.as_mut_ptr(), n, b, len), PlrStatus::PlrOk);
                assert_eq!(
                    plr_load(full.0.as_mut_ptr(), full.0.len(), b, len),
                    PlrStatus::PlrOk
                );
                let f32_file = policy(FILES[0].0);
                assert_eq!(
                    plr_load(small.0.as_mut_ptr(), n, f32_file.as_ptr(), f32_file.len()),
                    PlrStatus::PlrErrStorageSize
                );
                // `plr_act` checks the length it is given against the network's needs.
                let mut a = [0.0f32];
                let obs = [0.5f32, 0.8, -1.0, 0.25];
                assert_eq!(
                    plr_act(
                        small.0.as_ptr(),
                        1_000,
                        obs.as_ptr(),
                        count,
                        a.as_mut_ptr(),
                        1
                    ),
                    PlrStatus::PlrErrStorageSize,
                    "{file}"
                );
            }
            for obs in observations(count) {
                let mut a = [f32::NAN];
                let (p, len) = (small.0.as_ptr(), n);
                let code = unsafe { plr_act(p, len, obs.as_ptr(), count, a.as_mut_ptr(), 1) };
                assert_eq!((code, a[0].to_bits()), {
                    let (c, b) = act(&full, &obs);
                    (c, b.to_bits())
                });
            }
        }
    }

    /// A 4-input policy replaces a 3-input one in the same storage (and back); each takes
    /// exactly its own number of inputs, and `plr_obs_len` reports it.
    #[test]
    fn the_storage_holds_either_input_count_and_act_checks_it() {
        let mut s = storage();
        let (p, n) = (s.0.as_mut_ptr(), s.0.len());
        let mut inputs = 0usize;
        unsafe {
            assert_eq!(plr_init(p, n), PlrStatus::PlrOk);
            assert_eq!(plr_obs_len(p, n, &mut inputs), PlrStatus::PlrErrNotLoaded);
            assert_eq!(
                plr_obs_len(p, n, std::ptr::null_mut()),
                PlrStatus::PlrErrNull
            );
            assert_eq!(
                plr_obs_len(p, 10, &mut inputs),
                PlrStatus::PlrErrStorageSize
            );
            assert_eq!(
                plr_obs_len(p.add(4), n - 4, &mut inputs),
                PlrStatus::PlrErrStorageAlign
            );
            for (file, count) in FILES.into_iter().chain([FILES[0]]) {
                let bytes = policy(file);
                let p = s.0.as_mut_ptr();
                assert_eq!(
                    plr_load(p, n, bytes.as_ptr(), bytes.len()),
                    PlrStatus::PlrOk
                );
                assert_eq!(plr_obs_len(p, n, &mut inputs), PlrStatus::PlrOk);
                assert_eq!(inputs, count, "{file}");
                let obs = [0.3f32, 0.9, 1.0, 0.5, 0.0];
                for len in 0..=obs.len() {
                    let want_ok = len == count;
                    let (code, _) = act(&s, &obs[..len]);
                    assert_eq!(
                        code == PlrStatus::PlrOk,
                        want_ok,
                        "{file}, {len} inputs: {code:?}"
                    );
                    if !want_ok {
                        assert_eq!(code, PlrStatus::PlrErrLength, "{file}, {len} inputs");
                    }
                }
            }
        }
    }

    fn random_policy_file(shape: policy_runtime::Shape) -> Vec<u8> {
        use policy_runtime::format::{self, LayerSpec, PolicySpec};
        let dims = [shape.obs, shape.hidden1, shape.hidden2, shape.act];
        let layers: Vec<(Vec<f32>, Vec<f32>)> = (0..3)
            .map(|l| (vec![0.01; dims[l] * dims[l + 1]], vec![0.0; dims[l + 1]]))
            .collect();
        let spec = |l: usize| LayerSpec {
            in_dim: dims[l],
            out_dim: dims[l + 1],
            weights: &layers[l].0,
            bias: &layers[l].1,
        };
        let spec = PolicySpec {
            obs_offset: None,
            obs_scale: None,
            layers: [spec(0), spec(1), spec(2)],
            action_low: &[-2.0],
            action_high: &[2.0],
        };
        let mut buf = vec![0u8; 1 << 20];
        let n = format::encode(&spec, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    /// The shipped file with 8 bytes inside the second layer's weights set to 0xFF (at least
    /// one NaN), its CRC recomputed.
    fn non_finite_file() -> Vec<u8> {
        let mut b = policy("pendulum.postcard");
        let n = b.len();
        b[2000..2008].fill(0xFF);
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&b[..n - 4]);
        b[n - 4..].copy_from_slice(&crc.to_le_bytes());
        b
    }
}

mod c_program {
    use super::*;

    /// `examples/plr_example.c`, compiled by the host's C compiler against the static library
    /// (built by cargo), prints the same actions and codes as the Rust runtime, bit for bit;
    /// for a 4-input policy it feeds back its previous action.
    #[test]
    fn a_c_program_gives_the_rust_runtimes_actions() {
        let Some(cc) = ["cc", "gcc", "clang"]
            .into_iter()
            .find(|c| Command::new(c).arg("--version").output().is_ok())
        else {
            panic!("no C compiler (cc, gcc or clang) on PATH");
        };
        let workspace = root().join("..");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(&workspace)
            .args(["build", "--release", "-p", "policy-runtime-c", "--lib"])
            .status()
            .unwrap();
        assert!(status.success(), "building the static library");
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| workspace.join("target"), PathBuf::from);
        let lib = target_dir.join("release").join("libpolicy_runtime_c.a");
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("plr_example");
        let out = Command::new(cc)
            .arg("-O2")
            .arg("-Wall")
            .arg("-Werror")
            .arg("-I")
            .arg(root().join("include"))
            .arg(root().join("examples").join("plr_example.c"))
            .arg(&lib)
            .args(["-lpthread", "-ldl", "-lm", "-o"])
            .arg(&exe)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cc}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (file, n) in FILES {
            let path = workspace.join("policies").join(file);
            let out = Command::new(&exe).arg(&path).output().unwrap();
            assert!(
                out.status.success(),
                "{file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let host = DynPolicy::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            let mut lines = 0;
            let mut previous = 0.0f32;
            for line in text.lines() {
                let v: Vec<u32> = line
                    .split_whitespace()
                    .map(|t| u32::from_str_radix(t, 16).unwrap_or(u32::MAX))
                    .collect();
                assert_eq!(v.len(), n + 2, "{file}: {line}");
                let obs: Vec<f32> = v[..n].iter().map(|&b| f32::from_bits(b)).collect();
                if n == 4 {
                    assert_eq!(obs[3].to_bits(), previous.to_bits(), "{file}: fed back");
                }
                let mut want = [0.0f32];
                host.act(&obs, &mut want).unwrap();
                assert_eq!(v[n + 1], want[0].to_bits(), "{file} {obs:?}: C {line}");
                assert_eq!(v[n], 0, "{file} {obs:?}: status");
                previous = want[0];
                lines += 1;
            }
            assert_eq!(lines, 200, "{file}: {text}");
        }
    }
}
