//! Latency and size benchmark of the firmware: instructions per inference on the emulated
//! cores, instructions per multiply-add, section sizes and stack use. [`run`] times the link
//! server on the M4F over the serial link; [`run_on_core`] runs the self-test image on any
//! board of `hil_protocol::build_config::BOARDS`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::HilError;
use crate::firmware::{self, FirmwareConfig};
use crate::policy_file::shape_of;
use crate::report::quantile;
use crate::session::{Session, SessionConfig};
use policy_runtime::Shape;

/// Sizes of the allocated sections of an ELF image, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sections {
    /// `.vector_table` (flash).
    pub vector_table: u64,
    /// `.text` (flash).
    pub text: u64,
    /// `.rodata` (flash; holds the weights).
    pub rodata: u64,
    /// `.data` (flash and RAM).
    pub data: u64,
    /// `.bss` (RAM).
    pub bss: u64,
}

impl Sections {
    /// Flash use: vector table, code, read-only data and the initial values of `.data`.
    pub fn flash(&self) -> u64 {
        self.vector_table + self.text + self.rodata + self.data
    }
}

/// Reads the section sizes of an ELF file (the `object` crate's reader).
pub fn sections(elf: &Path) -> Result<Sections, HilError> {
    use object::{Object, ObjectSection};
    let b =
        std::fs::read(elf).map_err(|e| HilError::io(format!("reading {}", elf.display()), e))?;
    let file = object::File::parse(&*b)
        .map_err(|e| HilError::Build(format!("{} is not an ELF file: {e}", elf.display())))?;
    let mut s = Sections::default();
    for section in file.sections() {
        let size = section.size();
        match section.name().unwrap_or_default() {
            ".vector_table" => s.vector_table += size,
            ".text" => s.text += size,
            ".rodata" => s.rodata += size,
            ".data" => s.data += size,
            ".bss" => s.bss += size,
            _ => {}
        }
    }
    Ok(s)
}

/// Benchmark figures of one policy shape.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResult {
    /// Policy dimensions.
    pub dims: Shape,
    /// The policy file used.
    pub policy: PathBuf,
    /// Inferences timed.
    pub samples: usize,
    /// Median instructions per inference.
    pub median_instructions: f64,
    /// Maximum instructions per inference.
    pub max_instructions: f64,
    /// Section sizes of the image.
    pub sections: Sections,
    /// Peak stack of one inference, bytes.
    pub inference_stack: u32,
    /// Peak stack of the whole firmware during the run, bytes.
    pub peak_stack: u32,
}

impl BenchResult {
    /// Median instructions per multiply-add.
    pub fn instructions_per_mac(&self) -> f64 {
        self.median_instructions / self.dims.multiply_adds() as f64
    }

    /// RAM use: `.data` + `.bss` + peak stack.
    pub fn ram(&self) -> u64 {
        self.sections.data + self.sections.bss + u64::from(self.peak_stack)
    }
}

/// Builds the image for `policy`, runs `samples` inferences on random observations (seeded)
/// in QEMU and collects the figures.
pub fn run(policy: &Path, samples: usize, seed: u64) -> Result<BenchResult, HilError> {
    let bytes = std::fs::read(policy)
        .map_err(|e| HilError::io(format!("reading {}", policy.display()), e))?;
    let dims = shape_of(&bytes)?;
    let image = firmware::build(&FirmwareConfig::new(policy))?;
    let sections = sections(&image.elf)?;
    let config = SessionConfig {
        qemu_limit: Duration::from_secs(300),
        ..SessionConfig::default()
    };
    let mut session = Session::start(&image, config)?;
    let inference_stack = session.hello().inference_stack;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut counts = Vec::with_capacity(samples);
    for _ in 0..samples {
        let th: f32 = rng.random_range(-std::f32::consts::PI..std::f32::consts::PI);
        let mut obs = vec![th.cos(), th.sin(), rng.random_range(-8.0..8.0)];
        obs.resize(dims.obs, 0.5);
        let reply = session.act(&obs)?;
        counts.push(f64::from(reply.action.instructions));
    }
    let summary = session.shutdown()?;
    Ok(BenchResult {
        dims,
        policy: policy.to_path_buf(),
        samples,
        median_instructions: quantile(&counts, 0.5).unwrap_or(f64::NAN),
        max_instructions: quantile(&counts, 1.0).unwrap_or(f64::NAN),
        sections,
        inference_stack,
        peak_stack: summary.board_peak_stack,
    })
}

/// One line of the benchmark table.
pub fn format_row(r: &BenchResult) -> String {
    format!(
        "{:<12} {:>6} {:>12.0} {:>10.0} {:>8.2} {:>8} {:>8} {:>6} {:>6} {:>9} {:>7} {:>7} {:>7}",
        r.dims.to_string(),
        r.dims.multiply_adds(),
        r.median_instructions,
        r.max_instructions,
        r.instructions_per_mac(),
        r.sections.text,
        r.sections.rodata,
        r.sections.data,
        r.sections.bss,
        r.sections.flash(),
        r.inference_stack,
        r.peak_stack,
        r.ram(),
    )
}

/// Header of the benchmark table (bytes for sizes).
pub const HEADER: &str = "policy          MACs  instr(med)  instr(max) instr/MAC    .text  .rodata  .data   .bss     flash inf.stk  peakstk     RAM";

/// Benchmark figures of one policy on one core, from its self-test image (`selftest`: the
/// policy, the instruction counter and the log, no link code), so every core runs the same
/// program.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoreBench {
    /// The policy file.
    pub policy: PathBuf,
    /// Its dimensions, `OBS-H1-H2-ACT`.
    pub shape: String,
    /// The core (`m0`, `m4f`, `m33f`).
    pub target: String,
    /// The QEMU machine it ran on.
    pub machine: String,
    /// The weight precision (`f32`, `int8`).
    pub precision: String,
    /// Multiply-adds per inference.
    pub macs: usize,
    /// Instructions per inference (QEMU `-icount`, SysTick-calibrated; every input does the
    /// same work).
    pub instructions: u32,
    /// Instructions per multiply-add.
    pub instructions_per_mac: f64,
    /// Estimated cycles per inference: the core's timing model ([`crate::cycles`]) applied
    /// to the executed instruction stream. An estimate, not a measurement.
    pub est_cycles: Option<f64>,
    /// Instructions in the traced inference window (it must agree with `instructions`).
    pub traced_instructions: u32,
    /// `est_cycles` at the core's typical clock, µs (an estimate).
    pub est_latency_us: f64,
    /// The typical clock of a part with this core, Hz.
    pub typical_clock_hz: u32,
    /// Flash: vector table, code, read-only data (the weights) and `.data`'s initial values.
    pub flash_bytes: u64,
    /// RAM: `.data` + `.bss` + the peak stack of one inference.
    pub ram_bytes: u64,
    /// Peak stack of one inference, bytes.
    pub inference_stack: u32,
    /// The three known observations' action bits, as the self-test printed them.
    pub action_bits: Vec<String>,
    /// One inference's instructions and estimated cycles per source line, most first
    /// ([`crate::profile`]); in JSON only when not empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<crate::profile::LineCost>,
}

/// What the self-test printed: precision, instruction count, stack and the actions' bits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelfTestLog {
    /// `precision …` of the policy line.
    pub precision: String,
    /// Instructions per inference.
    pub instructions: u32,
    /// Inference stack, bytes.
    pub inference_stack: u32,
    /// Each known observation's action bits (`[0x3d0811a0]`).
    pub action_bits: Vec<String>,
    /// `selftest: PASS` was printed.
    pub passed: bool,
}

impl SelfTestLog {
    /// Parses the self-test's log lines.
    pub fn parse(log: &str) -> Result<Self, HilError> {
        let mut out = Self::default();
        for line in log.lines() {
            if let Some(rest) = line.split_once(" precision ").map(|(_, r)| r) {
                out.precision = rest.trim().to_string();
            }
            if let Some(bits) = line
                .split_once("action bits ")
                .and_then(|(_, r)| r.split_once(" = "))
                .map(|(b, _)| b)
            {
                out.action_bits.push(bits.to_string());
            }
            if let Some(rest) = line.strip_prefix("selftest: instructions per inference ") {
                let (n, stack) = rest.split_once(", inference stack ").unwrap_or((rest, ""));
                out.instructions = n.trim().parse().unwrap_or(0);
                out.inference_stack = stack.trim_end_matches(" B").parse().unwrap_or(0);
            }
            out.passed |= line.trim() == "selftest: PASS";
        }
        if !out.passed || out.instructions == 0 || out.precision.is_empty() {
            return Err(HilError::Qemu(format!(
                "the self-test did not report its figures and PASS:\n{log}"
            )));
        }
        Ok(out)
    }
}

/// Builds the self-test image for `policy` on `board`, runs it under QEMU and collects the
/// figures.
pub fn run_on_core(
    policy: &Path,
    board: &'static hil_protocol::build_config::Board,
) -> Result<CoreBench, HilError> {
    let bytes = std::fs::read(policy)
        .map_err(|e| HilError::io(format!("reading {}", policy.display()), e))?;
    let dims = shape_of(&bytes)?;
    let mut config = FirmwareConfig::new(policy);
    config.board = board;
    let elf = firmware::build_self_test(&config)?;
    let sections = sections(&elf)?;
    let mut log = Vec::new();
    let code = crate::qemu::run_with_log(&elf, Duration::from_secs(120), &mut log)?;
    let log = String::from_utf8_lossy(&log).into_owned();
    if code != 0 {
        return Err(HilError::Qemu(format!(
            "the self-test on {} exited with status {code}:\n{log}",
            board.core
        )));
    }
    let run = SelfTestLog::parse(&log)?;
    let macs = dims.multiply_adds();
    let est = estimate_cycles(&elf, board, run.instructions)?;
    Ok(CoreBench {
        policy: policy.to_path_buf(),
        shape: dims.to_string(),
        target: board.core.to_string(),
        machine: board.qemu_machine.to_string(),
        precision: run.precision,
        macs,
        instructions: run.instructions,
        instructions_per_mac: f64::from(run.instructions) / macs.max(1) as f64,
        est_cycles: Some(est.cycles as f64),
        traced_instructions: est.instructions,
        est_latency_us: est.cycles as f64 * 1e6 / f64::from(board.typical_clock_hz),
        typical_clock_hz: board.typical_clock_hz,
        flash_bytes: sections.flash(),
        ram_bytes: sections.data + sections.bss + u64::from(run.inference_stack),
        inference_stack: run.inference_stack,
        action_bits: run.action_bits,
        profile: est.profile,
    })
}

/// A row's profile as text: its `top` source lines by instructions, each with its share of
/// the inference and its estimated cycles, then the rest in one line.
pub fn format_profile(row: &CoreBench, top: usize) -> String {
    let total: u64 = row.profile.iter().map(|l| l.instructions).sum();
    let share = |n: u64| 100.0 * n as f64 / total.max(1) as f64;
    let mut out = format!(
        "{} {} {}: {total} instructions traced, by source line\n{:>12} {:>6} {:>11}  location\n",
        row.target, row.precision, row.shape, "instructions", "share", "est.cycles"
    );
    for l in row.profile.iter().take(top) {
        out.push_str(&format!(
            "{:>12} {:>5.1}% {:>11}  {}\n",
            l.instructions,
            share(l.instructions),
            l.est_cycles,
            l.location
        ));
    }
    let rest = row.profile.iter().skip(top);
    let (n, i, c) = rest.fold((0, 0, 0), |(n, i, c), l| {
        (n + 1, i + l.instructions, c + l.est_cycles)
    });
    if n > 0 {
        out.push_str(&format!(
            "{i:>12} {:>5.1}% {c:>11}  ({n} other lines)\n",
            share(i)
        ));
    }
    out
}

/// The cycle estimate of one inference and the window's instruction count.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleEstimate {
    /// Estimated cycles.
    pub cycles: u64,
    /// Instructions in the traced window.
    pub instructions: u32,
    /// The window per source line ([`crate::profile::by_line`]; lines from the image's DWARF
    /// line table, addresses where it has none).
    pub profile: Vec<crate::profile::LineCost>,
}

/// Traces the self-test image `elf` and applies `board`'s timing model to its last inference.
/// The traced window must hold the SysTick-counted `instructions` (within the count's
/// resolution and the call's few instructions), or the window is not the inference.
pub fn estimate_cycles(
    elf: &Path,
    board: &hil_protocol::build_config::Board,
    instructions: u32,
) -> Result<CycleEstimate, HilError> {
    let entry = infer_address(elf)?;
    let log = crate::qemu::run_with_trace(elf, Duration::from_secs(300))?;
    let blocks = crate::cycles::executed_blocks(&log);
    let window = crate::cycles::inference_window(&blocks, entry).ok_or_else(|| {
        HilError::Qemu(format!(
            "the trace of {} never enters the inference at {entry:#x}",
            elf.display()
        ))
    })?;
    let traced = u32::try_from(window.len()).unwrap_or(u32::MAX);
    let tolerance = 100 + instructions / 100;
    if traced.abs_diff(instructions) > tolerance {
        return Err(HilError::Qemu(format!(
            "the traced inference holds {traced} instructions, SysTick counted {instructions}: \
             the trace window is not the inference"
        )));
    }
    let core = crate::cycles::Core::of(board.core);
    let lines = crate::profile::LineTable::of(elf).ok();
    let profile = crate::profile::by_line(core, &window, |pc| {
        lines.as_ref().and_then(|t| t.location(pc))
    });
    Ok(CycleEstimate {
        cycles: crate::cycles::estimate(core, &window),
        instructions: traced,
        profile,
    })
}

/// Address of `firmware::control_loop::infer` (Thumb bit cleared) in an image.
fn infer_address(elf: &Path) -> Result<u32, HilError> {
    symbol_address(elf, "control_loop5infer")?.ok_or_else(|| {
        HilError::Build(format!(
            "{} has no control_loop::infer symbol",
            elf.display()
        ))
    })
}

/// The address (Thumb bit cleared) of the first symbol of an image whose (mangled) name
/// contains `part`, e.g. `4core3fmt5write` for `core::fmt::write`; `None` if no symbol does.
pub fn symbol_address(elf: &Path, part: &str) -> Result<Option<u32>, HilError> {
    use object::{Object, ObjectSymbol};
    let b =
        std::fs::read(elf).map_err(|e| HilError::io(format!("reading {}", elf.display()), e))?;
    let file = object::File::parse(&*b)
        .map_err(|e| HilError::Build(format!("{} is not an ELF file: {e}", elf.display())))?;
    Ok(file
        .symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains(part)))
        .map(|s| (s.address() as u32) & !1))
}

/// Header of the per-core table.
pub const CORE_HEADER: &str = "target  machine        precision policy          MACs  instructions instr/MAC est.cycles cyc/MAC  clock  est.latency    flash      RAM";

/// One line of the per-core table.
pub fn format_core_row(r: &CoreBench) -> String {
    format!(
        "{:<7} {:<14} {:<9} {:<12} {:>7} {:>13} {:>9.2} {:>10} {:>7} {:>6} {:>12} {:>8} {:>8}",
        r.target,
        r.machine,
        r.precision,
        r.shape,
        r.macs,
        r.instructions,
        r.instructions_per_mac,
        r.est_cycles.map_or("-".to_string(), |c| format!("{c:.0}")),
        r.est_cycles.map_or("-".to_string(), |c| format!(
            "{:.2}",
            c / r.macs.max(1) as f64
        )),
        format!("{}M", r.typical_clock_hz / 1_000_000),
        format!("{:.1} us", r.est_latency_us),
        r.flash_bytes,
        r.ram_bytes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_elf_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.elf");
        std::fs::write(&p, b"not an elf file at all").unwrap();
        assert!(matches!(sections(&p), Err(HilError::Build(_))));
        // A 64-bit ELF header (like the host's own binaries) is refused too.
        std::fs::write(&p, [0x7f, b'E', b'L', b'F', 2, 1, 1, 0]).unwrap();
        assert!(sections(&p).is_err());
    }
}
