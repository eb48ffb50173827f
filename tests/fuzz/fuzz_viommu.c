/* libFuzzer harness for the virtual IOMMU (viommu/viommu.h): a guest that
 * programs its virtual VT-d unit with arbitrary register writes, guest
 * memory contents (root, context and PASID tables, page tables, queue
 * contents) and invalidation descriptors, in front of an assigned host
 * accelerator. The host (fuzz_guest.h: 1 unit, 1 accelerator, 32 MiB) is
 * made once per process; each input gets a fresh guest side (1 MiB of
 * guest RAM, an iommufd, a viommu, the accelerator assigned at 00:01.0)
 * torn down at its end (viommu_destroy, iommufd_close, gpa_map_destroy).
 *
 * Input: byte 0 flags (bit 0: svm=on), then up to 2048 steps, each an
 * opcode byte (mod 8) and its fields, little endian:
 *   0 register write: u16 offset (mod 4 KiB), u8 size (bit 0: 8 bytes,
 *     else 4; the offset is aligned down), value;
 *   1 register read: u16 offset;
 *   2 guest memory qword: u24 GPA (mod RAM, aligned), u64;
 *   3 guest memory bytes: u24 GPA (mod RAM), u8 length (mod 64, + 1), bytes;
 *   4 raw descriptors: u8 (bits 0-1: count - 1; bit 7: queue without
 *     writing IQT), 32 bytes each, written at the guest queue's tail;
 *   5 a descriptor from the kernel's builders (fuzz_guest.h fg_desc), then
 *     u8 (bit 0: queue without writing IQT);
 *   6 a host translation for the assigned device (DMA or ATS, with or
 *     without PASID): a success must land in guest RAM;
 *   7 viommu_poll (host page requests and faults into the guest).
 *
 * Invariants checked: no crash, hang or sanitizer report; every host
 * translation of the assigned device that succeeds lands in the current
 * guest's RAM; after the teardown the host is sane (fuzz_guest.h). */
#include "fuzz_guest.h"

#define MAX_STEPS 2048

static struct fg F;

static void step(struct fg *f, struct rd *r)
{
    switch (take(r, 1) % 8) {
    case 0: {
        uint32_t off = (uint32_t)take(r, 2) & 0xFFF;
        unsigned size = take(r, 1) & 1 ? 8 : 4;
        fg_wr(f, off & ~(size - 1), size, take(r, size));
        break;
    }
    case 1:
        (void)viommu_mmio_read(f->v, (uint32_t)take(r, 2) & 0xFFC, 4);
        break;
    case 2: {
        uint64_t gpa = take(r, 3) % FG_RAM & ~7ULL;
        (void)gpa_write64(f->ram, gpa, take(r, 8));
        break;
    }
    case 3: {
        uint64_t gpa = take(r, 3) % FG_RAM;
        unsigned len = (unsigned)take(r, 1) % 64 + 1;
        uint8_t b[64] = { 0 };
        for (unsigned i = 0; i < len; i++)
            b[i] = (uint8_t)take(r, 1);
        (void)gpa_write(f->ram, gpa, b, len);
        break;
    }
    case 4: {
        unsigned h = (unsigned)take(r, 1), n = (h & 3) + 1;
        for (unsigned i = 0; i < n; i++) {
            uint64_t d[4];
            for (unsigned q = 0; q < 4; q++)
                d[q] = take(r, 8);
            fg_queue(f, d, i + 1 == n && !(h & 0x80));
        }
        break;
    }
    case 5: {
        uint64_t d[4];
        fg_desc(r, d);
        fg_queue(f, d, !(take(r, 1) & 1));
        break;
    }
    case 6:
        fg_check_xlate(f, r);
        break;
    default:
        viommu_poll(f->v);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rd r = { data, size };
    if (!F.h)
        fg_host(&F);
    fg_guest_up(&F, take(&r, 1) & 1);
    for (unsigned n = 0; r.n && n < MAX_STEPS; n++)
        step(&F, &r);
    viommu_poll(F.v);
    fg_guest_down(&F);
    fg_check_host(&F);
    return 0;
}
