#!/usr/bin/env bash
# Installs what a fresh machine lacks: the Cortex-M4F Rust target and QEMU (for the
# hardware-in-the-loop tests). Idempotent: does nothing that is already done.
set -euo pipefail

if ! rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
  rustup target add thumbv7em-none-eabihf
fi
for comp in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^${comp}"; then
    rustup component add "$comp"
  fi
done

if ! command -v qemu-system-arm >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq qemu-system-arm >/dev/null
fi
qemu-system-arm --version | head -n1
