#!/usr/bin/env bash
# Control-quality acceptance of a policy file (default: the shipped one), 1,000 episodes each,
# through policy-runtime, paired with the rig's swing-up + LQR baseline:
#   realistic rig: 100 % success, mean return >= baseline's, steady-state |θ| <= 0.01 rad,
#                  chatter <= baseline's;
#   reference rig: mean return >= -150, steady-state |θ| <= 0.01 rad;
#   realistic rig with half of all updates lost (--hold-prob 0.5): more episodes upright than
#                  the baseline.
# Usage: bash scripts/acceptance.sh [POLICY] (exit 1 when a bar is missed).
set -euo pipefail
cd "$(dirname "$0")/.."
policy=${1:-policies/pendulum.postcard}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
eval_json() { cargo run --quiet --release -p trainer -- eval "$policy" --csv "$out/$1.csv" --json "${@:2}" > "$out/$1.json"; }
eval_json realistic --rig realistic
eval_json reference --rig reference
eval_json hold --rig realistic --hold-prob 0.5
python3 - "$out" "$policy" <<'PY'
import json, sys
out, policy = sys.argv[1], sys.argv[2]
load = lambda k: json.load(open(f"{out}/{k}.json"))
real, ref, hold = load("realistic"), load("reference"), load("hold")
def row(name, j):
    p, b = j["policy"], j["baseline"]
    fmt = lambda s: "%.1f ± %.1f, success %.1f %%, steady-state %s, chatter %.4f" % (
        s["mean_return"], s["stderr_return"], 100 * s["success_rate"],
        "-" if s["steady_state_abs_theta"] is None else "%.4f rad" % s["steady_state_abs_theta"],
        s["chatter"])
    print(f"{name:<22} policy   {fmt(p)}\n{'':<22} baseline {fmt(b)}\n{'':<22} paired difference {j['paired_diff_mean']:.1f} ± {j['paired_diff_stderr']:.1f}")
print(f"{policy}, {real['episodes']} episodes per rig (seed {real['seed']})")
row("realistic", real); row("reference", ref); row("realistic, hold 0.5", hold)
p, b = real["policy"], real["baseline"]
checks = [
    ("realistic: 100 % success", p["success_rate"] == 1.0),
    ("realistic: mean return >= baseline", p["mean_return"] >= b["mean_return"]),
    ("realistic: steady-state |θ| <= 0.01 rad", (p["steady_state_abs_theta"] or 1) <= 0.01),
    ("realistic: chatter <= baseline", p["chatter"] <= b["chatter"]),
    ("reference: mean return >= -150", ref["policy"]["mean_return"] >= -150),
    ("reference: steady-state |θ| <= 0.01 rad", (ref["policy"]["steady_state_abs_theta"] or 1) <= 0.01),
    ("hold 0.5: more upright than baseline", hold["policy"]["success_rate"] > hold["baseline"]["success_rate"]),
]
bad = [n for n, ok in checks if not ok]
for n, ok in checks:
    print(("ok    " if ok else "FAIL  ") + n)
sys.exit(1 if bad else 0)
PY
