//! C firmware (issue 13 §4): a bare-metal C program (`policy-runtime-c/examples/firmware/`)
//! compiled with `arm-none-eabi-gcc` and linked against `policy-runtime-c`'s static library for
//! the Cortex-M4F, run under QEMU (`netduinoplus2`). Its actions equal the Rust runtime's, and
//! so the Rust firmware's (`hil::firmware_self_test_under_qemu` pins those), bit for bit, for
//! both weight precisions, and for a policy that observes the previous action (4 inputs).

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Cortex-M4F static library, built by cargo for the MCU target.
fn static_library() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = hil_protocol::build_config::BOARDS[0].target;
    let status = Command::new(cargo)
        .current_dir(workspace())
        .args(["build", "--release", "-p", "policy-runtime-c", "--lib"])
        .args(["--target", target])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .unwrap();
    assert!(status.success(), "building policy-runtime-c for {target}");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace().join("target"), PathBuf::from);
    target_dir
        .join(target)
        .join("release")
        .join("libpolicy_runtime_c.a")
}

/// Builds the C firmware with `policy` linked in; returns the ELF.
fn build(dir: &Path, lib: &Path, policy: &[u8]) -> PathBuf {
    let bytes: Vec<String> = policy.iter().map(u8::to_string).collect();
    let src = dir.join("policy_file.c");
    std::fs::write(
        &src,
        format!(
            "#include <stdint.h>\n__attribute__((aligned(4))) const uint8_t policy_file[] = {{{}}};\n\
             const uint32_t policy_file_len = {};\n",
            bytes.join(","),
            policy.len()
        ),
    )
    .unwrap();
    let c = workspace().join("policy-runtime-c");
    let fw = c.join("examples").join("firmware");
    let elf = dir.join("c-firmware.elf");
    let out = Command::new("arm-none-eabi-gcc")
        .args([
            "-mcpu=cortex-m4",
            "-mthumb",
            "-mfloat-abi=hard",
            "-mfpu=fpv4-sp-d16",
        ])
        .args(["-O2", "-Wall", "-Werror", "-ffreestanding", "-nostdlib"])
        .args([
            "-ffunction-sections",
            "-fdata-sections",
            "-Wl,--gc-sections",
        ])
        .arg("-Wl,--no-warn-execstack")
        .arg("-T")
        .arg(fw.join("link.ld"))
        .arg("-I")
        .arg(c.join("include"))
        .arg(fw.join("startup.c"))
        .arg(fw.join("main.c"))
        .arg(&src)
        .arg(lib)
        .arg("-lgcc")
        .arg("-o")
        .arg(&elf)
        .output()
        .unwrap_or_else(|e| {
            panic!("arm-none-eabi-gcc: {e} (bash scripts/setup.sh installs gcc-arm-none-eabi)")
        });
    assert!(
        out.status.success(),
        "arm-none-eabi-gcc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elf
}

#[test]
fn c_firmware_under_qemu_matches_the_rust_runtime() {
    if !hil::qemu::available() {
        eprintln!("SKIPPED: qemu-system-arm is missing (bash scripts/setup.sh installs it)");
        return;
    }
    let lib = static_library();
    let dir = tempfile::tempdir().unwrap();
    let known: [[u32; 3]; 4] = [
        [0x3f80_0000, 0, 0],
        [0xbf80_0000, 0, 0],
        [0x3f35_04f3, 0x3f35_04f3, 0xc000_0000],
        [0x7fc0_0000, 0, 0],
    ];
    for file in [
        "pendulum.postcard",
        "pendulum-int8.postcard",
        "strong-motor-prev-action.postcard",
        "strong-motor-prev-action-int8.postcard",
    ] {
        let policy = std::fs::read(workspace().join("policies").join(file)).unwrap();
        let elf = build(dir.path(), &lib, &policy);
        let out = Command::new("timeout")
            .arg("60")
            .arg(hil::qemu::QEMU)
            .args(["-M", "netduinoplus2", "-nographic", "-monitor", "none"])
            .args([
                "-serial",
                "null",
                "-semihosting-config",
                "enable=on,target=native",
            ])
            .arg("-kernel")
            .arg(&elf)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        // SYS_WRITE0 output is QEMU's semihosting console: its stderr.
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: QEMU {}: {text}", out.status);
        assert!(text.contains("c-firmware: PASS"), "{file}: {text}");
        let host = policy_runtime::DynPolicy::from_bytes(&policy).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("action bits")).collect();
        assert_eq!(lines.len(), known.len(), "{file}: {text}");
        // A 4-input policy also gets the previous action (0 first), as main.c feeds it back.
        let mut previous = 0.0f32;
        for (line, obs) in lines.iter().zip(&known) {
            let mut obs = obs.map(f32::from_bits).to_vec();
            if host.shape().obs == 4 {
                obs.push(previous);
            }
            let mut a = [0.0f32];
            let status = host.act(&obs, &mut a).unwrap();
            previous = a[0];
            let code = if status == policy_runtime::Status::Ok {
                0
            } else {
                1
            };
            let want = format!("status {code} action bits 0x{:08x}", a[0].to_bits());
            assert!(
                line.contains(&want),
                "{file} {obs:?}: C {line}, Rust {want}"
            );
        }
    }
}
