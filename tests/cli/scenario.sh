#!/usr/bin/env bash
# Test case 1 (vsvm scenario host) as a test: every workload passes on both
# accelerators, with the work and page requests each must show, and the
# JSON has its documented keys. Usage: tests/cli/scenario.sh VSVM.
set -u
vsvm=${1:?usage: scenario.sh VSVM}
out=$("$vsvm" scenario host --json 2>&1)
rc=$?
python3 - "$rc" "$out" <<'PY'
import json, sys
rc, text = int(sys.argv[1]), sys.argv[2]
passed = failed = 0
def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)
try:
    d = json.loads(text)
except ValueError:
    print("FAIL: not JSON:", text[:300])
    print("0 passed, 1 failed")
    sys.exit(1)
check(rc == 0, "exit status 0")
check(d.get("scenario") == "host" and d.get("passed") is True, "scenario host passed")
check(d.get("units") == 2 and d.get("accelerators") == 2, "two units, two accelerators")
w = d.get("workloads", [])
check(len(w) == 8, "four workloads on each of two accelerators")
need = {"svm_sanity": (1, 0), "svm_fault": (17, 16), "svm_storedw_loop": (16032, 33),
        "svm_pointer_chase": (500, 1)}
for r in w:
    keys = {"workload", "machine", "device", "unit", "passed", "operations", "page_requests", "errors"}
    check(keys <= set(r), f"keys of {r.get('workload')}")
    ops, prs = need.get(r.get("workload"), (1, 0))
    check(r.get("passed") is True and r.get("errors") == 0, f"{r.get('workload')} on {r.get('device')} passed")
    check(r.get("operations", 0) >= ops, f"{r.get('workload')} operations >= {ops}")
    check(r.get("page_requests", 0) >= prs, f"{r.get('workload')} page requests >= {prs}")
check({r.get("unit") for r in w} == {0, 1}, "both remapping units used")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
