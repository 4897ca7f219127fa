#!/usr/bin/env bash
# Builds the thumbv7em-none-eabihf probe programs, prints the section sizes of the linked
# images and fails if any panic code was linked in (inference and loading must have no
# panic path). Needs binutils' `nm` and `size` (they read ARM ELF files).
set -euo pipefail
cd "$(dirname "$0")"
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET
cargo build --release --quiet
dir="${CARGO_TARGET_DIR:-target}/thumbv7em-none-eabihf/release"
for bin in p64 p256 p64i8; do
    echo "== $bin"
    size -A "$dir/$bin" | grep -E '^\.(text|rodata|data|bss) '
    if nm -C "$dir/$bin" | grep -iE 'panic|begin_unwind'; then
        echo "error: panic code is linked into $bin" >&2
        exit 1
    fi
done
echo "no panic code linked"
