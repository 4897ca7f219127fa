#!/usr/bin/env bash
# Trains the default configuration for seeds 0..4 (release build, two runs at a time) and fails
# unless every seed's policy.postcard (the selected policy) keeps 100 % of the 1,000 final-evaluation episodes
# upright on the training rig (`realistic` by default). Extra arguments go to `trainer train`.
# It also evaluates each policy.postcard from 1,000 fast starts (`trainer eval
# --fast-start-speed $FAST_SPEED`, default 8 rad/s, the presets' velocity range) and, when
# MIN_FAST_SUCCESS is set (a fraction), fails a seed that keeps fewer of them upright.
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
fast_speed="${FAST_SPEED:-8}"
min_fast="${MIN_FAST_SUCCESS:-0}"
for seed in 0 1 2 3 4; do
    echo "== seed $seed"
    grep -E "steps:|postcard:|required|below" "$out/seed$seed.log" || tail -3 "$out/seed$seed.log"
    policy="$out/seed$seed/policy.postcard"
    [ -f "$policy" ] || continue
    ./target/release/trainer eval "$policy" --fast-start-speed "$fast_speed" --json \
        --rig "$out/seed$seed/eval_rig.toml" --csv "$out/seed$seed/fast-starts.csv" > "$out/seed$seed/fast-starts.json"
    python3 - "$out/seed$seed/fast-starts.json" "$min_fast" "$fast_speed" <<'PY' || status=1
import json, sys
j, need, v = json.load(open(sys.argv[1])), float(sys.argv[2]), sys.argv[3]
p, b = j["policy"]["success_rate"], j["baseline"]["success_rate"]
ok = p >= need
print("fast starts (θ̇ ~ U(±%s rad/s), %d episodes): %.1f %% upright (the LQR: %.1f %%), paired return %+.1f ± %.1f%s"
      % (v, j["episodes"], 100 * p, 100 * b, j["paired_diff_mean"], j["paired_diff_stderr"],
         "" if ok else "  BELOW the required %.1f %%" % (100 * need)))
sys.exit(0 if ok else 1)
PY
done
exit $status
