//! Which board an image was built for, read from the image itself: the ELF's Arm build
//! attributes (`.ARM.attributes`, "Addenda to, and Errata in, the ABI for the Arm
//! Architecture", build attributes) name the architecture the compiler targeted, and
//! [`hil_protocol::build_config::BOARDS`] has one board per target.

use std::path::Path;

use hil_protocol::build_config::{BOARDS, Board, board_of_target};

use crate::HilError;

/// `Tag_CPU_arch` values of the boards' targets.
const ARCH_V6S_M: u64 = 12;
const ARCH_V7E_M: u64 = 13;
const ARCH_V8M_MAIN: u64 = 17;

/// The board an ELF image was built for.
pub fn board_of_elf(elf: &Path) -> Result<&'static Board, HilError> {
    use object::{Object, ObjectSection};
    let bytes =
        std::fs::read(elf).map_err(|e| HilError::io(format!("reading {}", elf.display()), e))?;
    let file = object::File::parse(&*bytes)
        .map_err(|e| HilError::Build(format!("{} is not an ELF file: {e}", elf.display())))?;
    let attributes = file
        .section_by_name(".ARM.attributes")
        .and_then(|s| s.data().ok())
        .ok_or_else(|| {
            HilError::Build(format!(
                "{} has no Arm build attributes: not a Cortex-M image",
                elf.display()
            ))
        })?;
    let arch = cpu_arch(attributes).ok_or_else(|| {
        HilError::Build(format!(
            "{}: cannot read Tag_CPU_arch from its build attributes",
            elf.display()
        ))
    })?;
    let target = match arch {
        ARCH_V7E_M => "thumbv7em-none-eabihf",
        ARCH_V8M_MAIN => "thumbv8m.main-none-eabihf",
        ARCH_V6S_M | 11 => "thumbv6m-none-eabi",
        _ => "",
    };
    board_of_target(target).ok_or_else(|| {
        let cores: Vec<&str> = BOARDS.iter().map(|b| b.core).collect();
        HilError::Build(format!(
            "{} is built for Arm architecture {arch} (Tag_CPU_arch), none of the boards ({})",
            elf.display(),
            cores.join(", ")
        ))
    })
}

fn uleb(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn skip_string(b: &[u8], pos: &mut usize) -> Option<()> {
    let end = b.get(*pos..)?.iter().position(|&c| c == 0)?;
    *pos += end + 1;
    Some(())
}

/// `Tag_CPU_arch` (6) of the "aeabi" subsection's file attributes.
fn cpu_arch(b: &[u8]) -> Option<u64> {
    // 'A', then subsections: u32 length, vendor name, then sub-subsections.
    if b.first() != Some(&b'A') {
        return None;
    }
    let mut pos = 1;
    while pos + 4 <= b.len() {
        let len = u32::from_le_bytes(b.get(pos..pos + 4)?.try_into().ok()?) as usize;
        let sub = b.get(pos..pos + len)?;
        pos += len.max(4);
        let mut p = 4;
        let vendor_end = sub.get(p..)?.iter().position(|&c| c == 0)?;
        if sub.get(p..p + vendor_end)? != b"aeabi" {
            continue;
        }
        p += vendor_end + 1;
        // Tag_File (1), u32 size, then tag/value pairs.
        if sub.get(p) != Some(&1) {
            return None;
        }
        let size = u32::from_le_bytes(sub.get(p + 1..p + 5)?.try_into().ok()?) as usize;
        let attrs = sub.get(p + 5..p + size)?;
        let mut q = 0;
        while q < attrs.len() {
            let tag = uleb(attrs, &mut q)?;
            match tag {
                6 => return uleb(attrs, &mut q),
                // NTBS-valued tags; Tag_compatibility is a number then a string.
                4 | 5 | 67 => skip_string(attrs, &mut q)?,
                32 => {
                    uleb(attrs, &mut q)?;
                    skip_string(attrs, &mut q)?;
                }
                _ => {
                    uleb(attrs, &mut q)?;
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attributes shaped like those LLVM writes for thumbv8m.main-none-eabihf (`readelf -A`):
    /// Tag_conformance "2.09", Tag_CPU_arch 17, Tag_CPU_arch_profile 'M', ...
    #[test]
    fn cpu_arch_is_read_past_a_string_tag() {
        let mut attrs = vec![67u8];
        attrs.extend_from_slice(b"2.09\0");
        attrs.extend_from_slice(&[6, 17, 7, 77, 8, 0]);
        let mut file = vec![1u8];
        file.extend_from_slice(&(5 + attrs.len() as u32).to_le_bytes());
        file.extend_from_slice(&attrs);
        let mut sub = Vec::new();
        let len = 4 + 6 + file.len();
        sub.extend_from_slice(&(len as u32).to_le_bytes());
        sub.extend_from_slice(b"aeabi\0");
        sub.extend_from_slice(&file);
        let mut section = vec![b'A'];
        section.extend_from_slice(&sub);
        assert_eq!(cpu_arch(&section), Some(17));
        assert_eq!(cpu_arch(&section[..section.len() - 8]), None);
        assert_eq!(cpu_arch(b"B"), None);
    }
}
