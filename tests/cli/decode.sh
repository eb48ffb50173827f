#!/usr/bin/env bash
# CLI test of `vsvm decode` (src/tools/cmd_decode.c): good inputs decode
# with exit 0, an unknown descriptor type exits 1, bad input exits 2 with a
# message on stderr and nothing on stdout.
#   usage: tests/cli/decode.sh [path/to/vsvm]   (default build/${CFG:-gcc}/vsvm)
# Prints "N passed, N failed"; exits non-zero when anything failed.
set -u
VSVM=${1:-build/${CFG:-gcc}/vsvm}
if [ ! -x "$VSVM" ]; then
    echo "decode.sh: no executable '$VSVM'" >&2
    exit 2
fi
passed=0; failed=0
OUT=""; ERR=""; RC=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

run() {     # run ARGS...: sets OUT, ERR, RC
    "$VSVM" decode "$@" >"$tmp/out" 2>"$tmp/err"
    RC=$?
    OUT=$(cat "$tmp/out"); ERR=$(cat "$tmp/err")
}
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }
check() {   # check "label" CMD...: passes when CMD succeeds
    local label=$1; shift
    if "$@"; then ok; else bad "$label"; fi
}

# expect RC "label" ERE... : exit status RC and every ERE found in stdout.
expect() {
    local want=$1 label=$2; shift 2
    if [ "$RC" -ne "$want" ]; then
        bad "$label: exit $RC, expected $want (stderr: $ERR)"; return
    fi
    local re
    for re in "$@"; do
        if ! grep -Eq -- "$re" <<<"$OUT"; then
            bad "$label: stdout lacks /$re/"; printf '%s\n' "$OUT" | head -40 | sed 's/^/    /'; return
        fi
    done
    ok
}

# usage_error "label" ARGS... : exit 2, message on stderr, nothing on stdout.
usage_error() {
    local label=$1; shift
    run "$@"
    if [ "$RC" -ne 2 ]; then bad "$label: exit $RC, expected 2"; return; fi
    if [ -z "$ERR" ]; then bad "$label: no message on stderr"; return; fi
    if [ -n "$OUT" ]; then bad "$label: unexpected stdout: $OUT"; return; fi
    ok
}

# ---- good input ------------------------------------------------------------
# os-driver-behaviour.md §1 example CAP/ECAP.
run cap 0x01090080402f0482
expect 0 "cap (Linux example)" '^cap: ' '^  ND +2:0 +0x2 ' '^  CM +7 +0x1 ' \
    '^  SAGAW +12:8 +0x4 ' '^  MGAW +21:16 +0x2f \(47\) ' '^  FRO +33:24 +0x40 ' \
    '^  PSI +39 +0x1 ' '^  MAMV +53:48 +0x9 ' '^  FL1GP +56 +0x1 ' '^  ZLR +22 +0 ' \
    'reserved bits: none set'
run ecap 0x0001cd9820003007
expect 0 "ecap (Linux example)" '^  IRO +17:8 +0x30 ' '^  PSS +39:35 +0x13 \(19\) ' \
    '^  SMTS +43 +0x1 ' '^  SMPWCS +48 +0x1 '

# Reserved bits are named per qword, with absolute bit numbers (§2.3).
run context-entry 0x23456007 0xFFFF_FFFF_FF00_42D2
expect 0 "context-entry with reserved bits" '^  DID +87:72 +0x42 ' '^  AW +66:64 +0x2 ' \
    'QW1 reserved bits set: 0xffffffffff000080 \(bits 71, 127:88\)'
run CTX 23456007 4252
expect 0 "upper-case id, no 0x" '^context-entry: ' '^  SLPTPTR +63:12 +0x23456 '
run Context-Entry 0X1
expect 0 "mixed case, 0X" '^  P +0 +0x1 '

# Missing qwords are zero.
run sm-context-entry 0x3456741D
expect 0 "zero-filled" '0x000000003456741d 0x0000000000000000 0x0000000000000000 0x0000000000000000' \
    '^  PDTS +11:9 +0x2 '
run pasid-entry 0x49 0x800001 0x123456020 0 0 0 0 0
expect 0 "all eight qwords" '^  FLPTPTR +191:140 +0x123456 ' '^  DID +79:64 +0x1 '
run fault-record 0x7FFFF000 0xC1234571800000F8
expect 0 "fault record" '^  FR +103:96 +0x71 ' '^  PV +123:104 +0x12345 ' '^  F +127 +0x1 '

# inv-desc takes the type from the descriptor (§4.1).
run inv-desc 0x0000000200000025 0x7F001230
expect 0 "inv-desc wait" '^type 0x5 \(inv-wait\)$' '^inv-wait: ' '^  STDATA +63:32 +0x2 ' \
    '^  STADDR +127:66 +0x1fc0048c '
run inv-desc 0x0001234500F81039 0xFFC
expect 0 "inv-desc page group response" '^type 0x9 \(inv-pgresp\)$' '^  PRGI +75:67 +0x1ff '
run inv-desc 0xa 0x1
expect 1 "inv-desc unknown type" '^type 0xa \(unknown' '0x000000000000000a 0x0000000000000001'
run inv-desc 0x200
expect 1 "inv-desc type-hi bits" '^type 0x10 \(unknown'

# --list and --json.
run --list
expect 0 "--list" '^pasid-entry +8 +' '^cap +1 +Capability' '^inv-desc +4 ' '^fault-record +2 '
run --json cap 0x01090080402f0482
expect 0 "--json cap" '^\{"structure": "cap", "qwords": \["0x01090080402f0482"\], "fields": \{' \
    '"MGAW": 47,' '"FL1GP": 1,' '"reserved_set": \["0x0000000000000000"\]\}$'
run --json inv-desc 0x25 0x1000
expect 0 "--json inv-desc" '^\{"structure": "inv-wait", "type": 5, ' '"STADDR": 1024}'
run --json context-entry 0 0x80
expect 0 "--json reserved" '"reserved_set": \["0x0000000000000000", "0x0000000000000080"\]'
run --json inv-desc 0
expect 1 "--json unknown type" '"type": 0,' '"error": '
if command -v python3 >/dev/null; then
    for args in "cap 0x01090080402f0482" "pasid-entry 0x49 0x800001 0x123456020" \
                "inv-desc 0x25" "inv-desc 0xb" "--list"; do
        # shellcheck disable=SC2086
        "$VSVM" decode --json $args >"$tmp/json"
        check "--json $args is not valid JSON" \
            python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/json"
    done
    "$VSVM" decode --json pasid-entry 0x49 0x800001 0x123456020 >"$tmp/json"
    check "--json keys/values" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["structure", "qwords", "fields", "reserved_set"], list(d)
assert d["fields"]["FLPTPTR"] == 0x123456 and d["fields"]["PGTT"] == 1
assert len(d["qwords"]) == 8 and len(d["reserved_set"]) == 8' "$tmp/json"
fi
run --help
expect 0 "--help" '^usage: vsvm decode'

# ---- bad input: exit 2, message on stderr ------------------------------------
usage_error "no arguments"
usage_error "no qwords" cap
usage_error "unknown structure" nosuch 1
usage_error "empty structure name" "" 1
usage_error "not hex" cap 0xg1
usage_error "empty hex" cap 0x
usage_error "empty string" cap ""
usage_error "negative" cap -1
usage_error "more than 64 bits" cap 0x10000000000000000
usage_error "too many qwords" cap 1 2
usage_error "too many qwords (inv-desc)" inv-desc 1 2 3 4 5
usage_error "unknown option" --bogus cap 1
usage_error "option after STRUCTURE" cap 1 --json
usage_error "--list with operands" --list cap
usage_error "stray underscore" cap 0x_1
usage_error "space inside" cap "0x1 2"
run nosuch 1
check "unknown structure: message does not name it ($ERR)" grep -q "nosuch" <<<"$ERR"
run cap 0x10000000000000000
check "> 64 bits: message does not say so ($ERR)" grep -q "64 bits" <<<"$ERR"
run cap 1 2
check "too many qwords: message ($ERR)" grep -q "1 qword" <<<"$ERR"
# Leading zeros do not count towards the 64 bits.
run cap 0x00000000000000000000001
expect 0 "leading zeros" '^  ND +2:0 +0x1 '

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
