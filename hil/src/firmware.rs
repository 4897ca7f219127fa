//! Building the firmware image for a given policy (the "flash" step, as seen from the host).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::HilError;

/// Rust target of the firmware.
pub const TARGET: &str = "thumbv7em-none-eabihf";

/// What an image is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareConfig {
    /// Policy file to embed (validated by the firmware's build script).
    pub policy: PathBuf,
    /// Control period in microseconds (`CONTROL_PERIOD_US`).
    pub control_period_us: u32,
    /// Watchdog period in control periods (`WATCHDOG_PERIODS`).
    pub watchdog_periods: u32,
}

impl FirmwareConfig {
    /// The defaults of the firmware (50 ms period, watchdog after 2 periods) for `policy`.
    pub fn new(policy: impl Into<PathBuf>) -> Self {
        Self {
            policy: policy.into(),
            control_period_us: 50_000,
            watchdog_periods: 2,
        }
    }
}

/// A built firmware image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The ELF file to give QEMU (`-kernel`).
    pub elf: PathBuf,
    /// [`hil_protocol::policy_hash`] of the embedded policy file.
    pub policy_hash: u64,
}

/// The firmware package folder (beside this crate in the repository).
pub fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("firmware")
}

/// The shipped policy file.
pub fn shipped_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("policies")
        .join("pendulum.postcard")
}

/// The message of a failed firmware build: the build script's own errors when it refused
/// (they name the file and the problem), else the last 30 lines of cargo's output.
fn build_error(stderr: &str) -> String {
    const MARK: &str = "error: firmware@";
    let own: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix(MARK))
        .map(|l| l.split_once(": ").map_or(l, |(_, m)| m))
        .collect();
    if !own.is_empty() {
        return own.join("\n");
    }
    let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Serialises builds started from this process (they share one target folder).
static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// Builds (if needed: cargo's incremental build) the release firmware embedding
/// `config.policy`, and copies the ELF to a file named after the policy hash and settings.
pub fn build(config: &FirmwareConfig) -> Result<Image, HilError> {
    let bytes = std::fs::read(&config.policy)
        .map_err(|e| HilError::io(format!("reading policy {}", config.policy.display()), e))?;
    let policy_hash = hil_protocol::policy_hash(&bytes);
    let policy = std::path::absolute(&config.policy)
        .map_err(|e| HilError::io(format!("resolving {}", config.policy.display()), e))?;
    let dir = firmware_dir();
    let target_dir = dir.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let output = Command::new(cargo)
        .current_dir(&dir)
        .args(["build", "--release", "--target", TARGET])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MANIFEST_DIR")
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("POLICY_FILE", &policy)
        .env("CONTROL_PERIOD_US", config.control_period_us.to_string())
        .env("WATCHDOG_PERIODS", config.watchdog_periods.to_string())
        .output()
        .map_err(|e| HilError::io("starting cargo to build the firmware", e))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(HilError::Build(build_error(&stderr)));
    }
    let built = target_dir.join(TARGET).join("release").join("firmware");
    let images = target_dir.join("images");
    std::fs::create_dir_all(&images)
        .map_err(|e| HilError::io(format!("creating {}", images.display()), e))?;
    let elf = images.join(format!(
        "firmware-{policy_hash:016x}-{}us-{}.elf",
        config.control_period_us, config.watchdog_periods
    ));
    std::fs::copy(&built, &elf).map_err(|e| {
        HilError::io(
            format!("copying {} to {}", built.display(), elf.display()),
            e,
        )
    })?;
    Ok(Image { elf, policy_hash })
}
