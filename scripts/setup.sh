#!/usr/bin/env bash
# Installs what a fresh machine lacks: the Rust targets of the firmware's boards (Cortex-M4F,
# Cortex-M33F, Cortex-M0), QEMU (for the hardware-in-the-loop tests and the self-tests) and the
# C compilers of policy-runtime-c's tests.
# Idempotent: does nothing that is already done.
set -euo pipefail

for target in thumbv7em-none-eabihf thumbv8m.main-none-eabihf thumbv6m-none-eabi; do
  if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
  fi
done
for comp in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^${comp}"; then
    rustup component add "$comp"
  fi
done

# QEMU (the boards), the Arm GNU C compiler (the C firmware example of policy-runtime-c) and a
# host C compiler (its host test).
packages=""
command -v qemu-system-arm >/dev/null 2>&1 || packages="$packages qemu-system-arm"
command -v arm-none-eabi-gcc >/dev/null 2>&1 || packages="$packages gcc-arm-none-eabi"
command -v cc >/dev/null 2>&1 || packages="$packages gcc"
if [ -n "$packages" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $packages >/dev/null
fi
qemu-system-arm --version | head -n1
arm-none-eabi-gcc --version | head -n1
