#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses (tests/fuzz/corpus/NAME for
fuzz_NAME.c): programs that drive each target the way its real user does,
so the fuzzer starts from deep, valid states. Each harness's encoding is
described in its .c file; integers are little-endian.

vtd: byte 0 config (bit 0: legacy), u16 attached sid, then steps: opcode
byte and fields."""
import os
import struct

BASE = 0x100000
HERE = os.path.dirname(os.path.abspath(__file__))


def mmio(off, val, size=8):
    return bytes([0]) + struct.pack("<HB", off, 1 if size == 8 else 0) + val.to_bytes(size, "little")


def mem(off, val):
    return bytes([3]) + off.to_bytes(3, "little") + struct.pack("<Q", val)


def xlate(sid, addr, pasid=None, write=False, op=4):
    flags = 0x80 | (1 if pasid is not None else 0) | (2 if write else 0)
    return bytes([op, flags]) + struct.pack("<H", sid) + (pasid or 0).to_bytes(3, "little") + \
        struct.pack("<Q", addr)


def prq(sid, pasid, addr):
    return bytes([6, 0x0B]) + struct.pack("<H", sid) + struct.pack("<H", 5) + \
        pasid.to_bytes(3, "little") + struct.pack("<Q", addr)


def boot(ttm):
    return (mmio(0x88, 0, 4) + mmio(0x90, (BASE + 0x10000) | (0x800 if ttm else 0)) +
            mmio(0x18, 1 << 26, 4) + mmio(0x20, BASE | (ttm << 10)) +
            mmio(0x18, (1 << 26) | (1 << 30), 4) + mmio(0x18, (1 << 26) | (1 << 31), 4))


def sm_seed():
    sid = 0x0100
    p = bytes([0]) + struct.pack("<H", sid)
    p += mem(0x100 * 0 + 16 * 1, (BASE + 0x1000) | 1)                 # root bus 1 lower
    p += mem(0x1000, (BASE + 0x2000) | (1 << 3) | (1 << 2) | (1 << 4) | 1)  # sm ctx devfn 0
    p += mem(0x2000, (BASE + 0x3000) | 1)                               # pasid dir 0
    pte = 0x3000 + 64 * 5
    p += mem(pte, 1 | (1 << 6))                                         # P, PGTT=1
    p += mem(pte + 8, 1)                                                # DID 1
    p += mem(pte + 16, (BASE + 0x4000))                                 # FLPTR
    for lvl, off in ((0x4000, 0x5000), (0x5000, 0x6000), (0x6000, 0x7000)):
        p += mem(lvl, (BASE + off) | 7)
    p += mem(0x7000, (BASE + 0x8000) | 7)
    p += boot(1)
    p += mmio(0xD0, BASE + 0x20000) + mmio(0xE0, 0, 4)
    p += xlate(sid, 0x10, pasid=5, write=True) + xlate(sid, 0x1000, pasid=5)
    p += xlate(sid, 0x10, pasid=5, op=5)
    p += prq(sid, 5, 0x2000)
    # wait descriptor with status write, then IQT
    p += mem(0x10000, (2 << 32) | (1 << 5) | 5) + mem(0x10008, BASE + 0x9000)
    p += mmio(0x88, 0x20, 4)
    return p


def legacy_seed():
    sid = 0x0008
    p = bytes([1]) + struct.pack("<H", sid)
    p += mem(0, (BASE + 0x1000) | 1)                                    # root bus 0
    p += mem(0x1000 + 16 * 8, (BASE + 0x4000) | 1)                      # ctx devfn 8
    p += mem(0x1000 + 16 * 8 + 8, 1 | (1 << 8))                         # AW=1 (3-level), DID 1
    p += mem(0x4000, (BASE + 0x5000) | 3) + mem(0x5000, (BASE + 0x6000) | 3)
    p += mem(0x6000, (BASE + 0x8000) | 3)
    p += boot(0)
    p += xlate(sid, 0x10, write=True) + xlate(sid, 0x5000)
    p += mem(0x10000, (1 << 4) | 1) + mmio(0x88, 0x10, 4)               # CC global
    return p


def write(corpus, seeds):
    out = os.path.join(HERE, "corpus", corpus)
    os.makedirs(out, exist_ok=True)
    for name, data in seeds:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


write("vtd", (("sm-boot", sm_seed()), ("legacy-boot", legacy_seed())))


# ---- vmcfg: the arguments after "run", one per line ----------------------
SVM = ["-device", "intel-iommu,svm=on"]
IOMMU = ["-device", "intel-iommu"]
VMCFG = {
    "readme": ["-machine", "q35", "-m", "512M"] + SVM +
              ["-device", "vfio-pci,host=0000:00:02.0,addr=04.0", "-guest", "-name", "b"] + SVM +
              ["-device", "vfio-pci,host=0000:00:03.0"],
    "host-first": ["-host", "units=1,accels=2,mem=1G,accel-units=0:0", "-json", "-guest", "-name",
                   "a"] + SVM + ["-device", "vfio-pci,host=00:02.0", "-workload",
                                 "svm_sanity,svm_fault"],
    "dma": ["--verbose"] + IOMMU + ["-device", "vfio-pci,host=00:03.0,addr=1f.7", "-workload",
                                    "dma", "-m", "size=64M"],
    "four-guests": ["-host", "accels=4,units=4"] + sum(
        (["-guest", "-name", "g%d" % i, "-device", "intel-iommu,svm=on,aw-bits=57,caching-mode=yes",
          "-device", "vfio-pci,host=00:%02x.0" % (2 + i), "-workload", "all"] for i in range(4)), []),
    "refused-cm": ["-device", "intel-iommu,caching-mode=off", "-device", "vfio-pci,host=00:02.0"],
    "accel-kvm": ["-accel", "kvm", "-host", "accels=3"] + SVM + ["-device", "vfio-pci,host=00:02.0",
                  "-device", "vfio-pci,host=00:04.0", "-guest", "-enable-kvm", "-m", "120M"] + IOMMU,
    "refused-mem": ["-host", "mem=256M", "-m", "256M", "-machine", "type=q35"],
    "refused-dup": SVM + ["-device", "vfio-pci,host=00:02.0,addr=5", "-device",
                          "vfio-pci,host=00:03.0,addr=05.0"],
    "refused-units": ["-host", "accel-units=0:3", "-device", "driver=intel-iommu,svm=off"],
}
write("vmcfg", ((k, "\n".join(v).encode()) for k, v in VMCFG.items()))


# ---- accel: flags, u16 blob length + blob, batches (fuzz_accel.c) --------
W = 0x40000000
PG = 4096
NOP, END, STORE, COPY, FILL, CHASE = range(6)


def acmd(op, arg=0, a=0, b=0, c=0, mode=0):
    return bytes([mode]) + struct.pack("<IIQQQ", op, arg, a, b, c)


def batch(cmds, no_end=False, ctx1=False):
    return bytes([(len(cmds) - 1) | (0x40 if no_end else 0) | (0x80 if ctx1 else 0)]) + b"".join(cmds)


def accel(flags, blob, *batches):
    return bytes([flags]) + struct.pack("<H", len(blob)) + blob + b"".join(batches)


def chain(n, start, step, cycle_to=None):
    """A list of n 16-byte nodes {value, next} in the blob (window page 1)."""
    out = b""
    for i in range(n):
        nxt = start + (i + 1) * step if i + 1 < n else (cycle_to or 0)
        node = struct.pack("<QQ", i + 1, nxt)
        out += node + bytes(step - 16)
    return out


ATS, PRI, PRIV, UNBOUND, NOPASID = 1, 2, 4, 8, 16
CPL_RW, CPL_RO, CPL_UNMAPPED = 1 << 5, 2 << 5, 3 << 5
nodes = chain(40, W + PG, 48)
ACCEL = {
    "sanity": accel(ATS | PRI | CPL_RW, b"", batch([acmd(STORE, 0x5a5a, W + 2 * PG)]),
                    batch([acmd(FILL, 0, W + 2 * PG, 0x1122334455667788, 3 * PG + 5)]),
                    batch([acmd(COPY, 0, W + 2 * PG, W + 7 * PG + 3, 2 * PG)])),
    "chase": accel(ATS | PRI, nodes, batch([acmd(CHASE, 8, W + PG, W + 20 * PG, 100),
                                            acmd(CHASE, 8, W + PG, W + 20 * PG, 10)])),
    "cycle": accel(ATS, chain(8, W + PG, 64, cycle_to=W + PG + 64),
                   batch([acmd(CHASE, 8, W + PG, W + 20 * PG, 1 << 40)])),
    "faults": accel(ATS | PRI | CPL_RW, b"",
                    batch([acmd(STORE, 1, W + 40 * PG)]),                      # unmapped
                    batch([acmd(STORE, 1, W + 33 * PG)]),                      # read-only
                    batch([acmd(COPY, 0, W + 30 * PG, W + 31 * PG, 3 * PG)]),  # runs into RO
                    batch([acmd(FILL, 0, W + 31 * PG, 7, 9 * PG)]),
                    batch([acmd(77, 0, 0, 0, 0)])),                            # bad opcode
    "no-ats": accel(CPL_RO, b"", batch([acmd(STORE, 2, W + 3 * PG), acmd(STORE, 2, W + 33 * PG)])),
    "overlap": accel(ATS | PRIV | CPL_UNMAPPED, bytes(range(256)) * 16,
                     batch([acmd(COPY, 0, W + PG, W + PG + 100, 3000),
                            acmd(COPY, 0, W + PG + 300, W + PG, 3000),
                            acmd(COPY, 0, (1 << 64) - 16, W, 64)])),
    "two-contexts": accel(ATS | PRI, b"",
                          batch([acmd(FILL, 0, W + 17 * PG, 0xAB, 14 * PG)] +
                                [acmd(COPY, 0, W + 17 * PG, W + 24 * PG, 4 * PG)], ctx1=True),
                          batch([acmd(STORE, 3, W + 2 * PG)]),
                          batch([acmd(FILL, 0, W + 2 * PG, 1, 64)], ctx1=True)),
    "no-end": accel(ATS | PRI, b"", batch([acmd(NOP)], no_end=True)),
    "unbound": accel(ATS | PRI | UNBOUND, b"", batch([acmd(STORE, 1, W + 2 * PG)])),
    "no-pasid": accel(ATS | NOPASID, b"", batch([acmd(STORE, 1, W + 2 * PG)])),
    "relative": accel(ATS | PRI, b"", batch([acmd(COPY, 0, 0x1000, 0x9000, 0x2000, mode=7),
                                             acmd(FILL, 0, 0x20000, 0x55, 0x8000, mode=5)])),
}
write("accel", ACCEL.items())


# ---- viommu: flags byte (bit 0 svm=on), then steps (fuzz_viommu.c) -------
GCMD, RTADDR, FECTL, IQT, IQA, PQH, PQT, PQA, PRS, PECTL = (
    0x18, 0x20, 0x38, 0x88, 0x90, 0xC0, 0xC8, 0xD0, 0xDC, 0xE0)
QIE, SRTP, TE = 1 << 26, 1 << 30, 1 << 31
VBDF = 0x0008
G_ROOT, G_CTX, G_DIR, G_PTBL, G_IQ, G_STAT, G_PRQ = (
    0x10000, 0x11000, 0x12000, 0x13000, 0x20000, 0x30000, 0x40000)
G_PML4, G_PDPT, G_PD, G_PT, G_DATA, G_SL = 0x50000, 0x51000, 0x52000, 0x53000, 0x60000, 0x70000
VA = 0x10000000
DID_G = 9


def vw(off, val, size=8):
    return bytes([0]) + struct.pack("<HB", off, 1 if size == 8 else 0) + val.to_bytes(size, "little")


def vr(off):
    return bytes([1]) + struct.pack("<H", off)


def m64(gpa, val):
    return bytes([2]) + gpa.to_bytes(3, "little") + struct.pack("<Q", val)


def raw_desc(*descs, ring=True):
    return bytes([4, (len(descs) - 1) | (0 if ring else 0x80)]) + b"".join(
        struct.pack("<4Q", *(list(d) + [0] * (4 - len(d)))) for d in descs)


def tdesc(t, g=0, did=0, pasid=0, addr=0, am=0, ring=True):
    return bytes([5, t, g]) + struct.pack("<H", did) + pasid.to_bytes(3, "little") + \
        struct.pack("<QBB", addr, am, 0 if ring else 1)


def xl(pasid=None, addr=VA, write=False, ats=False):
    fl = 0x20 | (1 if pasid is not None else 0) | (2 if write else 0) | (0x10 if ats else 0)
    return bytes([6, fl]) + (pasid or 0).to_bytes(3, "little") + struct.pack("<Q", addr)


POLL = bytes([7])
CC, IOTLB, PC, PIOTLB, PDEVTLB, DEVTLB, WAIT, PGRESP = range(8)


def wait(data=1):
    return tdesc(WAIT, g=2, did=data, addr=G_STAT)


def guest_tables(pre=True, paside=True):
    ctx = G_DIR | 4 | (8 if paside else 0) | (16 if pre else 0) | 1
    return m64(G_ROOT, G_CTX | 1) + m64(G_CTX + 32 * (VBDF & 0xFF), ctx) + m64(G_DIR, G_PTBL | 1)


def guest_boot(prq=True):
    p = vw(IQT, 0) + vw(IQA, G_IQ | (1 << 11)) + vw(GCMD, QIE, 4)
    p += vw(RTADDR, G_ROOT | (1 << 10)) + vw(GCMD, QIE | SRTP, 4)
    p += tdesc(CC, g=1, ring=False) + tdesc(PC, g=3, ring=False) + tdesc(IOTLB, g=1, ring=False)
    p += wait(1)
    if prq:
        p += vw(PECTL, 0, 4) + vw(PQH, 0) + vw(PQT, 0) + vw(PQA, G_PRQ)
    return p + vw(GCMD, QIE | TE, 4)


def guest_pt(pages=8):
    """First level: VA -> G_DATA 4K pages, VA + 2M -> GPA 0 as one 2M page."""
    f = 0x67   # P RW US A D
    p = m64(G_PML4, G_PDPT | f) + m64(G_PDPT, G_PD | f) + m64(G_PD + 8 * 0x80, G_PT | f)
    p += m64(G_PD + 8 * 0x81, 0 | f | 0x80)
    for i in range(pages):
        p += m64(G_PT + 8 * i, (G_DATA + i * PG) | f)
    return p


def pasid_entry(pasid, q0, q1, q2=0):
    at = G_PTBL + 64 * pasid
    return m64(at, q0) + m64(at + 8, q1) + m64(at + 16, q2)


def bind(pasid, did=DID_G, sre=False):
    p = pasid_entry(pasid, 1 | (1 << 6), did, G_PML4 | (1 if sre else 0))
    return p + tdesc(PC, g=1, did=did, pasid=pasid, ring=False) + \
        tdesc(PIOTLB, g=2, did=did, pasid=pasid, ring=False) + wait(2)


def unbind(pasid, did=DID_G):
    return m64(G_PTBL + 64 * pasid, 0) + tdesc(PC, g=1, did=did, pasid=pasid, ring=False) + \
        tdesc(PIOTLB, g=2, did=did, pasid=pasid, ring=False) + \
        tdesc(PDEVTLB, did=0, pasid=pasid, am=39, ring=False) + wait(3)


def svm_flow():
    p = bytes([1]) + guest_tables() + guest_boot() + guest_pt() + bind(5)
    p += xl(5, VA) + xl(5, VA + 0x1000, write=True) + xl(5, VA, ats=True) + xl(5, VA + (2 << 20) + 0x5000)
    p += xl(5, VA + 0x100000) + POLL                     # unmapped: a fault event
    p += m64(G_PT, 0) + tdesc(PIOTLB, g=3, did=DID_G, pasid=5, addr=VA, ring=False) + \
        tdesc(PDEVTLB, did=0, pasid=5, addr=VA, am=12, ring=False) + wait(4)
    p += xl(5, VA) + unbind(5) + xl(5, VA + 0x1000)
    return p


def passthrough():
    p = bytes([1]) + guest_tables() + guest_boot() + guest_pt()
    p += pasid_entry(6, 1 | (4 << 6), DID_G) + tdesc(PC, g=1, did=DID_G, pasid=6) + xl(6, 0x3000)
    p += pasid_entry(0, 1 | (4 << 6), DID_G) + tdesc(CC, g=3, did=0) + \
        tdesc(PC, g=0, did=DID_G) + xl(None, 0x4000) + xl(None, 0x4000, ats=True)
    p += pasid_entry(0, 0, 0) + tdesc(CC, g=3, did=0) + tdesc(PC, g=0, did=DID_G) + xl(None, 0x4000)
    return p


def many_pasids():
    p = bytes([1]) + guest_tables() + guest_boot() + guest_pt()
    for pasid in range(1, 12):
        p += pasid_entry(pasid, 1 | (1 << 6), DID_G + (pasid & 1), G_PML4)
    p += tdesc(PC, g=0, did=DID_G) + tdesc(PC, g=3) + wait(5)
    p += b"".join(xl(pasid, VA + 0x2000) for pasid in range(1, 12))
    p += tdesc(PIOTLB, g=2, did=DID_G, pasid=3) + tdesc(IOTLB, g=2, did=DID_G)
    p += m64(G_DIR, 0) + tdesc(PC, g=3) + xl(3, VA)
    return p


def svm_off():
    sl = 2 | 1   # W R
    p = bytes([0]) + guest_tables(pre=False, paside=False) + guest_boot(prq=False)
    p += m64(G_SL, (G_SL + PG) | sl) + m64(G_SL + PG, (G_SL + 2 * PG) | sl)
    p += m64(G_SL + 2 * PG, (G_SL + 3 * PG) | sl)
    for i in range(4):
        p += m64(G_SL + 3 * PG + 8 * i, (G_DATA + i * PG) | sl)
    p += pasid_entry(0, 1 | (2 << 2) | (2 << 6) | G_SL, DID_G)
    p += tdesc(CC, g=3, did=0) + tdesc(PC, g=0, did=DID_G) + tdesc(IOTLB, g=2, did=DID_G) + wait(6)
    p += xl(None, 0x1000, write=True) + xl(None, 0x3000, ats=True) + xl(None, 0x9000)
    p += m64(G_SL + 3 * PG + 8, 0) + tdesc(IOTLB, g=3, did=DID_G, addr=0x1000) + xl(None, 0x1000)
    return p


def queue_errors():
    p = bytes([1]) + guest_tables() + guest_boot()
    p += raw_desc((0x0F,))                               # reserved type: IQE
    p += vr(0x34) + vw(0x34, 0x10, 4) + vr(0x80)         # FSTS, clear IQE, IQH
    p += tdesc(DEVTLB, g=0, addr=0, am=3) + tdesc(PDEVTLB, g=4, did=0x1234, pasid=7)
    p += tdesc(PGRESP, g=0, pasid=5, addr=0x33) + vw(IQA, G_IQ) + raw_desc((0x25, 0)) + wait(7)
    return p


write("viommu", (("svm-bind", svm_flow()), ("pass-through", passthrough()),
                 ("many-pasids", many_pasids()), ("svm-off", svm_off()),
                 ("queue-errors", queue_errors())))


# ---- prq: flags byte, then steps (fuzz_prq.c) ------------------------------
def preq(flags=0x23, prgi=0, pasid=None, page=0x100, sid=None, priv=None, handle=True):
    """flags: 1 PASID present, 2 read, 4 write, 8 exec, 16 priv, 32 LPIG, 64 PDP."""
    f = flags | (128 if sid is not None else 0) | (64 if priv else 0)
    p = bytes([0, f]) + (struct.pack("<H", sid) if sid is not None else b"")
    p += struct.pack("<H", prgi) + (bytes([1]) if pasid is None else bytes([0]) + pasid.to_bytes(3, "little"))
    p += struct.pack("<I", page) + (struct.pack("<QQ", *priv) if priv else b"")
    return p + bytes([1 if handle else 0])


def pburst(n, lpig=True, pdp=False):
    return bytes([1, n, (1 if lpig else 0) | (2 if pdp else 0)])


def ppoll(wait=True):
    return bytes([2, 1 if wait else 0])


def gprq(rc=0, map_=True, bad_priv=False, clear=True, leave=False):
    return bytes([3, rc | (4 if map_ else 0) | (8 if bad_priv else 0) | (16 if clear else 0) |
                  (32 if leave else 0)])


def presp(rid=VBDF, pasid=5, prgi=0, pp=True, lpig=True, pdp=False, rc=0, priv=(0, 0), ring=True):
    fl = (1 if pp else 0) | (2 if lpig else 0) | (4 if pdp else 0) | (rc << 4)
    return bytes([4]) + struct.pack("<H", rid) + pasid.to_bytes(3, "little") + \
        struct.pack("<HB", prgi, fl) + struct.pack("<QQ", *priv) + bytes([0 if ring else 1])


def preg(which, val):
    return bytes([5, which]) + struct.pack("<Q", val)


def pdev(page, two=False):
    return bytes([6, page, 1 if two else 0])


def pdesc(t, g=0, did=0, pasid=0, addr=0, am=0):
    return bytes([7, t, g]) + struct.pack("<H", did) + pasid.to_bytes(3, "little") + struct.pack("<QB", addr, am)


PRQ = {
    "device-fault": bytes([0]) + pdev(3) + ppoll() + gprq() + ppoll() + pdev(4, two=True) + ppoll() +
    gprq() + ppoll() + gprq() + ppoll() + gprq(rc=1) + ppoll(),
    "device-invalid": bytes([2]) + pdev(9) + ppoll() + gprq(rc=1, map_=False) + pdev(10) + ppoll() +
    gprq(rc=2, map_=False) + pdev(11) + ppoll() + gprq(rc=0, map_=False) + ppoll() + gprq(rc=0),
    "requests": bytes([0]) + preq(0x23, 1) + preq(0x03, 2, page=0x101) + preq(0x23, 2, page=0x102) +
    preq(0x22, 3) + preq(0x23, 4, pasid=77) + preq(0x23, 5, sid=0x0300) +
    preq(0x07, 6, priv=(0x1122, 0x3344)) + preq(0x3F, 7, page=0xFFFFF) + ppoll() +
    gprq(rc=0) + ppoll(False) + gprq(rc=3) + presp(prgi=6, lpig=False, pdp=True, priv=(0x1122, 0x3344)),
    "overflow": bytes([1]) + pburst(200) + ppoll() + gprq(clear=True) + ppoll() + pburst(130, pdp=True) +
    ppoll() + gprq(rc=1) + pburst(255, lpig=False) + pburst(255) + ppoll() + gprq(leave=True) + ppoll(),
    "responses": bytes([0]) + preq(0x23, 9) + ppoll() + presp(prgi=9, rc=15) + presp(prgi=9) +
    presp(prgi=10, pp=False) + presp(rid=0x1234, prgi=9) + presp(pasid=6, prgi=9, pdp=True) +
    preq(0x23, 11) + ppoll() + presp(prgi=11, lpig=False, ring=False) + presp(prgi=11, rc=1),
    "registers": bytes([0]) + preq(0x23, 12) + ppoll() + preg(2, 0x41000) + preg(0, 0x20) +
    preg(1, 0x40) + preg(3, 3) + preg(4, 1 << 31) + preq(0x23, 13) + ppoll() + gprq() +
    preg(2, 0x7FFFF000 | 7) + preq(0x23, 14) + ppoll() + gprq(),
    "pending-teardown": bytes([0]) + pdev(20) + ppoll() + preq(0x23, 30) + preq(0x43, 31, priv=(1, 2)) +
    ppoll() + pdesc(3, g=2, did=9, pasid=5) + pdesc(4, pasid=5, am=39),
}
write("prq", PRQ.items())
