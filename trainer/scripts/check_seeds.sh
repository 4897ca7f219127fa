#!/usr/bin/env bash
# Trains the default configuration for seeds 0..4 (release build) and fails unless every
# exported policy reaches a mean return of -200 over 1,000 episodes on the realistic rig through
# policy-runtime; the summary lines also give success rate, steady-state error and chatter.
# Usage (from the repository root): bash trainer/scripts/check_seeds.sh [OUT_DIR]
set -euo pipefail
out="${1:-runs/seeds}"
cargo build --release -p trainer
for seed in 0 1 2 3 4; do
    echo "== seed $seed"
    ./target/release/trainer train --quiet --seed "$seed" --out "$out/seed$seed" \
        --require-eval-return -200 | grep -E "steps:|mean return"
done
