#!/usr/bin/env python3
"""Stack frame (bytes) of each function of a thumbv7em disassembly, from its prologue.

Usage: llvm-objdump -d --no-show-raw-insn -C BINARY | python3 frames.py
Counts `push` (4 bytes per register), `vpush` (8 per d register) and `sub sp, #imm`
in the first 12 instructions of each function. Callee frames are not added.
"""
import re
import sys

name, frames, seen = None, {}, 0
for line in sys.stdin:
    m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
    if m:
        name, seen = m.group(1), 0
        frames[name] = 0
        continue
    if name is None or not re.match(r"\s+[0-9a-f]+:", line):
        continue
    seen += 1
    if seen > 12:
        continue
    ins = line.split("\t", 1)[-1].strip()
    if ins.startswith("push"):
        frames[name] += 4 * len(ins.split("{")[1].split(","))
    elif ins.startswith("vpush"):
        frames[name] += 8 * len(ins.split("{")[1].split(","))
    elif re.match(r"sub(\.w|w)?\s+sp, (sp, )?#", ins):
        frames[name] += int(ins.split("#")[1].split()[0])
for n, f in sorted(frames.items(), key=lambda kv: -kv[1]):
    if f:
        print(f"{f:8d}  {n[:110]}")
