//! Latency and size benchmark of the firmware: instructions per inference on the emulated
//! Cortex-M4, instructions per multiply-add, section sizes and stack use.

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
