#!/usr/bin/env bash
# The RFC's test cases 1-4 (vsvm scenario all --json) as a test, twice:
# with in-process guests (--in-process) and in the automatic mode (KVM
# guests where /dev/kvm is usable, which the JSON's "mode" must say): every
# workload passes on every machine with the work and page requests each
# must show; the guests' page requests come through their virtual IOMMU;
# the hostile guest's attempts all fail; the JSON has its documented keys.
# Usage: tests/cli/scenario.sh VSVM.
set -u
vsvm=${1:?usage: scenario.sh VSVM}
out=$("$vsvm" scenario all --in-process --json 2>&1)
rc=$?
auto=$("$vsvm" scenario all --json 2>&1)
rca=$?
one=$("$vsvm" scenario guest --json 2>&1)
rc1=$?
"$vsvm" scenario nosuch >/dev/null 2>&1
rc2=$?
"$vsvm" scenario host --kvm >/dev/null 2>&1
rc3=$?
"$vsvm" scenario guest --kvm --in-process >/dev/null 2>&1
rc4=$?
python3 - "$rc" "$out" "$rc1" "$one" "$rc2" "$rca" "$auto" "$rc3" "$rc4" <<'PY'
import json, sys
rc, text, rc1, one, rc2, rca, auto, rc3, rc4 = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
    sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], int(sys.argv[8]), int(sys.argv[9]))
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
    a = json.loads(auto)
    g = json.loads(one)
except ValueError:
    print("FAIL: not JSON:", text[:300], auto[:300], one[:300])
    print("0 passed, 1 failed")
    sys.exit(1)
check(rc2 == 2, "an unknown scenario is a usage error")
check(rc3 == 2, "--kvm does not apply to the host scenario")
check(rc4 == 2, "--kvm and --in-process exclude each other")
check(d.get("mode") == "in-process" and d.get("mode_reason") == "--in-process given",
      "--in-process: the mode and why")
kvm = a.get("mode") == "kvm"
check((a.get("mode"), a.get("mode_reason") == "/dev/kvm is usable") in
      (("kvm", True), ("in-process", False)), "automatic mode: KVM exactly when usable")
check(rc1 == 0 and g.get("scenario") == "guest" and g.get("passed") is True and
      g.get("mode") == a.get("mode"), "scenario guest alone, in the automatic mode")
# Every check of test cases 1-4 on one `scenario all` result; the guests
# of 2-4 ran in mode ("kvm" or "in-process"), test case 1 in-process.
def check_all(rc, d, mode):
    def chk(cond, what):
        check(cond, f"[{mode}] {what}")
    chk(rc == 0 and d.get("passed") is True, "scenario all passed, exit 0")
    sc = {s.get("scenario"): s for s in d.get("scenarios", [])}
    chk(list(sc) == ["host", "guest", "multi-guest", "host-guest"], "the four test cases in order")
    need = {"svm_sanity": (1, 0), "svm_fault": (17, 16), "svm_storedw_loop": (16032, 33),
            "svm_pointer_chase": (500, 1), "isolation_probe": (24, 0), "dma": (4, 0),
            "svm_refused": (1, 0)}
    keys = {"workload", "machine", "layout", "device", "host_device", "unit", "passed", "operations",
            "page_requests", "faults", "errors"}
    for name, s in sc.items():
        chk(s.get("passed") is True and
              s.get("mode") == ("in-process" if name == "host" else mode), f"{name} passed")
        for r in s.get("workloads", []):
            what = f"{name}: {r.get('workload')} on {r.get('machine')} {r.get('device')}"
            chk(keys <= set(r), f"keys of {what}")
            ops, prs = need.get(r.get("workload"), (1, 0))
            chk(r.get("passed") is True and r.get("errors") == 0, f"{what} passed")
            chk(r.get("operations", 0) >= ops, f"{what}: operations >= {ops}")
            chk(r.get("page_requests", 0) >= prs, f"{what}: page requests >= {prs}")
    def machines(name):
        return {(r["machine"], r["layout"], r["unit"]) for r in sc.get(name, {}).get("workloads", [])}
    w = sc.get("host", {}).get("workloads", [])
    chk(len(w) == 8 and {r["unit"] for r in w} == {0, 1}, "host: two accelerators on two units")
    chk(sc.get("host", {}).get("units") == 2 and sc.get("host", {}).get("accelerators") == 2,
          "host: units and accelerators")
    for name in ("guest", "multi-guest", "host-guest"):
        for gu in sc.get(name, {}).get("guests", []):
            if mode == "kvm":
                chk(gu.get("end") == "exit" and gu.get("vmsis", 0) > 0,
                      f"{name}: {gu.get('name')} ran on KVM to its own exit")
            if gu.get("svm") is not True:
                chk(gu.get("page_requests_injected") == 0, f"{name}: no page requests with svm=off")
                continue
            chk(gu.get("page_requests_injected", 0) >= 16,
                  f"{name}: {gu.get('name')}'s page requests came through its virtual IOMMU")
            chk(gu.get("refused_entries") == 0, f"{name}: {gu.get('name')} programmed nothing bad")
    chk(machines("guest") == {("guest0", "", 0), ("guest1", "svm=off", 1)},
          "guest: an svm=on guest on unit 0, an svm=off guest on unit 1")
    off = {r["workload"]: r for r in sc.get("guest", {}).get("workloads", []) if r["machine"] == "guest1"}
    chk(set(off) == {"dma", "svm_refused"} and off["dma"]["faults"] == 3,
          "guest: the svm=off guest's DMA workload (3 expected faults) and SVM refusal")
    chk(machines("multi-guest") == {("guest0", "one-unit", 0), ("guest1", "one-unit", 0),
                                       ("guest0", "two-units", 0), ("guest1", "two-units", 1)},
          "multi-guest: two guests on one unit, then on two")
    probes = [r for r in sc.get("multi-guest", {}).get("workloads", []) if r["workload"] == "isolation_probe"]
    chk(len(probes) == 2 and all(p["faults"] == p["operations"] for p in probes),
          "multi-guest: every hostile attempt ended in a fault")
    chk(machines("host-guest") == {("guest0", "shared-unit", 0), ("host", "shared-unit", 0),
                                      ("host", "other-unit", 1)},
          "host-guest: the guest and host processes share a unit")

check_all(rc, d, "in-process")
check_all(rca, a, a.get("mode", "?"))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
