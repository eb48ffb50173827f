#!/usr/bin/env bash
# Runs libFuzzer harnesses: fuzz.sh SECONDS HARNESS... Each starts from its
# committed seeds (tests/fuzz/corpus/NAME, NAME = harness without fuzz_) and
# a working corpus in build/fuzz/corpus-NAME. Prints per harness the
# executions reached and whether a finding (crash file) was written; the
# closing line is "N passed, N failed".
set -u
secs=$1; shift
passed=0; failed=0
for h in "$@"; do
    name=$(basename "$h"); short=${name#fuzz_}
    work=build/fuzz/corpus-$short; mkdir -p "$work"
    log=build/fuzz/$name.log
    "$h" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/"$name"- \
        "$work" "tests/fuzz/corpus/$short" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        passed=$((passed+1)); echo "$name: ${runs:-?} executions in ${secs}s, no finding"
    else
        failed=$((failed+1)); echo "$name: FINDING after ${runs:-?} executions (see $log)"
        grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -5 | sed 's/^/    /'
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
