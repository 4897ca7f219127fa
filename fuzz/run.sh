#!/usr/bin/env bash
# Runs the cargo-fuzz targets for a given time each and prints one line per target:
# executions, coverage (libFuzzer's covered edges `cov` and features `ft`), crashes.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#   FUZZ_RUNS=10000000 bash fuzz/run.sh 1800 ...           (stop at 10 M executions, or the time)
#
# Needs a nightly toolchain and cargo-fuzz; without nightly it prints SKIPPED and exits 0
# (the product never builds with nightly; only the fuzzers do). New inputs go to
# fuzz/work/<target> (not committed); the committed seeds in fuzz/corpus/<target> are only
# read. A crash leaves its input in fuzz/artifacts/<target>/ and makes the script exit 1.
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
all=(weights_raw weights_crc weights_int8 policy_act frame_raw frame_host_msg frame_board_msg cobs
     train_config rig_file checkpoint c_api)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "SKIPPED: fuzzing needs a nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz ..."
    cargo install cargo-fuzz --locked --quiet
fi

if ! cargo +nightly fuzz build -O >fuzz/build.log 2>&1; then
    tail -30 fuzz/build.log
    echo "fuzz build failed (full log: fuzz/build.log)"
    exit 1
fi
bin=fuzz/target/x86_64-unknown-linux-gnu/release
status=0
printf '%-16s %12s %10s %8s %8s %s\n' target executions exec/s cov ft result
for t in "${targets[@]}"; do
    mkdir -p "fuzz/work/$t" "fuzz/artifacts/$t"
    log="fuzz/work/$t.log"
    # -max_len: the largest seed for the file targets (the shipped policy is 17.5 kB); link
    # frames are at most 64 bytes, so a 1 kB stream holds 15 of them and keeps those fast.
    case "$t" in
        frame_*|cobs) max_len=1024 ;;
        *) max_len=32768 ;;
    esac
    # The built binary is run directly, so a source edit during a long run changes nothing.
    if ASAN_OPTIONS=detect_odr_violation=0 "$bin/$t" "fuzz/work/$t" "fuzz/corpus/$t" \
        -artifact_prefix="fuzz/artifacts/$t/" -max_total_time="$secs" \
        ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -max_len="$max_len" -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result="CRASH (see $log and fuzz/artifacts/$t/)"
        status=1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    printf '%-16s %12s %10s %8s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
exit $status
