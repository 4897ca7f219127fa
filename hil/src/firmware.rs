//! Building the firmware image for a given policy (the "flash" step, as seen from the host).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::HilError;
use hil_protocol::build_config as bc;

/// Rust target of the default board (the M4F, the one with the serial link).
pub const TARGET: &str = bc::BOARDS[0].target;

/// What an image is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareConfig {
    /// Policy file to embed (validated by the firmware's build script).
    pub policy: PathBuf,
    /// Control period in microseconds (`CONTROL_PERIOD_US`).
    pub control_period_us: u32,
    /// Watchdog period in control periods (`WATCHDOG_PERIODS`).
    pub watchdog_periods: u32,
    /// `true` (default): the firmware's `qemu` feature, with its log and its exit over
    /// semihosting (what a QEMU session expects). `false`: built as for a real board
    /// (`--no-default-features`): the log goes to an RTT buffer and no
    /// semihosting call is made, so the image runs without a debugger and stops in a `wfi` loop
    /// after `Bye`.
    pub semihosting: bool,
    /// Show cargo's progress lines (`Compiling …`, `Finished …`) on stderr while building.
    pub show_progress: bool,
    /// The board to build for (default: the M4F, `BOARDS[0]`).
    pub board: &'static bc::Board,
    /// Further firmware features to build with (default none; e.g. `selftest-panics` in a
    /// test of the panic handler).
    pub features: Vec<&'static str>,
}

impl FirmwareConfig {
    /// The defaults of the firmware (50 ms period, watchdog after 2 periods) for `policy`.
    pub fn new(policy: impl Into<PathBuf>) -> Self {
        Self {
            policy: policy.into(),
            control_period_us: bc::DEFAULT_CONTROL_PERIOD_US,
            watchdog_periods: bc::DEFAULT_WATCHDOG_PERIODS,
            semihosting: true,
            show_progress: false,
            board: &bc::BOARDS[0],
            features: Vec::new(),
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

/// Builds the firmware's self-test program (`selftest`, what `cd firmware && cargo run
/// --release` runs) embedding `config.policy`; returns its ELF (run it in QEMU with
/// semihosting on: it prints its results and exits with a status), a copy named after the
/// board, the policy hash and the settings, so a later build with other settings does not
/// replace it.
pub fn build_self_test(config: &FirmwareConfig) -> Result<PathBuf, HilError> {
    let bytes = std::fs::read(&config.policy)
        .map_err(|e| HilError::io(format!("reading policy {}", config.policy.display()), e))?;
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let built = cargo_build(config, "selftest")?;
    let name = format!(
        "selftest-{}-{:016x}{}.elf",
        config.board.core,
        hil_protocol::policy_hash(&bytes),
        settings_suffix(config)
    );
    copy_image(&built, &name)
}

/// The file-name part for the settings other than the policy and the board.
fn settings_suffix(config: &FirmwareConfig) -> String {
    let mut s = format!(
        "-{}us-{}{}",
        config.control_period_us,
        config.watchdog_periods,
        if config.semihosting { "" } else { "-board" }
    );
    for f in &config.features {
        s.push('-');
        s.push_str(f);
    }
    s
}

/// Copies a built ELF into the images folder as `name`; returns the copy's path.
fn copy_image(built: &Path, name: &str) -> Result<PathBuf, HilError> {
    let images = firmware_dir().join("target").join("images");
    std::fs::create_dir_all(&images)
        .map_err(|e| HilError::io(format!("creating {}", images.display()), e))?;
    let elf = images.join(name);
    std::fs::copy(built, &elf).map_err(|e| {
        HilError::io(
            format!("copying {} to {}", built.display(), elf.display()),
            e,
        )
    })?;
    Ok(elf)
}

/// `cargo build --release --bin BIN` of the firmware package with `config`'s build
/// variables; returns the built ELF.
fn cargo_build(config: &FirmwareConfig, bin: &str) -> Result<PathBuf, HilError> {
    let policy = std::path::absolute(&config.policy)
        .map_err(|e| HilError::io(format!("resolving {}", config.policy.display()), e))?;
    let dir = firmware_dir();
    let target_dir = dir.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir).args([
        "build",
        "--release",
        "--bin",
        bin,
        "--target",
        config.board.target,
    ]);
    if !config.semihosting {
        cmd.arg("--no-default-features");
    }
    if !config.features.is_empty() {
        cmd.args(["--features", &config.features.join(",")]);
    }
    let mut child = cmd
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MANIFEST_DIR")
        .env("CARGO_TARGET_DIR", &target_dir)
        .env(bc::POLICY_FILE_VAR, &policy)
        .env(
            bc::CONTROL_PERIOD_US_VAR,
            config.control_period_us.to_string(),
        )
        .env(
            bc::WATCHDOG_PERIODS_VAR,
            config.watchdog_periods.to_string(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| HilError::io("starting cargo to build the firmware", e))?;
    // cargo reports progress and errors on stderr: show the progress, keep all for errors.
    let mut stderr = String::new();
    if let Some(pipe) = child.stderr.take() {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let t = line.trim_start();
            if config.show_progress && (t.starts_with("Compiling") || t.starts_with("Finished")) {
                eprintln!("firmware: {t}");
            }
            stderr.push_str(&line);
            stderr.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|e| HilError::io("waiting for the firmware build", e))?;
    if !status.success() {
        return Err(HilError::Build(build_error(&stderr)));
    }
    Ok(target_dir
        .join(config.board.target)
        .join("release")
        .join(bin))
}

/// Builds (if needed: cargo's incremental build) the release firmware embedding
/// `config.policy`, and copies the ELF to a file named after the policy hash and settings.
pub fn build(config: &FirmwareConfig) -> Result<Image, HilError> {
    let bytes = std::fs::read(&config.policy)
        .map_err(|e| HilError::io(format!("reading policy {}", config.policy.display()), e))?;
    let policy_hash = hil_protocol::policy_hash(&bytes);
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if !config.board.has_link {
        return Err(HilError::Build(format!(
            "the {} board ({}) has no serial link driver: only the self-test builds for it",
            config.board.core, config.board.name
        )));
    }
    let built = cargo_build(config, "firmware")?;
    let name = format!("firmware-{policy_hash:016x}{}.elf", settings_suffix(config));
    let elf = copy_image(&built, &name)?;
    Ok(Image { elf, policy_hash })
}
