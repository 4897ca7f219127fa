#!/usr/bin/env bash
# `trainer sweep --slurm` end to end on a single-node Slurm cluster on this machine
# (scripts/slurm-local.sh; needs root): the same sweep run locally and as a Slurm job array
# must give byte-identical policies and evaluations per job, and the same aggregate (except
# the wall times).
#   bash scripts/slurm-sweep-check.sh [OUT]      (default runs/slurm-check)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/slurm-check}
spec=trainer/sweeps/slurm-check.toml
bash scripts/slurm-local.sh
cargo build --release -p trainer --quiet
t=$(realpath target/release/trainer)
rm -rf "$out"
mkdir -p "$out"

start=$(date +%s)
"$t" sweep "$spec" --out "$out/local" --jobs 2 --quiet > "$out/local.txt"
echo "local: $(( $(date +%s) - start )) s"

start=$(date +%s)
submitted=$("$t" sweep "$spec" --out "$out/slurm" --slurm --submit | tee "$out/slurm.txt")
job=$(grep -o 'Submitted batch job [0-9]*' <<<"$submitted" | awk '{print $4}')
[ -n "$job" ] || { echo "no Slurm job id in: $submitted" >&2; exit 1; }
echo "slurm: job array $job submitted"
while squeue -h -j "$job" 2>/dev/null | grep -q .; do sleep 2; done
echo "slurm: $(( $(date +%s) - start )) s"
sacct -j "$job" -n -o JobID,State,ExitCode 2>/dev/null | head -20 || true
"$t" sweep report "$out/slurm" > "$out/slurm-report.txt"
cat "$out/slurm-report.txt"

status=0
for d in "$out"/local/jobs/*/; do
  name=$(basename "$d")
  for f in policy.postcard policy_final.postcard final_eval.csv eval.csv; do
    if ! cmp -s "$d/$f" "$out/slurm/jobs/$name/$f"; then
      echo "DIFFER: $name/$f" >&2
      status=1
    fi
  done
done
strip() { python3 -c 'import json,sys; d=json.load(sys.stdin); [c.pop("train_secs",None) for c in d["configs"]]; print(json.dumps(d,sort_keys=True))' < "$1"; }
if [ "$(strip "$out/local/report.json")" != "$(strip "$out/slurm/report.json")" ]; then
  echo "DIFFER: report.json (beyond train_secs)" >&2
  status=1
fi
[ $status -eq 0 ] && echo "slurm-sweep-check: Slurm and local sweeps gave identical runs and the same aggregate"
exit $status
