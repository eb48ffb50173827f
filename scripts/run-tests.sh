#!/usr/bin/env bash
# Runs every test binary of the given build directories and sums cmocka's
# summaries. Closing line: "N passed, N failed, N skipped".
set -u
passed=0; failed=0; skipped=0; broken=0
for dir in "$@"; do
    cfg=$(basename "$dir")
    if [ "$cfg" = fuzz ]; then
        # Bounded fuzz smoke: each harness for FUZZ_SMOKE_SECONDS.
        for h in "$dir"/fuzz_*; do
            [ -x "$h" ] || continue
            out=$(scripts/fuzz.sh "${FUZZ_SMOKE_SECONDS:-10}" "$h" 2>&1); rc=$?
            if [ "$rc" -eq 0 ]; then p=1; f=0; status=ok; else p=0; f=1; status=FAIL; fi
            passed=$((passed+p)); failed=$((failed+f))
            printf '%-6s %-28s %4d passed %3d failed %3d skipped  %s\n' fuzz "$(basename "$h")" "$p" "$f" 0 "$status"
            echo "$out" | head -n -1 | sed 's/^/    /'
        done
        continue
    fi
    # ThreadSanitizer: the first report ends the process (exit non-zero), so a
    # race fails its test binary; scripts/tsan.supp lists the reported races
    # still waiting for their fix; TSAN_OPTIONS from the caller are kept.
    if [ "$cfg" = tsan ]; then
        supp=$(cd "$(dirname "$0")" && pwd)/tsan.supp
        export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$supp ${TSAN_OPTIONS:-}"
    fi
    for t in "$dir"/tests/test_*; do
        [ -x "$t" ] || continue
        out=$("$t" 2>&1); rc=$?
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
        s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
        p=${p:-0}; f=${f:-0}; s=${s:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; broken=$((broken+1)); fi
        passed=$((passed+p)); failed=$((failed+f)); skipped=$((skipped+s))
        status=ok; [ "$f" -ne 0 ] && status=FAIL
        printf '%-6s %-28s %4d passed %3d failed %3d skipped  %s\n' "$cfg" "$(basename "$t")" "$p" "$f" "$s" "$status"
        if [ "$f" -ne 0 ]; then echo "$out" | grep -E '^\[  (ERROR|FAILED) \]|error|Error|runtime error|Sanitizer' | head -20 | sed 's/^/    /'; fi
        grep -h '^\[  SKIPPED \] [a-z]' <<<"$out" | sed 's/^/    /' || true
    done
    # Command-line tests: each script takes the vsvm binary and closes with
    # "N passed, N failed".
    for t in tests/cli/*.sh; do
        if [ ! -x "$t" ] || [ ! -x "$dir/vsvm" ]; then continue; fi
        out=$("$t" "$dir/vsvm" 2>&1); rc=$?
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
        p=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$line"); p=${p:-0}
        f=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' <<<"$line"); f=${f:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        passed=$((passed+p)); failed=$((failed+f))
        status=ok; [ "$f" -ne 0 ] && status=FAIL
        printf '%-6s %-28s %4d passed %3d failed %3d skipped  %s\n' "$cfg" "cli/$(basename "$t")" "$p" "$f" 0 "$status"
        if [ "$f" -ne 0 ]; then echo "$out" | grep -iE 'fail|error' | head -20 | sed 's/^/    /'; fi
    done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
