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

/// 64-byte aligned storage.
#[repr(C, align(64))]
struct Storage([u8; PLR_STORAGE_SIZE]);

fn storage() -> Box<Storage> {
    Box::new(Storage([0; PLR_STORAGE_SIZE]))
}

fn act(s: &Storage, obs: &[f32; 3]) -> (PlrStatus, f32) {
    let mut a = [f32::NAN];
    let code = unsafe { plr_act(s.0.as_ptr(), s.0.len(), obs.as_ptr(), 3, a.as_mut_ptr(), 1) };
    (code, a[0])
}

/// Observations on a grid, plus non-finite ones.
fn observations() -> Vec<[f32; 3]> {
    let mut v = Vec::new();
    for i in 0..40 {
        let th = -3.2 + 0.16 * i as f32;
        for w in [-8.0, -1.5, 0.0, 0.7, 8.0] {
            v.push([th.cos(), th.sin(), w]);
        }
    }
    v.push([f32::NAN, 0.0, 0.0]);
    v.push([1.0, f32::INFINITY, 0.0]);
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
            "PLR_ERR_SHAPE",
        ] {
            assert!(text.contains(name), "{name} missing from the header");
        }
    }
}

mod api {
    use super::*;

    #[test]
    fn actions_equal_the_rust_runtime_in_both_precisions() {
        for file in ["pendulum.postcard", "pendulum-int8.postcard"] {
            let bytes = policy(file);
            let mut s = storage();
            assert!(plr_storage_size() <= PLR_STORAGE_SIZE);
            let code =
                unsafe { plr_load(s.0.as_mut_ptr(), s.0.len(), bytes.as_ptr(), bytes.len()) };
            assert_eq!(code, PlrStatus::PlrOk, "{file}");
            let host = DynPolicy::from_bytes(&bytes).unwrap();
            for obs in observations() {
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
    /// (built by cargo), prints the same actions and codes as the Rust runtime, bit for bit.
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
        for file in ["pendulum.postcard", "pendulum-int8.postcard"] {
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
            for line in text.lines() {
                let v: Vec<u32> = line
                    .split_whitespace()
                    .map(|t| u32::from_str_radix(t, 16).unwrap_or(u32::MAX))
                    .collect();
                let obs = [v[0], v[1], v[2]].map(f32::from_bits);
                let mut want = [0.0f32];
                host.act(&obs, &mut want).unwrap();
                assert_eq!(v[4], want[0].to_bits(), "{file} {obs:?}: C {line}");
                assert_eq!(v[3], 0, "{file} {obs:?}: status");
                lines += 1;
            }
            assert_eq!(lines, 200, "{file}: {text}");
        }
    }
}
