#!/usr/bin/env bash
# CLI test of `vsvm run` with a VMM command line (README "vsvm run with
# guests", issue 6 item 1, issue 7 item 4): refused command lines exit 2
# with one line on stderr naming the argument and nothing on stdout; a
# guest with svm=on and one accelerator runs the four SVM workloads (JSON),
# one with svm=off the dma workload (JSON), two guests at once (table); the
# mode: -accel in-process, -accel kvm (or its refusal where KVM is not
# usable), and the automatic choice, which the output names.
#   usage: tests/cli/run_args.sh [path/to/vsvm]   (default build/${CFG:-gcc}/vsvm)
# Prints "N passed, N failed"; exits non-zero when anything failed.
set -u
VSVM=${1:-build/${CFG:-gcc}/vsvm}
if [ ! -x "$VSVM" ]; then
    echo "run_args.sh: no executable '$VSVM'" >&2
    exit 2
fi
passed=0; failed=0
OUT=""; ERR=""; RC=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

run() {     # run ARGS...: sets OUT, ERR, RC
    timeout 120 "$VSVM" run "$@" >"$tmp/out" 2>"$tmp/err"
    RC=$?
    OUT=$(cat "$tmp/out"); ERR=$(cat "$tmp/err")
}
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }

# refused "text the message must hold" ARGS... : exit 2, that one line on
# stderr, nothing on stdout.
refused() {
    local want=$1; shift
    run "$@"
    if [ "$RC" -ne 2 ]; then bad "run $*: exit $RC, expected 2 (stderr: $ERR)"; return; fi
    if [ -n "$OUT" ]; then bad "run $*: unexpected stdout: $OUT"; return; fi
    if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then bad "run $*: stderr is not one line: $ERR"; return; fi
    if ! grep -qF -- "$want" <<<"$ERR"; then bad "run $*: stderr lacks '$want': $ERR"; return; fi
    ok
}

IOMMU="-device intel-iommu"
SVM="-device intel-iommu,svm=on"
refused "unknown option '-cpu'" -cpu host
refused "unexpected argument 'extra'" $SVM extra
refused "-m needs a value" -m
refused "-m 12X" -m 12X
refused "-m 8M" -m 8M
refused "-machine pc" -machine pc
refused "-device virtio-net" -device virtio-net
refused "'bogus'" -device intel-iommu,bogus=on
refused "svm=maybe" -device intel-iommu,svm=maybe
refused "aw-bits=39" -device intel-iommu,aw-bits=39
refused "one intel-iommu per guest" $IOMMU $SVM
refused "caching mode" -device intel-iommu,caching-mode=off -device vfio-pci,host=00:02.0
refused "needs -device intel-iommu" -device vfio-pci,host=0000:00:02.0
refused "host=0000:00:02" $IOMMU -device vfio-pci,host=0000:00:02
refused "no host device 0000:00:09.0" $IOMMU -device vfio-pci,host=0000:00:09.0
refused "no host device 0000:00:04.0" -host accels=2 $IOMMU -device vfio-pci,host=00:04.0
refused "already assigned to guest0" $SVM -device vfio-pci,host=00:02.0 -guest $SVM -device vfio-pci,host=00:02.0
refused "00:05.0 already used" $SVM -device vfio-pci,host=00:02.0,addr=5 -device vfio-pci,host=00:03.0,addr=05.0
refused "addr=00.0" $SVM -device vfio-pci,host=00:02.0,addr=00.0
refused "'rombar'" $SVM -device vfio-pci,host=00:02.0,rombar=0
refused "unknown workload 'memtest'" -workload memtest
refused "svm_fault needs" $IOMMU -workload svm_fault
refused "dma needs svm=off" $SVM -workload dma
refused "-host units=9" -host units=9
refused "accelerator 1 behind unit 3" -host accel-units=0:3
refused "cannot hold" -host mem=256M -m 256M
refused "-name x" -name x -guest -name x
refused "at most 4 guests" -guest -guest -guest -guest -guest
refused "-accel tcg: unknown accelerator" -accel tcg
refused "-accel needs a value" -accel
refused "-accel: the accelerator was chosen already" -enable-kvm -accel in-process
refused "a KVM guest at most 120M" -accel kvm -m 256M $SVM

# svm=on on host units without nesting: refused when the guest is built
# (exit 1, the reason on stderr), before anything runs.
run -host nest=off $SVM -device vfio-pci,host=00:02.0
if [ "$RC" -eq 1 ] && grep -q "cannot nest" <<<"$ERR"; then ok; else bad "nest=off: exit $RC: $ERR"; fi
refused "nest=maybe" -host nest=maybe

run -h
if [ "$RC" -eq 0 ] && grep -q "vfio-pci,host=" <<<"$OUT"; then ok; else bad "run -h: exit $RC"; fi

# One guest, svm=on, one accelerator: the four SVM workloads pass in it.
run -machine q35 -m 256M $SVM -device vfio-pci,host=0000:00:02.0,addr=06.0 -json
python3 - "$RC" "$OUT" <<'PY' && ok || bad "one guest with svm=on (exit $RC): $ERR"
import json, sys
rc, d = int(sys.argv[1]), json.loads(sys.argv[2])
assert rc == 0, "exit status"
assert d["command"] == "run" and d["mode"] == "in-process" and d["passed"] is True, d
assert "256M" in d["mode_reason"] or "not usable" in d["mode_reason"], d   # too big for KVM
(g,) = d["guests"]
assert g["name"] == "guest0" and g["svm"] is True and g["memory_mib"] == 256, g
assert g["devices"] == [{"guest_bdf": "00:06.0", "host_bdf": "0000:00:02.0", "unit": 0}], g
need = {"svm_sanity": (1, 0), "svm_fault": (17, 16), "svm_storedw_loop": (16032, 33),
        "svm_pointer_chase": (500, 1)}
assert sorted(w["workload"] for w in g["workloads"]) == sorted(need), g["workloads"]
for w in g["workloads"]:
    ops, prs = need[w["workload"]]
    assert w["device"] == "00:06.0" and w["passed"] is True and w["errors"] == 0, w
    assert w["operations"] >= ops and w["page_requests"] >= prs, w
PY

# svm=off (the default): the dma workload, whose stale-IOVA accesses fault;
# on KVM when /dev/kvm is usable (the guest kernel's DMA API), in-process
# otherwise.
run -device intel-iommu -device vfio-pci,host=0000:00:03.0 -json
python3 - "$RC" "$OUT" <<'PY' && ok || bad "one guest with svm=off (exit $RC): $ERR"
import json, sys
rc, d = int(sys.argv[1]), json.loads(sys.argv[2])
assert rc == 0 and d["passed"] is True, d
assert (d["mode"], d["mode_reason"] == "/dev/kvm is usable") in (("kvm", True), ("in-process", False)), d
(g,) = d["guests"]
assert g["memory_mib"] == (64 if d["mode"] == "kvm" else 256), g
assert g["svm"] is False and g["devices"][0]["unit"] == 1, g
(w,) = g["workloads"]
assert w["workload"] == "dma" and w["passed"] is True and w["errors"] == 0, w
assert w["operations"] >= 4 and w["faults"] >= 3, w
PY

# Two guests at once, one accelerator each, on one host unit: the table.
run -host units=1 -name a $SVM -device vfio-pci,host=00:02.0 -workload svm_sanity,svm_fault \
    -guest -name b $SVM -device vfio-pci,host=00:03.0 -workload svm_pointer_chase
if [ "$RC" -eq 0 ] && [ "$(grep -c ' PASS ' <<<"$OUT")" -eq 3 ] && tail -1 <<<"$OUT" | grep -qx PASSED &&
   grep -q '^a .*00:04.0 <- 0000:00:02.0 (dmar0) svm_fault ' <<<"$OUT" &&
   grep -q '^b .*00:04.0 <- 0000:00:03.0 (dmar0) svm_pointer_chase ' <<<"$OUT"; then
    ok
else
    bad "two guests (exit $RC): $OUT $ERR"
fi

# -accel in-process: the mode as asked, whatever /dev/kvm can do.
run -accel in-process $SVM -device vfio-pci,host=00:02.0 -workload svm_sanity -json
python3 - "$RC" "$OUT" <<'PY' && ok || bad "-accel in-process (exit $RC): $ERR"
import json, sys
rc, d = int(sys.argv[1]), json.loads(sys.argv[2])
assert rc == 0 and d["mode"] == "in-process" and d["mode_reason"] == "-accel in-process", d
assert "end" not in d["guests"][0], d
PY

# -accel kvm: a KVM guest with two accelerators (dev=N in its kernel) runs
# two workloads on each; where KVM is not usable, exit 1 with the reason.
run -accel kvm -host accels=3 $SVM -device vfio-pci,host=00:02.0 -device vfio-pci,host=00:04.0 \
    -workload svm_sanity,svm_fault -json
if [ "$RC" -eq 1 ] && grep -q "KVM is not usable here" <<<"$ERR" && [ -z "$OUT" ]; then
    echo "note: KVM is not usable here; -accel kvm refused as it must be"
    ok
else
    python3 - "$RC" "$OUT" <<'PY' && ok || bad "-accel kvm (exit $RC): $ERR"
import json, sys
rc, d = int(sys.argv[1]), json.loads(sys.argv[2])
assert rc == 0 and d["mode"] == "kvm" and d["passed"] is True, d
(g,) = d["guests"]
assert g["end"] == "exit" and g["memory_mib"] == 64 and g["vmsis"] > 0, g
got = [(w["workload"], w["device"]) for w in g["workloads"]]
assert got == [("svm_sanity", "00:04.0"), ("svm_fault", "00:04.0"),
               ("svm_sanity", "00:05.0"), ("svm_fault", "00:05.0")], got
for w in g["workloads"]:
    assert w["passed"] is True and w["errors"] == 0, w
    assert w["workload"] != "svm_fault" or (w["page_requests"] >= 16 and w["faults"] == 1), w
PY
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
