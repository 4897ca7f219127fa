#!/usr/bin/env bash
# Trains the default configuration on each example rig of rigs/examples (rigs the defaults
# were not tuned on) for seeds 0..4, one run at a time, and prints per run the exported
# `policy.postcard` against the rig's swing-up + LQR on the same 1,000 episodes (evaluation
# seed 0, through policy-runtime): mean return, success, steady-state |θ|, chatter and the
# paired return difference. Extra arguments go to `trainer train`.
# Usage (from the repository root): bash trainer/scripts/check_rigs.sh [OUT_DIR] [FLAGS...]
set -euo pipefail
out="${1:-runs/rigs}"
shift || true
cargo build --release -p trainer
mkdir -p "$out"
printf '%-16s %4s  %-32s  %-32s  %s\n' rig seed "policy: return, success, |θ|ss, chatter" \
    "LQR: return, success, |θ|ss, chatter" "paired difference"
for file in rigs/examples/*.toml; do
    rig=$(basename "$file" .toml)
    for seed in 0 1 2 3 4; do
        dir="$out/$rig-$seed"
        if [ ! -f "$dir/summary.txt" ]; then
            rm -rf "$dir"
            ./target/release/trainer train --quiet --rig "$file" --seed "$seed" --out "$dir" "$@" \
                > "$dir.log" 2>&1
        fi
        ./target/release/trainer eval "$dir/policy.postcard" --rig "$file" --json \
            --csv "$dir/eval-1000.csv" > "$dir/eval-1000.json"
        python3 - "$rig" "$seed" "$dir/eval-1000.json" <<'PY'
import json, sys
rig, seed, path = sys.argv[1:]
j = json.load(open(path))
f = lambda s: "%7.1f %6.1f %% %.4f %.3f" % (s["mean_return"], 100 * s["success_rate"],
    s["steady_state_abs_theta"] or float("nan"), s["chatter"])
print("%-16s %4s  %-32s  %-32s  %+.1f ± %.1f" % (rig, seed, f(j["policy"]), f(j["baseline"]),
    j["paired_diff_mean"], j["paired_diff_stderr"]))
PY
    done
done
