//! Where one inference's instructions go, by source line (`hil bench --target … --profile`):
//! the traced instruction window of [`crate::bench::estimate_cycles`], each instruction mapped
//! through the image's DWARF to a source line (the innermost inlined frame outside Rust's own
//! library, so code inlined from `policy-runtime` counts at its own line), with the core's
//! [`cycles`](crate::cycles) estimate beside it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use crate::HilError;
use crate::cycles::{Core, Insn};

/// One source line's share of an inference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineCost {
    /// `file:line` (the path shortened to start at the crate folder, e.g.
    /// `policy-runtime/src/int8.rs:354`), or `0x…` for an address without line information.
    pub location: String,
    /// Instructions executed at this line in one inference.
    pub instructions: u64,
    /// Their estimated cycles (an estimate: see [`crate::cycles`]).
    pub est_cycles: u64,
}

/// Reads an image's DWARF sections for [`by_line`].
pub struct LineTable {
    ctx: addr2line::Context<gimli::EndianRcSlice<gimli::RunTimeEndian>>,
}

impl LineTable {
    /// Loads the line tables of the ELF image `elf`.
    pub fn of(elf: &Path) -> Result<Self, HilError> {
        use object::{Object, ObjectSection};
        let bytes = std::fs::read(elf)
            .map_err(|e| HilError::io(format!("reading {}", elf.display()), e))?;
        let file = object::File::parse(&*bytes)
            .map_err(|e| HilError::Qemu(format!("{}: not an ELF image: {e}", elf.display())))?;
        let endian = if file.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let load = |id: gimli::SectionId| -> Result<_, gimli::Error> {
            let data = file
                .section_by_name(id.name())
                .and_then(|s| s.uncompressed_data().ok())
                .unwrap_or(Cow::Borrowed(&[]));
            Ok(gimli::EndianRcSlice::new(std::rc::Rc::from(&*data), endian))
        };
        let dwarf = gimli::Dwarf::load(load)
            .map_err(|e| HilError::Qemu(format!("{}: DWARF: {e}", elf.display())))?;
        let ctx = addr2line::Context::from_dwarf(dwarf)
            .map_err(|e| HilError::Qemu(format!("{}: DWARF: {e}", elf.display())))?;
        Ok(Self { ctx })
    }

    /// `file:line` of an address: of the innermost inlined frame outside Rust's own library
    /// (so a `wrapping_add` counts at the line of the loop that calls it), or the innermost
    /// line if every frame is in the library; `None` without line information.
    pub fn location(&self, pc: u32) -> Option<String> {
        let mut frames = self.ctx.find_frames(u64::from(pc)).skip_all_loads().ok()?;
        let mut innermost = None;
        while let Ok(Some(frame)) = frames.next() {
            let Some(loc) = frame.location else { continue };
            let (Some(file), Some(line)) = (loc.file, loc.line) else {
                continue;
            };
            let text = format!("{}:{line}", short_path(file));
            if !file.starts_with("/rustc/") {
                return Some(text);
            }
            innermost.get_or_insert(text);
        }
        innermost
    }
}

/// `…/policy-runtime/src/int8.rs` → `policy-runtime/src/int8.rs`: the path from the folder
/// above `src` (a crate's folder), or the path as it is.
pub fn short_path(path: &str) -> &str {
    let Some(src) = path.rfind("/src/") else {
        return path;
    };
    path[..src].rfind('/').map_or(path, |i| &path[i + 1..])
}

/// The window's instructions and estimated cycles per source line, most instructions first
/// (ties by location). `locate` maps an address to its line ([`LineTable::location`]).
pub fn by_line(
    core: Core,
    window: &[(Insn, bool)],
    locate: impl Fn(u32) -> Option<String>,
) -> Vec<LineCost> {
    let mut at: HashMap<u32, String> = HashMap::new();
    let mut cost: HashMap<String, (u64, u64)> = HashMap::new();
    for ((insn, _), cycles) in window.iter().zip(crate::cycles::each(core, window)) {
        let line = at
            .entry(insn.pc)
            .or_insert_with(|| locate(insn.pc).unwrap_or_else(|| format!("{:#x}", insn.pc)));
        let c = cost.entry(line.clone()).or_default();
        c.0 += 1;
        c.1 += u64::from(cycles);
    }
    let mut out: Vec<LineCost> = cost
        .into_iter()
        .map(|(location, (instructions, est_cycles))| LineCost {
            location,
            instructions,
            est_cycles,
        })
        .collect();
    out.sort_by(|a, b| {
        b.instructions
            .cmp(&a.instructions)
            .then_with(|| a.location.cmp(&b.location))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(pc: u32, m: &str) -> (Insn, bool) {
        let i = Insn {
            pc,
            size: 2,
            mnemonic: m.into(),
            operands: String::new(),
        };
        (i, false)
    }

    #[test]
    fn costs_add_up_per_line_and_sort_by_instructions() {
        let window = [
            insn(0x10, "adds"),
            insn(0x12, "muls"),
            insn(0x14, "adds"),
            insn(0x10, "adds"),
            insn(0x12, "muls"),
            insn(0x40, "adds"),
        ];
        let locate = |pc: u32| match pc {
            0x10 | 0x12 => Some("a.rs:1".to_string()),
            0x14 => Some("b.rs:2".to_string()),
            _ => None,
        };
        let lines = by_line(Core::M0, &window, locate);
        let names: Vec<&str> = lines.iter().map(|l| l.location.as_str()).collect();
        assert_eq!(names, ["a.rs:1", "0x40", "b.rs:2"]);
        assert_eq!(lines[0].instructions, 4);
        let total: u64 = lines.iter().map(|l| l.est_cycles).sum();
        assert_eq!(total, crate::cycles::estimate(Core::M0, &window));
    }

    #[test]
    fn paths_are_cut_at_the_crate_folder() {
        assert_eq!(
            short_path("/home/dev/project/policy-runtime/src/int8.rs"),
            "policy-runtime/src/int8.rs"
        );
        assert_eq!(
            short_path("/rustc/abc/library/core/src/iter/adapters/zip.rs"),
            "core/src/iter/adapters/zip.rs"
        );
        assert_eq!(short_path("lib.rs"), "lib.rs");
        assert_eq!(short_path("src/lib.rs"), "src/lib.rs");
    }
}
