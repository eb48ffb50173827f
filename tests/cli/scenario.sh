#!/usr/bin/env bash
# The RFC's test cases 1-4 (vsvm scenario all --json) as a test: every
# workload passes on every machine with the work and page requests each
# must show; the guests' page requests come through their virtual IOMMU;
# the hostile guest's attempts all fail; the JSON has its documented keys.
# Usage: tests/cli/scenario.sh VSVM.
set -u
vsvm=${1:?usage: scenario.sh VSVM}
out=$("$vsvm" scenario all --json 2>&1)
rc=$?
one=$("$vsvm" scenario guest --json 2>&1)
rc1=$?
"$vsvm" scenario nosuch >/dev/null 2>&1
rc2=$?
python3 - "$rc" "$out" "$rc1" "$one" "$rc2" <<'PY'
import json, sys
rc, text, rc1, one, rc2 = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
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
    g = json.loads(one)
except ValueError:
    print("FAIL: not JSON:", text[:300], one[:300])
    print("0 passed, 1 failed")
    sys.exit(1)
check(rc == 0 and d.get("passed") is True, "scenario all passed, exit 0")
check(rc1 == 0 and g.get("scenario") == "guest" and g.get("passed") is True, "scenario guest alone")
check(rc2 == 2, "an unknown scenario is a usage error")
sc = {s.get("scenario"): s for s in d.get("scenarios", [])}
check(list(sc) == ["host", "guest", "multi-guest", "host-guest"], "the four test cases in order")
need = {"svm_sanity": (1, 0), "svm_fault": (17, 16), "svm_storedw_loop": (16032, 33),
        "svm_pointer_chase": (500, 1), "isolation_probe": (24, 0), "dma": (4, 0),
        "svm_refused": (1, 0)}
keys = {"workload", "machine", "layout", "device", "host_device", "unit", "passed", "operations",
        "page_requests", "faults", "errors"}
for name, s in sc.items():
    check(s.get("passed") is True and s.get("mode") == "in-process", f"{name} passed")
    for r in s.get("workloads", []):
        what = f"{name}: {r.get('workload')} on {r.get('machine')} {r.get('device')}"
        check(keys <= set(r), f"keys of {what}")
        ops, prs = need.get(r.get("workload"), (1, 0))
        check(r.get("passed") is True and r.get("errors") == 0, f"{what} passed")
        check(r.get("operations", 0) >= ops, f"{what}: operations >= {ops}")
        check(r.get("page_requests", 0) >= prs, f"{what}: page requests >= {prs}")
def machines(name):
    return {(r["machine"], r["layout"], r["unit"]) for r in sc.get(name, {}).get("workloads", [])}
w = sc.get("host", {}).get("workloads", [])
check(len(w) == 8 and {r["unit"] for r in w} == {0, 1}, "host: two accelerators on two units")
check(sc.get("host", {}).get("units") == 2 and sc.get("host", {}).get("accelerators") == 2,
      "host: units and accelerators")
for name in ("guest", "multi-guest", "host-guest"):
    for gu in sc.get(name, {}).get("guests", []):
        if gu.get("svm") is not True:
            check(gu.get("page_requests_injected") == 0, f"{name}: no page requests with svm=off")
            continue
        check(gu.get("page_requests_injected", 0) >= 16,
              f"{name}: {gu.get('name')}'s page requests came through its virtual IOMMU")
        check(gu.get("refused_entries") == 0, f"{name}: {gu.get('name')} programmed nothing bad")
check(machines("guest") == {("guest0", "", 0), ("guest1", "svm=off", 1)},
      "guest: an svm=on guest on unit 0, an svm=off guest on unit 1")
off = {r["workload"]: r for r in sc.get("guest", {}).get("workloads", []) if r["machine"] == "guest1"}
check(set(off) == {"dma", "svm_refused"} and off["dma"]["faults"] == 3,
      "guest: the svm=off guest's DMA workload (3 expected faults) and SVM refusal")
check(machines("multi-guest") == {("guest0", "one-unit", 0), ("guest1", "one-unit", 0),
                                   ("guest0", "two-units", 0), ("guest1", "two-units", 1)},
      "multi-guest: two guests on one unit, then on two")
probes = [r for r in sc.get("multi-guest", {}).get("workloads", []) if r["workload"] == "isolation_probe"]
check(len(probes) == 2 and all(p["faults"] == p["operations"] for p in probes),
      "multi-guest: every hostile attempt ended in a fault")
check(machines("host-guest") == {("guest0", "shared-unit", 0), ("host", "shared-unit", 0),
                                  ("host", "other-unit", 1)},
      "host-guest: the guest and host processes share a unit")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
