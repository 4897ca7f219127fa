#!/usr/bin/env bash
# Trains the default configuration on each example rig of rigs/examples (rigs the defaults
# were not tuned on), one run at a time, and prints per run the exported `policy.postcard`
# against the rig's swing-up + LQR on the same 1,000 episodes (evaluation seed 0, through
# policy-runtime): mean return, success, steady-state |θ|, chatter and the paired return
# difference. Extra arguments go to `trainer train`.
#
# SEEDS (default "0 1 2 3 4") chooses the seeds, RIGS (default: every file of rigs/examples,
# by name without `.toml`) the rigs. With MIN_SUCCESS and/or MIN_DIFF set, the
# script fails (exit 1, after every run) when a policy keeps fewer episodes upright than
# MIN_SUCCESS (a fraction) or its paired return difference is below MIN_DIFF points; CI runs
# seed 0 with MIN_SUCCESS=0.95 MIN_DIFF=-5 (BENCHMARKS.md, "Rigs it was not tuned on").
# Usage (from the repository root): bash trainer/scripts/check_rigs.sh [OUT_DIR] [FLAGS...]
set -euo pipefail
out="${1:-runs/rigs}"
shift || true
seeds="${SEEDS:-0 1 2 3 4}"
cargo build --release -p trainer
mkdir -p "$out"
status=0
printf '%-16s %4s  %-32s  %-32s  %s\n' rig seed "policy: return, success, |θ|ss, chatter" \
    "LQR: return, success, |θ|ss, chatter" "paired difference"
files=()
if [ -n "${RIGS:-}" ]; then
    for rig in $RIGS; do files+=("rigs/examples/$rig.toml"); done
else
    files=(rigs/examples/*.toml)
fi
for file in "${files[@]}"; do
    rig=$(basename "$file" .toml)
    for seed in $seeds; do
        dir="$out/$rig-$seed"
        if [ ! -f "$dir/summary.txt" ]; then
            rm -rf "$dir"
            ./target/release/trainer train --quiet --rig "$file" --seed "$seed" --out "$dir" "$@" \
                > "$dir.log" 2>&1
        fi
        ./target/release/trainer eval "$dir/policy.postcard" --rig "$file" --json \
            --csv "$dir/eval-1000.csv" > "$dir/eval-1000.json"
        python3 - "$rig" "$seed" "$dir/eval-1000.json" "${MIN_SUCCESS:-}" "${MIN_DIFF:-}" <<'PY' || status=1
import json, sys
rig, seed, path, min_success, min_diff = sys.argv[1:]
j = json.load(open(path))
f = lambda s: "%7.1f %6.1f %% %.4f %.3f" % (s["mean_return"], 100 * s["success_rate"],
    s["steady_state_abs_theta"] or float("nan"), s["chatter"])
print("%-16s %4s  %-32s  %-32s  %+.1f ± %.1f" % (rig, seed, f(j["policy"]), f(j["baseline"]),
    j["paired_diff_mean"], j["paired_diff_stderr"]))
bad = []
if min_success and j["policy"]["success_rate"] < float(min_success):
    bad.append("fewer than %s of the episodes upright" % min_success)
if min_diff and j["paired_diff_mean"] < float(min_diff):
    bad.append("paired return difference below %s" % min_diff)
for b in bad:
    print("FAIL  %s seed %s: %s" % (rig, seed, b))
sys.exit(1 if bad else 0)
PY
    done
done
exit $status
