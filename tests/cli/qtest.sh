#!/usr/bin/env bash
# Scripted sessions of `vsvm qtest` (README "Scripted platform access"):
# each sends a script on stdin and compares every answer line.
# Usage: tests/cli/qtest.sh path/to/vsvm. Closes with "N passed, N failed".
set -u
vsvm=${1:?usage: qtest.sh VSVM}
passed=0; failed=0

# session NAME ARGS -- then script on fd 3, expected answers on fd 4
session() {
    local name=$1; shift
    local got want
    got=$("$vsvm" qtest "$@" <&3 2>/dev/null)
    want=$(cat <&4)
    if [ "$got" = "$want" ]; then
        passed=$((passed+1))
    else
        failed=$((failed+1)); echo "FAIL: $name"
        diff <(echo "$want") <(echo "$got") | head -20 | sed 's/^/    /'
    fi
}

# Memory, registers at 0xfed90000, bad commands that do not end the session.
session basics 3<<'IN' 4<<'OUT'
readq 0xfed90010
readl 0xfed9001c
readl 0xfed90038
writeq 0x1000 0x1122334455667788
readq 0x1000
readb 0x1000
readw 0x1006
write 0x2000 3 0xa1b2
read 0x2000 4
writeb 0x3000 0x100
readq 0x10000000
bogus
read 0xfed90000 8
writeq 0xfed90000 1
readl 0xfed90000
readb 0xfed90008
OUT_OF_BAND
IN
OK 0x0013ed9ca40050c7
OK 0x0000000000000000
OK 0x0000000080000000
OK
OK 0x1122334455667788
OK 0x0000000000000088
OK 0x0000000000001122
OK
OK 0xa1b20000
ERR value 0x100 does not fit in 1 bytes
ERR address 0x10000000 outside memory
ERR unknown command 'bogus'
ERR bulk access to a register page: use readl/readq/writel/writeq
OK
OK 0x0000000000000030
OK 0x0000000000000000
ERR unknown command 'OUT_OF_BAND'
OUT

# A legacy unit: root/context/second level built with writeq, DMA through
# them, a fault recorded and read back, the fault event on unmask.
session legacy-dma -m 64M -unit legacy 3<<'IN' 4<<'OUT'
writeq 0x10010 0x11001
writeq 0x11000 0x12001
writeq 0x11008 0x501
writeq 0x12000 0x13003
writeq 0x13000 0x14003
writeq 0x14008 0x20003
writeq 0x20000 0xcafef00d
writeq 0xfed90020 0x10000
writel 0xfed90018 0x40000000
writel 0xfed90018 0xc0000000
readl 0xfed9001c
dma_read 0x100 0x1000 8
dma_write 0x100 0x1010 0x0102
read 0x20010 2
dma_read 0x100 0x3000 4
dma_read 0x200 0x1000 4
dma_read 0x100 0x1000 4 pasid=1
readl 0xfed90034
readq 0xfed90600
readq 0xfed90608
readq 0xfed90618
writel 0xfed9003c 0x41
writel 0xfed90040 0xfee00000
irqs
writel 0xfed90038 0
irqs
writel 0xfed9060c 0x80000000
readl 0xfed90034
IN
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK 0x00000000c0000000
OK 0x0df0feca00000000
OK
OK 0x0102
FAULT reason=0x06 addr=0x3000 qualified=1 recorded=1 (read without read permission)
FAULT reason=0x01 addr=0x1000 qualified=0 recorded=1 (root entry not present)
FAULT reason=0x31 addr=0x1000 qualified=0 recorded=1 (legacy TTM for request with PASID)
OK 0x0000000000000002
OK 0x0000000000003000
OK 0xc000000600000100
OK 0xc000000100000200
OK
OK
OK 0
OK
OK 1 unit0:0xfee00000:0x41
OK
OK 0x0000000000000002
OUT

# A scalable unit: FL translation with a PASID, ATS, a page request through
# the PRQ, the page group response through QI to the device, a device that
# never completes its device-TLB invalidation (ITE), a stray completion
# (ICE), a descriptor of unknown type (IQE, IQEI 3, IQH at it).
session scalable-svm -m 32M 3<<'IN' 4<<'OUT'
writeq 0x10010 0x11001
writeq 0x11000 0x1201d
writeq 0x12000 0x13001
writeq 0x13140 0x41
writeq 0x13148 0x800001
writeq 0x13150 0x14000
writeq 0x14000 0x15007
writeq 0x15000 0x16007
writeq 0x16000 0x17007
writeq 0x17008 0x20007
writel 0x20000 0x5eed
writeq 0xfed90020 0x10400
writel 0xfed90018 0x40000000
writel 0xfed90018 0x80000000
writel 0xfed90088 0
writeq 0xfed90090 0x30800
writel 0xfed90018 0x84000000
readl 0xfed9001c
dma_read 0x100 0x1000 4 pasid=5
dma_read 0x100 0x2000 4 pasid=5
ats 0x100 0x1000 pasid=5 write
ats 0x100 0x2000 pasid=5
ats 0x100 0x1000
writeq 0xfed900d0 0x40000
writel 0xfed900e4 0x42
writel 0xfed900e8 0xfee00000
writel 0xfed900e0 0
attach 0x100
page_request 0x100 0x2000 pasid=5 write lpig prgi=7
readq 0xfed900c8
readl 0xfed900dc
read 0x40000 32
irqs
writeq 0x17010 0x21007
writeq 0x30000 0x0000000501000019
writeq 0x30008 0x3c
writeq 0x30020 0x0000000100000035
writeq 0x30028 0x50000
writel 0xfed900a4 0x43
writel 0xfed900a8 0xfee00000
writel 0xfed90088 0x40
events
readl 0x50000
readl 0xfed9009c
irqs
writel 0xfed900a0 0
irqs
dma_read 0x100 0x2000 4 pasid=5
attach 0x108 timeout
writeq 0x30040 0x0000000501080008
writeq 0x30048 0x2000
writel 0xfed90088 0x60
readl 0xfed90034
readq 0xfed900b0
readq 0xfed90080
events
inv_completion 0x100
readl 0xfed90034
writel 0xfed90034 0x40
writeq 0x30060 0xf
writel 0xfed90088 0x80
readl 0xfed90034
readq 0xfed900b0
readq 0xfed90080
IN
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK
OK 0x00000000c4000000
OK 0xed5e0000
FAULT reason=0x71 addr=0x2000 qualified=1 recorded=1 (first-level entry not present)
OK 0x20000 size=0x1000 perm=rwx
NOACCESS reason=0x71 (first-level entry not present)
UR reason=0x59 (PASID table entry not present)
OK
OK
OK
OK
OK
OK
OK 0x0000000000000020
OK 0x0000000000000001
OK 0x01010001050000003e2000000000000000000000000000000000000000000000
OK 1 unit0:0xfee00000:0x42
OK
OK
OK
OK
OK
OK
OK
OK
OK 1 resp:sid=0x100,pasid=0x5,prgi=7,lpig=1,rc=0
OK 0x0000000000000001
OK 0x0000000000000001
OK 0
OK
OK 1 unit0:0xfee00000:0x43
OK 0x00000000
OK
OK
OK
OK
OK 0x0000000000000042
OK 0x0000010800000000
OK 0x0000000000000060
OK 1 inv:sid=0x108,pasid=0x5,global=0,addr=0x2000,size=0x1000,timeout
OK
OK 0x0000000000000062
OK
OK
OK
OK 0x0000000000000032
OK 0x0100010800000003
OK 0x0000000000000060
OUT

# Options: bad ones are refused with a message and exit status 2.
for bad in "-unit foo" "-unit scalable,cap=zz" "-unit legacy,buses=9-3" "-m 0" "-m 8G" "-x"; do
    # shellcheck disable=SC2086
    if "$vsvm" qtest $bad </dev/null >/dev/null 2>&1; [ $? -eq 2 ]; then
        passed=$((passed+1))
    else
        failed=$((failed+1)); echo "FAIL: qtest $bad should exit 2"
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
