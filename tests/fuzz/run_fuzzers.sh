#!/usr/bin/env bash
# Builds the `fuzz` preset (clang, libFuzzer, ASan+UBSan) and runs each fuzz target on its
# corpus, one process at a time (the machine's cores are shared). Exits non-zero on the first
# finding: a crash, a sanitizer report, a broken invariant, a timeout or running out of memory.
#
#   tests/fuzz/run_fuzzers.sh                   CI: each target for 20 s (about 2 minutes in all)
#   tests/fuzz/run_fuzzers.sh --long            each target for 10^6 executions (docs/FUZZING.md)
#   tests/fuzz/run_fuzzers.sh [--long] NAME...  only these targets (e.g. formula_fuzzer)
#
# The committed seeds in tests/fuzz/corpus/<target>/ are only read; what a run discovers goes to
# build/fuzz/corpus/<target>/ (kept between runs), findings to build/fuzz/findings/, each
# target's log to build/fuzz/logs/<target>.log. A finding reproduces with
#   build/fuzz/tests/fuzz/<target> build/fuzz/findings/<target>-crash-<sha1>
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=ci
targets=()
for arg in "$@"; do
  case "$arg" in
    --long) mode=long ;;
    -*) echo "usage: $0 [--long] [TARGET...]" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  targets=(csv_reader_fuzzer column_file_fuzzer formula_fuzzer run_filter_fuzzer model_fuzzer)
fi

bash deploy/install-deps.sh --fuzz
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz --target "${targets[@]}"

out=build/fuzz
mkdir -p "$out/findings" "$out/logs"
if [ "$mode" = long ]; then
  budget=(-runs=1000000)
else
  budget=(-max_total_time=20)
fi
# ASan: a failed allocation is a finding; UBSan: stop at the first report, with a stack.
export ASAN_OPTIONS="allocator_may_return_null=0:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

status=0
for t in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/$t"
  found="$out/corpus/$t"
  mkdir -p "$found"
  dict=()
  if [ -f "tests/fuzz/$t.dict" ]; then dict=(-dict="tests/fuzz/$t.dict"); fi
  log="$out/logs/$t.log"
  start=$(date +%s)
  if ! "$out/tests/fuzz/$t" "${budget[@]}" "${dict[@]}" -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/findings/$t-" \
      "$found" "$seeds" > "$log" 2>&1; then
    echo "FAIL $t: a finding, see $log and $out/findings/" >&2
    tail -n 30 "$log" >&2
    status=1
    break
  fi
  seconds=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<< "$last")
  echo "ok $t: $execs execs in ${seconds}s, cov $cov, corpus $corp"
done
exit $status
