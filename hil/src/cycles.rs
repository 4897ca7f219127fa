//! Estimated cycles per inference: a per-instruction timing model of each core applied to the
//! instruction stream QEMU executed. **An estimate, not a measurement**: QEMU does not model
//! pipelines, flash wait states or bus contention.
//!
//! The stream comes from a second QEMU run of the self-test image with `-d in_asm,exec,nochain`
//! (and `-icount shift=0`, so the run is deterministic). QEMU logs each translated block's instructions once (`IN:`), and then every
//! execution of a block (`Trace …`, keyed by the block's host address). [`inference_window`]
//! takes the blocks from the last entry into `control_loop::infer` to the return to its caller;
//! a block logged and then "Stopped … before" it ran nothing and is dropped.
//! It checks the result against the SysTick count: the window's instruction count must agree
//! with it.
//!
//! The timing tables ([`Core`]) use the cycle counts of the cores' Technical Reference Manuals
//! (Cortex-M4 TRM r0p1 §3.3 and §7.2 (FPU); Cortex-M0 TRM r0p0 §3.3). P, the pipeline refill
//! after a taken branch, ranges from 1 to 3 cycles; the model uses 2. A load or store right
//! after another one (not a multiple load) pipelines to 1 cycle on the M4. The M33's TRM gives
//! no full table, so the M33F uses the M4F's: same class of 3-stage pipeline and FPU.

use std::collections::HashMap;

/// Pipeline refill after a taken branch, cycles (the TRMs' P: 1–3).
pub const REFILL: u32 = 2;

/// One executed instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insn {
    /// Its address.
    pub pc: u32,
    /// Its size in bytes (2 or 4).
    pub size: u32,
    /// The mnemonic as QEMU prints it (`ldr.w`, `vmla.f32`, `bne`, `pop`).
    pub mnemonic: String,
    /// The operands (`r0, [r1, #4]`, `{r4, r5, pc}`).
    pub operands: String,
}

/// A core's timing model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Core {
    /// Cortex-M4F (and the M33F, by the same table).
    M4f,
    /// Cortex-M0 (single-cycle multiplier).
    M0,
}

impl Core {
    /// The model of a `hil_protocol::build_config::Board::core` name.
    pub fn of(core: &str) -> Self {
        if core == "m0" { Self::M0 } else { Self::M4f }
    }
}

/// Registers in a register list `{r4, r5, pc}` (ranges `r4-r7` counted in full; `d8-d9`
/// counts double registers twice, as two words each).
fn list_len(operands: &str) -> u32 {
    let Some(inner) = operands
        .split_once('{')
        .and_then(|(_, r)| r.split_once('}'))
        .map(|(l, _)| l)
    else {
        return 1;
    };
    inner
        .split(',')
        .map(|r| {
            let r = r.trim();
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            let num = |s: &str| s.trim()[1..].parse::<u32>().unwrap_or(0);
            let n = num(b).saturating_sub(num(a)) + 1;
            if a.trim().starts_with('d') { 2 * n } else { n }
        })
        .sum()
}

fn base(mnemonic: &str) -> &str {
    mnemonic.split('.').next().unwrap_or(mnemonic)
}

/// Loads and stores of one register (which pipeline on the M4).
fn single_transfer(m: &str) -> bool {
    let b = base(m);
    (b.starts_with("ldr") || b.starts_with("str")) && !b.ends_with('d') && !b.ends_with("ex")
        || matches!(b, "vldr" | "vstr")
}

/// Cycles of `insn`, given whether a branch it makes is taken and whether the instruction
/// before it was a single load or store.
pub fn cycles(core: Core, insn: &Insn, taken: bool, after_transfer: bool) -> u32 {
    let m = insn.mnemonic.as_str();
    let b = base(m);
    let writes_pc = insn.operands.contains("pc");
    match core {
        Core::M4f => m4_cycles(b, insn, taken, after_transfer, writes_pc),
        Core::M0 => m0_cycles(b, insn, taken, writes_pc),
    }
}

fn is_branch(b: &str) -> bool {
    b == "b"
        || b == "bl"
        || b == "bx"
        || b == "blx"
        || b == "cbz"
        || b == "cbnz"
        || (b.len() == 3 && b.starts_with('b') && CONDITIONS.contains(&&b[1..]))
}

const CONDITIONS: [&str; 14] = [
    "eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
];

fn m4_cycles(b: &str, insn: &Insn, taken: bool, after_transfer: bool, writes_pc: bool) -> u32 {
    let n = list_len(&insn.operands);
    let refill = if writes_pc { REFILL } else { 0 };
    match b {
        _ if is_branch(b) && taken => 1 + REFILL,
        _ if is_branch(b) => 1,
        "push" | "stm" | "stmia" | "stmdb" | "vpush" | "vstm" | "vstmia" | "vstmdb" => 1 + n,
        "pop" | "ldm" | "ldmia" | "ldmdb" => 1 + n + refill,
        "vpop" | "vldm" | "vldmia" | "vldmdb" => 1 + n,
        "ldrd" | "strd" => 3,
        "vmla" | "vmls" | "vnmla" | "vnmls" | "vfma" | "vfms" | "vfnma" | "vfnms" => 3,
        "vdiv" | "vsqrt" => 14,
        "sdiv" | "udiv" => 7,
        "mla" | "mls" => 2,
        _ if single_transfer(b) && after_transfer => 1,
        _ if single_transfer(b) => 2,
        _ if writes_pc && b.starts_with("mov") => 1 + REFILL,
        _ => 1,
    }
}

fn m0_cycles(b: &str, insn: &Insn, taken: bool, writes_pc: bool) -> u32 {
    let n = list_len(&insn.operands);
    match b {
        "bl" => 4,
        "bx" | "blx" => 3,
        _ if is_branch(b) && taken => 3,
        _ if is_branch(b) => 1,
        "push" | "stm" | "stmia" => 1 + n,
        "pop" | "ldm" | "ldmia" => {
            if writes_pc {
                4 + n - 1
            } else {
                1 + n
            }
        }
        _ if single_transfer(b) => 2,
        _ if writes_pc => 3,
        _ => 1,
    }
}

/// A block QEMU translated: its instructions.
type Block = Vec<Insn>;

/// Parses one `0x08000192:  4281       cmp      r1, r0` line.
fn parse_insn(line: &str) -> Option<Insn> {
    let (addr, rest) = line.split_once(':')?;
    let pc = u32::from_str_radix(addr.trim().strip_prefix("0x")?, 16).ok()?;
    let mut tokens = rest.split_whitespace().peekable();
    let mut size = 0;
    while let Some(t) = tokens.peek() {
        if t.len() == 4 && t.chars().all(|c| c.is_ascii_hexdigit()) {
            size += 2;
            tokens.next();
        } else {
            break;
        }
    }
    let mnemonic = tokens.next()?.to_string();
    let operands = tokens.collect::<Vec<_>>().join(" ");
    (size > 0).then_some(Insn {
        pc,
        size,
        mnemonic,
        operands,
    })
}

/// The executed blocks of a QEMU `-d in_asm,exec,nochain` log, in order.
pub fn executed_blocks(log: &str) -> Vec<std::rc::Rc<Block>> {
    // Blocks by the host address QEMU prints (`0x7f…`), parsed once per line, no allocation.
    let host_of = |t: Option<&str>| {
        t.and_then(|t| t.strip_prefix("0x"))
            .and_then(|t| u64::from_str_radix(t, 16).ok())
    };
    let mut by_host: HashMap<u64, std::rc::Rc<Block>> = HashMap::new();
    let mut pending: Option<Block> = None;
    let mut out = Vec::new();
    let mut last_host = None;
    for line in log.lines() {
        if line.starts_with("IN:") {
            pending = Some(Vec::new());
        } else if let Some(rest) = line.strip_prefix("Stopped execution of TB chain before ") {
            // The block logged last exited at its start (an exit request, e.g. an expired
            // `-icount` budget) and ran none of its instructions.
            if last_host.is_some() && host_of(rest.split_whitespace().next()) == last_host {
                out.pop();
                last_host = None;
            }
        } else if let Some(rest) = line.strip_prefix("Trace ") {
            let Some(host) = host_of(rest.split_whitespace().nth(1)) else {
                continue;
            };
            if let Some(block) = pending.take() {
                by_host.insert(host, std::rc::Rc::new(block));
            }
            if let Some(b) = by_host.get(&host) {
                out.push(std::rc::Rc::clone(b));
            }
            last_host = Some(host);
        } else if let (Some(block), Some(insn)) = (pending.as_mut(), parse_insn(line)) {
            block.push(insn);
        }
    }
    out
}

/// The instructions executed from the last entry into the function at `entry` up to (not
/// including) the return to its caller, with whether each one's branch was taken; `None` if
/// the log never enters it.
pub fn inference_window(blocks: &[std::rc::Rc<Block>], entry: u32) -> Option<Vec<(Insn, bool)>> {
    let start = blocks
        .iter()
        .rposition(|b| b.first().is_some_and(|i| i.pc == entry))?;
    let call = blocks.get(start.checked_sub(1)?)?.last()?;
    let ret = call.pc + call.size;
    let mut out = Vec::new();
    for (k, block) in blocks.iter().enumerate().skip(start) {
        if block.first().is_some_and(|i| i.pc == ret) {
            return Some(out);
        }
        let next_pc = blocks.get(k + 1).and_then(|b| b.first()).map(|i| i.pc);
        for (j, insn) in block.iter().enumerate() {
            let last = j + 1 == block.len();
            let taken = last && next_pc.is_some_and(|p| p != insn.pc + insn.size);
            out.push((insn.clone(), taken));
        }
    }
    None
}

/// Estimated cycles of an instruction window.
pub fn estimate(core: Core, window: &[(Insn, bool)]) -> u64 {
    each(core, window).map(u64::from).sum()
}

/// Estimated cycles of each instruction of a window, in order (a load's cost depends on the
/// instruction before it).
pub fn each(core: Core, window: &[(Insn, bool)]) -> impl Iterator<Item = u32> + '_ {
    let mut after_transfer = false;
    window.iter().map(move |(insn, taken)| {
        let c = cycles(core, insn, *taken, after_transfer);
        after_transfer = single_transfer(base(&insn.mnemonic));
        c
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(pc: u32, size: u32, m: &str, ops: &str) -> Insn {
        Insn {
            pc,
            size,
            mnemonic: m.into(),
            operands: ops.into(),
        }
    }

    #[test]
    fn qemu_lines_parse() {
        assert_eq!(
            parse_insn("0x08000188:  f000 ff62  bl       #0x8001050"),
            Some(insn(0x0800_0188, 4, "bl", "#0x8001050"))
        );
        assert_eq!(
            parse_insn("0x08001054:  bd80       pop      {r7, pc}"),
            Some(insn(0x0800_1054, 2, "pop", "{r7, pc}"))
        );
        assert_eq!(parse_insn("Trace 0: 0x7f [00/08/00/00] x"), None);
        assert_eq!(list_len("{r4, r5, r6, r7, pc}"), 5);
        assert_eq!(list_len("{r4-r7, lr}"), 5);
        assert_eq!(list_len("{d8-d9}"), 4);
    }

    /// A counted loop (`subs; bne` three times) inside a function with a prologue and a
    /// `pop {…, pc}` return, counted by hand from the TRM tables.
    #[test]
    fn a_hand_counted_loop() {
        let log = "\
IN: f
0x00000100:  f000 f87c  bl       #0x1fc

Trace 0: 0xa [0/100/0/0] f
IN: g
0x000001fc:  b580       push     {r7, lr}
0x000001fe:  2003       movs     r0, #3
0x00000200:  3801       subs     r0, #1
0x00000202:  d1fd       bne      #0x200

Trace 0: 0xb [0/1fc/0/0] g
IN: g
0x00000200:  3801       subs     r0, #1
0x00000202:  d1fd       bne      #0x200

Trace 0: 0xc [0/200/0/0] g
Trace 0: 0xc [0/200/0/0] g
Trace 0: 0xc [0/200/0/0] g
Stopped execution of TB chain before 0xc [00000200] g
IN: g
0x00000204:  bd80       pop      {r7, pc}

Trace 0: 0xd [0/204/0/0] g
IN: f
0x00000104:  2000       movs     r0, #0

Trace 0: 0xe [0/104/0/0] f
";
        let blocks = executed_blocks(log);
        assert_eq!(blocks.len(), 6, "the stopped block ran nothing");
        let w = inference_window(&blocks, 0x1fc).unwrap();
        assert_eq!(w.len(), 9, "push, movs, 3 × (subs, bne), pop");
        let taken: Vec<bool> = w.iter().map(|(_, t)| *t).collect();
        assert_eq!(
            taken,
            [false, false, false, true, false, true, false, false, true]
        );
        let p = u64::from(REFILL);
        // M4: push 1+2, movs 1, 2 × (subs 1 + bne 1+P), subs 1 + bne 1, pop 1+2+P.
        assert_eq!(estimate(Core::M4f, &w), 3 + 1 + 2 * (2 + p) + 2 + (3 + p));
        // M0: push 3, movs 1, 2 × (1 + 3), 1 + 1, pop-and-return 4 + 1.
        assert_eq!(estimate(Core::M0, &w), 3 + 1 + 8 + 2 + 5);
        // No entry: no window.
        assert!(inference_window(&blocks, 0x300).is_none());
    }

    /// A multiply-add loop body as LLVM emits it for the f32 path (two VLDRs, a VMLA), and
    /// pipelined integer loads: hand counts from the TRM tables.
    #[test]
    fn hand_counted_bodies() {
        let body = [
            (insn(0, 4, "vldr", "s0, [r0]"), false),
            (insn(4, 4, "vldr", "s1, [r1]"), false),
            (insn(8, 4, "vmla.f32", "s2, s0, s1"), false),
            (insn(12, 4, "ldr.w", "r2, [r0, #4]"), false),
            (insn(16, 4, "ldrsb.w", "r3, [r1, #1]"), false),
            (insn(20, 4, "mla", "r4, r2, r3, r4"), false),
            (insn(24, 2, "push", "{r4, r5, r7, lr}"), false),
            (insn(26, 2, "pop", "{r4, r5, r7, pc}"), true),
        ];
        // M4: vldr 2, vldr 1 (pipelined), vmla 3, ldr 2, ldrsb 1, mla 2, push 1+4, pop 1+4+1+P.
        assert_eq!(
            estimate(Core::M4f, &body),
            2 + 1 + 3 + 2 + 1 + 2 + 5 + (5 + u64::from(REFILL))
        );
        // M0 (no FPU instructions on a real M0; the table still counts them as 1 or 2):
        // 2 + 2 + 1 + 2 + 2 + 1 + 5 + (4 + 3).
        assert_eq!(estimate(Core::M0, &body), 2 + 2 + 1 + 2 + 2 + 1 + 5 + 7);
    }
}
