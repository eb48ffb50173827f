#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_vtd.c: programs that boot a unit the way
Linux does and use it, so the fuzzer starts from deep, valid states.
Encoding as in fuzz_vtd.c: byte 0 config (bit 0: legacy), u16 attached sid,
then steps: opcode byte and fields, little-endian."""
import os
import struct

BASE = 0x100000
out = os.path.join(os.path.dirname(__file__), "corpus", "vtd")


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


os.makedirs(out, exist_ok=True)
for name, data in (("sm-boot", sm_seed()), ("legacy-boot", legacy_seed())):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
