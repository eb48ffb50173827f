/* libFuzzer harness for the remapping unit: the input is a program of
 * register writes and reads, memory writes, DMA translations, ATS
 * translation requests, page requests and stray ATS completions, run
 * against a fresh scalable unit (or legacy, by the first byte) over a small
 * arena so that random pointers often land in memory. Invariants checked
 * after every step: translations end in success or a known fault reason
 * with a valid page size; register reads never abort; nothing touches
 * memory outside the arena (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw_regs.h"
#include "vtd/unit.h"

#include "fuzz_input.h"

#define ARENA_BASE 0x100000ULL
#define ARENA_SIZE (1ULL << 20)

static bool dev_timeout;
static enum vtd_ats_inv_status fz_ats_inv(void *o, uint16_t sid, bool pv, uint32_t pasid,
                                          bool global, uint64_t addr, uint64_t size)
{
    (void)o, (void)sid, (void)pv, (void)pasid, (void)global, (void)addr, (void)size;
    return dev_timeout ? VTD_ATS_INV_TIMEOUT : VTD_ATS_INV_DONE;
}
static void fz_resp(void *o, const struct vtd_page_resp *r) { (void)o, (void)r; }
static void fz_msi(void *o, uint64_t a, uint32_t d) { (void)o, (void)a, (void)d; }
static const struct vtd_dev_ops fz_ops = { fz_ats_inv, fz_resp };

static struct vtd_req req_of(struct rd *r)
{
    uint64_t flags = take(r, 1);
    uint16_t sid = (uint16_t)take(r, 2);
    struct vtd_req q = { .sid = sid, .pasid_present = flags & 1,
                         .write = flags & 2, .exec = flags & 4, .priv = flags & 8,
                         .at = (enum vtd_at)(((flags >> 4) & 3) % 3) };
    q.pasid = (uint32_t)take(r, 3) & 0xFFFFF;
    q.addr = flags & 0x80 ? take(r, 8) : take(r, 4) << 12 | (flags & 0x40 ? 0 : 0xFFF);
    return q;
}

static void check_result(const struct vtd_result *res)
{
    if (res->fault && !strcmp(vtd_fault_name(res->fault), "reserved/unknown reason"))
        abort();
    if (!res->fault && !res->blocked && res->page_shift != 12 && res->page_shift != 21 &&
        res->page_shift != 30)
        abort();
}

static void step(struct vtd_unit *u, struct mem_arena *mem, struct rd *r)
{
    struct vtd_result res;
    struct vtd_req q;
    switch (take(r, 1) % 8) {
    case 0: case 1: {
        uint32_t off = (uint32_t)take(r, 2) & 0x1FFF;
        unsigned size = take(r, 1) & 1 ? 8 : 4;
        vtd_mmio_write(u, off & ~(size - 1), size, take(r, size));
        break;
    }
    case 2:
        (void)vtd_mmio_read(u, (uint32_t)take(r, 2) & 0x1FFC, 4);
        break;
    case 3: {
        uint64_t off = take(r, 3) % ARENA_SIZE & ~7ULL;
        mem_write64(mem, ARENA_BASE + off, take(r, 8));
        break;
    }
    case 4:
        q = req_of(r);
        vtd_translate(u, &q, &res);
        check_result(&res);
        break;
    case 5: {
        struct vtd_ats_completion c;
        q = req_of(r);
        vtd_ats_translate(u, &q, &c);
        if (c.status == VTD_ATS_OK && c.page_shift != 12 && c.page_shift != 21 && c.page_shift != 30)
            abort();
        break;
    }
    case 6: {
        uint64_t f = take(r, 1);
        uint16_t sid = (uint16_t)take(r, 2);
        uint16_t prgi = (uint16_t)(take(r, 2) & 0x1FF);
        struct vtd_page_req pr = { .sid = sid, .pasid_present = f & 1, .read = f & 2,
                                   .write = f & 4, .lpig = f & 8, .pdp = f & 16, .prgi = prgi };
        pr.pasid = (uint32_t)take(r, 3) & 0xFFFFF;
        pr.addr = take(r, 8);
        vtd_page_request(u, &pr);
        break;
    }
    default:
        if (take(r, 1) & 1)
            vtd_ats_unexpected_completion(u, (uint16_t)take(r, 2));
        else
            dev_timeout = !dev_timeout;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mem_arena *mem;
    struct rd r = { data, size };
    struct vtd_config c;
    if (!mem && !(mem = mem_arena_create(ARENA_BASE, ARENA_SIZE)))
        abort();
    void *raw = mem_ptr(mem, ARENA_BASE, ARENA_SIZE);
    memset(raw, 0, ARENA_SIZE);
    take(&r, 1) & 1 ? vtd_config_legacy(&c) : vtd_config_default(&c);
    c.msi = fz_msi;
    struct vtd_unit *u = vtd_unit_create(&c, mem);
    if (!u)
        abort();
    vtd_device_attach(u, (uint16_t)take(&r, 2), &fz_ops, NULL);
    dev_timeout = false;
    for (unsigned n = 0; r.n && n < 4096; n++)
        step(u, mem, &r);
    vtd_unit_destroy(u);
    return 0;
}
