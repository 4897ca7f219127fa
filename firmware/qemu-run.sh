#!/bin/sh
# cargo's runner for `cargo run` in this folder (see .cargo/config.toml): runs the image under
# QEMU (the machine of the image's board) and prints the firmware's defmt log, decoded on the host by `hil qemu`
# with the image's defmt table. Exits with the firmware's status.
#
# `hil` is built from the workspace (release) on first use; its build must not see this
# folder's cargo configuration (target thumbv7em), hence the `cd` and the cleared variables.
set -e
elf=$(realpath "$1")
shift
cd "$(dirname "$0")/.."
unset CARGO_BUILD_TARGET RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR
exec cargo run --quiet --release -p hil -- qemu "$elf" "$@"
