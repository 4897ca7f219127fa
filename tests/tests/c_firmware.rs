//! C firmware (issue 13 §4): a bare-metal C program (`policy-runtime-c/examples/firmware/`)
//! compiled with `arm-none-eabi-gcc` and linked against `policy-runtime-c`'s static library for
//! the Cortex-M4F, run under QEMU (`netduinoplus2`), and for the Cortex-M0 (`microbit`, 16 KiB
//! of RAM: int8 policies in `PLR_STORAGE_SIZE_INT8` bytes). Its actions equal the Rust runtime's, and
//! so the Rust firmware's (`hil::firmware_self_test_under_qemu` pins those), bit for bit, for
//! both weight precisions, and for a policy that observes the previous action (4 inputs).

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A board the C firmware is built for: the Rust target of its static library, the C
/// compiler's CPU flags, the linker script, the storage size and the QEMU machine.
struct CBoard {
    target: &'static str,
    cflags: &'static [&'static str],
    link: &'static str,
    storage: &'static str,
    machine: &'static str,
}

const M4F: CBoard = CBoard {
    target: "thumbv7em-none-eabihf",
    cflags: &[
        "-mcpu=cortex-m4",
        "-mthumb",
        "-mfloat-abi=hard",
        "-mfpu=fpv4-sp-d16",
    ],
    link: "link.ld",
    storage: "PLR_STORAGE_SIZE",
    machine: "netduinoplus2",
};

const M0: CBoard = CBoard {
    target: "thumbv6m-none-eabi",
    cflags: &["-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"],
    link: "link-m0.ld",
    storage: "PLR_STORAGE_SIZE_INT8",
    machine: "microbit",
};

/// The static library for `target`, built by cargo.
fn static_library(target: &str) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    assert!(hil_protocol::build_config::board_of_target(target).is_some());
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
fn build(board: &CBoard, dir: &Path, lib: &Path, policy: &[u8]) -> PathBuf {
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
        .args(board.cflags)
        .arg(format!("-DSTORAGE_BYTES={}", board.storage))
        .args(["-O2", "-Wall", "-Werror", "-ffreestanding", "-nostdlib"])
        .args([
            "-ffunction-sections",
            "-fdata-sections",
            "-Wl,--gc-sections",
        ])
        .arg("-Wl,--no-warn-execstack")
        .arg("-L")
        .arg(&fw)
        .arg("-T")
        .arg(fw.join(board.link))
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

/// Runs the firmware under QEMU; returns its semihosting console (QEMU's stderr) and whether
/// it exited with status 0.
fn run(board: &CBoard, elf: &Path) -> (String, bool) {
    let out = Command::new("timeout")
        .arg("60")
        .arg(hil::qemu::QEMU)
        .args(["-M", board.machine, "-nographic", "-monitor", "none"])
        .args([
            "-serial",
            "null",
            "-semihosting-config",
            "enable=on,target=native",
        ])
        .arg("-kernel")
        .arg(elf)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    // SYS_WRITE0 output is QEMU's semihosting console: its stderr.
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (text, out.status.success())
}

/// Checks the firmware's printed actions against the Rust runtime's.
fn check_actions(file: &str, policy: &[u8], text: &str) {
    let known: [[u32; 3]; 4] = [
        [0x3f80_0000, 0, 0],
        [0xbf80_0000, 0, 0],
        [0x3f35_04f3, 0x3f35_04f3, 0xc000_0000],
        [0x7fc0_0000, 0, 0],
    ];
    assert!(text.contains("c-firmware: PASS"), "{file}: {text}");
    let host = policy_runtime::DynPolicy::from_bytes(policy).unwrap();
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

#[test]
fn c_firmware_under_qemu_matches_the_rust_runtime() {
    if !hil::qemu::available() {
        eprintln!("SKIPPED: qemu-system-arm is missing (bash scripts/setup.sh installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The M4F takes every file; the M0's int8-sized storage takes the int8 ones and refuses
    // an f32 one with PLR_ERR_STORAGE_SIZE (-2).
    let runs: [(&CBoard, &[&str]); 2] = [
        (
            &M4F,
            &[
                "pendulum.postcard",
                "pendulum-int8.postcard",
                "strong-motor-prev-action.postcard",
                "strong-motor-prev-action-int8.postcard",
            ],
        ),
        (
            &M0,
            &[
                "pendulum-int8.postcard",
                "strong-motor-prev-action-int8.postcard",
                "pendulum.postcard",
            ],
        ),
    ];
    for (board, files) in runs {
        let lib = static_library(board.target);
        for file in files {
            let policy = std::fs::read(workspace().join("policies").join(file)).unwrap();
            let elf = build(board, dir.path(), &lib, &policy);
            let (text, ok) = run(board, &elf);
            let what = format!("{} {file}", board.machine);
            if board.storage == "PLR_STORAGE_SIZE_INT8" && !file.contains("int8") {
                assert!(!ok, "{what}: an f32 policy in int8 storage ran: {text}");
                assert!(text.contains("plr_load failed with -2"), "{what}: {text}");
                continue;
            }
            assert!(ok, "{what}: QEMU failed: {text}");
            check_actions(&what, &policy, &text);
        }
    }
}

/// `PLR_STORAGE_SIZE_INT8` as the header gives it to a C compiler for `board` (the value
/// of the macro after preprocessing with the board's CPU flags).
fn int8_storage_seen_by_c(board: &CBoard) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("size.c");
    std::fs::write(
        &src,
        "#include \"policy_runtime.h\"\nplr_storage_size_int8 = PLR_STORAGE_SIZE_INT8;\n",
    )
    .unwrap();
    let out = Command::new("arm-none-eabi-gcc")
        .args(board.cflags)
        .args(["-E", "-P", "-I"])
        .arg(workspace().join("policy-runtime-c").join("include"))
        .arg(&src)
        .output()
        .unwrap_or_else(|e| {
            panic!("arm-none-eabi-gcc: {e} (bash scripts/setup.sh installs gcc-arm-none-eabi)")
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("plr_storage_size_int8 = "))
        .unwrap_or_else(|| panic!("no value in {text}"));
    line.trim_end_matches(';').trim().parse().unwrap()
}

/// The header picks the int8 storage size per core: the Cortex-M0 keeps one byte per weight
/// (a smaller `PLR_STORAGE_SIZE_INT8`), the Cortex-M4F pair-packs its hidden layers. That the
/// sizes suffice is what the runs above check (the M0 loads both int8 files into exactly
/// `PLR_STORAGE_SIZE_INT8` bytes).
#[test]
fn the_header_gives_each_core_its_int8_storage_size() {
    let (m0, m4f) = (int8_storage_seen_by_c(&M0), int8_storage_seen_by_c(&M4F));
    assert!(m0 < m4f, "M0 {m0} B, M4F {m4f} B");
}
