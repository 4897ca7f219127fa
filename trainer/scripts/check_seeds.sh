#!/usr/bin/env bash
# Trains the default configuration for seeds 0..4 (release build, two runs at a time) and fails
# unless every seed's policy.postcard (the selected policy) keeps 100 % of the 1,000 final-evaluation episodes
# upright on the training rig (`realistic` by default). Extra arguments go to `trainer train`.
# Usage (from the repository root): bash trainer/scripts/check_seeds.sh [OUT_DIR] [FLAGS...]
set -euo pipefail
out="${1:-runs/seeds}"
shift || true
cargo build --release -p trainer
status=0
run() {
    ./target/release/trainer train --quiet --seed "$1" --out "$out/seed$1" --require-success 1 "${@:2}" \
        > "$out/seed$1.log" 2>&1
}
mkdir -p "$out"
rm -rf "$out"/seed[0-4]
for pair in "0 1" "2 3" "4"; do
    pids=()
    for seed in $pair; do
        run "$seed" "$@" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || status=1; done
done
for seed in 0 1 2 3 4; do
    echo "== seed $seed"
    grep -E "steps:|postcard:|required|below" "$out/seed$seed.log" || tail -3 "$out/seed$seed.log"
done
exit $status
