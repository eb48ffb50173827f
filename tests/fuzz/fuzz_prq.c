/* libFuzzer harness for the page-request / page-response path
 * (vtd-reference §6): host unit PRQ -> host kernel's handler -> iommufd
 * fault queue -> viommu -> the guest's page request queue, and the guest's
 * page group responses back through iommufd to the device.
 *
 * The host is made once (fuzz_guest.h); each input gets a fresh guest that
 * the harness boots as Linux does, with FG_PASID bound to a process page
 * table (VA pages 0-7 mapped, the rest of the first 2 MiB not) and the
 * assigned accelerator's context 15 set to that PASID.
 *
 * Input: byte 0 flags (bit 0: the guest PRQ starts full, PQH one entry
 * past PQT; bit 1: SRE in the PASID entry), then up to 1024 steps, each an
 * opcode byte (mod 8) and its fields, little endian:
 *   0 a page request at the host unit, as a device sends it: u8 flags
 *     (bit 0 PASID present, 1 read, 2 write, 3 exec, 4 priv, 5 LPIG, 6
 *     PDP, 7 another requester id: u16 follows), u16 PRGI (9 bits), u8
 *     (bit 0: FG_PASID, else u24 PASID follows), u32 page number (address
 *     = VA + page * 4 KiB), 16 bytes of private data with PDP, u8 (bit 0:
 *     run the host kernel's PRQ handler now; it also runs on the host's
 *     interrupt thread);
 *   1 a burst: u8 count, u8 flags (bit 0 LPIG, bit 1 PDP): that many
 *     requests for FG_PASID with consecutive PRGIs and pages, then the
 *     host handler (host and guest queue overflow);
 *   2 viommu_poll; u8 (bit 0: while the device is busy, until the poll
 *     brings something, running the host handler in between, for at most
 *     about 2 ms: the device's requests come from its own thread);
 *   3 the guest's page request handler: u8 (bits 0-1 response code:
 *     Success, Invalid, Failure, none; bit 2 map the pages first; bit 3
 *     private data not echoed; bit 4 clear PRS.PPR/PRO; bit 5 leave PQH),
 *     reading its queue from PQH to PQT and answering every request that
 *     expects a response with a page group response;
 *   4 a page group response with arbitrary fields: u16 RID, u24 PASID,
 *     u16 PRGI, u8 (bit 0 PASID present, 1 LPIG, 2 PDP, 4-7 code), 16
 *     bytes of private data, u8 (bit 0: queue without writing IQT);
 *   5 a guest register write: u8 (mod 5: PQH, PQT, PQA, PRS, PECTL), u64;
 *   6 the device: u8 page (stores to VA + 1 MiB + page * 4 KiB, unmapped
 *     until the guest maps it: device PRI), u8 (bit 0: two stores), the
 *     doorbell without waiting;
 *   7 a descriptor from the kernel's builders (fuzz_guest.h fg_desc) and
 *     IQT.
 *
 * Invariants checked: no crash, hang or sanitizer report; after the
 * teardown the device's batch ends (the host answered every page request
 * it had outstanding: done or failed, never by its own time-out) and its
 * device TLB holds nothing of the guest; the host is sane (fuzz_guest.h). */
#include <time.h>

#include "fuzz_guest.h"

#define MAX_STEPS 1024
#define CTX       15
#define ACTX(reg) (ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * CTX + (reg))
#define DEV_VA    (FG_VA + (1ULL << 20))
#define HANG_S    20

static struct fg F;
static uint64_t seq;
static uint16_t burst_prgi;   /* reset per input: a finding replays alike */

static struct accel *dev(struct fg *f) { return f->h->acc[0].dev; }

static void awr(struct fg *f, uint64_t off, uint64_t v, unsigned len)
{
    accel_mmio(dev(f), off, &v, len, true);
}

static uint64_t ard(struct fg *f, uint64_t off, unsigned len)
{
    uint64_t v = 0;
    accel_mmio(dev(f), off, &v, len, false);
    return v;
}

static void host_prq(struct fg *f)
{
    os_iommu_prq_irq(&f->h->iommu[0]);
}

static void page_request(struct fg *f, struct rd *r)
{
    unsigned fl = (unsigned)take(r, 1);
    struct vtd_page_req pr = { .sid = f->host_bdf, .pasid_present = fl & 1, .read = fl & 2,
                               .write = fl & 4, .exec = fl & 8, .priv = fl & 16,
                               .lpig = fl & 32, .pdp = fl & 64 };
    if (fl & 128)
        pr.sid = (uint16_t)take(r, 2);
    pr.prgi = (uint16_t)(take(r, 2) & 0x1FF);
    pr.pasid = take(r, 1) & 1 ? FG_PASID : (uint32_t)take(r, 3) & 0xFFFFF;
    pr.addr = FG_VA + (take(r, 4) << 12);
    if (pr.pdp)
        pr.priv_data[0] = take(r, 8), pr.priv_data[1] = take(r, 8);
    vtd_page_request(f->h->unit[0], &pr);
    if (take(r, 1) & 1)
        host_prq(f);
}

static void burst(struct fg *f, struct rd *r)
{
    unsigned n = (unsigned)take(r, 1), fl = (unsigned)take(r, 1);
    for (unsigned i = 0; i < n; i++) {
        struct vtd_page_req pr = { .sid = f->host_bdf, .pasid_present = true, .pasid = FG_PASID,
                                   .read = true, .lpig = fl & 1, .pdp = fl & 2,
                                   .prgi = burst_prgi++ & 0x1FF, .addr = DEV_VA + i * PAGE_SIZE,
                                   .priv_data = { i, ~(uint64_t)i } };
        vtd_page_request(f->h->unit[0], &pr);
    }
    host_prq(f);
}

static bool dev_busy(struct fg *f)
{
    uint32_t st = (uint32_t)ard(f, ACTX(ACCEL_CTX_STATUS), 4) & 0xFF;
    return st == ACCEL_ST_RUNNING || st == ACCEL_ST_PAGE_WAIT;
}

static void poll(struct fg *f, struct rd *r)
{
    bool wait = take(r, 1) & 1;
    for (unsigned i = 0; !viommu_poll(f->v) && wait && dev_busy(f) && i < 100; i++) {
        struct timespec ts = { 0, 20000 };
        nanosleep(&ts, NULL);
        host_prq(f);
    }
}

/* The guest kernel's PRQ handler (Linux prq_event_thread): every request
 * between PQH and PQT, answered when it expects an answer. */
static void guest_prq(struct fg *f, struct rd *r)
{
    unsigned fl = (unsigned)take(r, 1), rc = fl & 3;
    uint64_t pqa = viommu_mmio_read(f->v, REG_OFF_PQA, 8);
    uint64_t size = PAGE_SIZE << HW_FV(PQA, PQS, pqa);
    uint64_t head = viommu_mmio_read(f->v, REG_OFF_PQH, 8) & HW_FM(PQH, PQH);
    uint64_t tail = viommu_mmio_read(f->v, REG_OFF_PQT, 8) & HW_FM(PQT, PQT);
    if (fl & 16)
        fg_wr(f, REG_OFF_PRS, 4, HW_FM(PRS, PPR) | HW_FM(PRS, PRO));
    unsigned n = 0;
    for (; head % size != tail % size && n < 4096; head = (head + 32) % size, n++) {
        uint64_t d[4], resp[4] = { 0 };
        if (gpa_read(f->ram, (pqa & HW_FM(PQA, PQA)) + head % size, d, sizeof(d)))
            break;
        uint64_t va = HW_GET(PAGE_REQ, ADDR, d) << 12;
        if ((fl & 4) && va >= FG_VA && va < FG_VA + (2ULL << 20))
            (void)gpa_write64(f->ram, FG_PT + 8 * ((va - FG_VA) >> 12),
                              (FG_DATA + ((va >> 12) % 8) * PAGE_SIZE) | FG_FLAGS);
        bool lpig = HW_GET(PAGE_REQ, LPIG, d), pdp = HW_GET(PAGE_REQ, PDP, d);
        if (fg_v())
            fprintf(stderr, "guest prq @%#llx: rid %#llx pasid %#llx va %#llx prgi %llu%s%s\n",
                    (unsigned long long)head, (unsigned long long)HW_GET(PAGE_REQ, RID, d),
                    (unsigned long long)HW_GET(PAGE_REQ, PASID, d), (unsigned long long)va,
                    (unsigned long long)HW_GET(PAGE_REQ, PRGI, d), lpig ? " last" : "",
                    pdp ? " pdp" : "");
        if (rc == 3 || (!lpig && !pdp))
            continue;
        struct os_page_req pr = { .sid = (uint16_t)HW_GET(PAGE_REQ, RID, d),
                                  .pasid_present = HW_GET(PAGE_REQ, PP, d),
                                  .pasid = (uint32_t)HW_GET(PAGE_REQ, PASID, d),
                                  .prgi = (uint16_t)HW_GET(PAGE_REQ, PRGI, d), .lpig = lpig,
                                  .pdp = pdp, .priv_data = { d[2], d[3] ^ (fl & 8 ? 1 : 0) } };
        os_qi_pgresp(resp, &pr, rc == 2 ? VTD_PRG_FAILURE : rc);
        fg_queue(f, resp, false);
    }
    if (f->tail_valid)
        fg_wr(f, REG_OFF_IQT, 8, f->tail);
    if (!(fl & 32))
        fg_wr(f, REG_OFF_PQH, 8, head % size);
}

static void raw_response(struct fg *f, struct rd *r)
{
    struct os_page_req pr = { .sid = (uint16_t)take(r, 2) };
    pr.pasid = (uint32_t)take(r, 3) & 0xFFFFF;
    pr.prgi = (uint16_t)(take(r, 2) & 0x1FF);
    unsigned fl = (unsigned)take(r, 1);
    pr.pasid_present = fl & 1, pr.lpig = fl & 2, pr.pdp = fl & 4;
    pr.priv_data[0] = take(r, 8), pr.priv_data[1] = take(r, 8);
    uint64_t d[4] = { 0 };
    os_qi_pgresp(d, &pr, fl >> 4);
    fg_queue(f, d, !(take(r, 1) & 1));
}

static void reg_write(struct fg *f, struct rd *r)
{
    static const uint32_t regs[5] = { REG_OFF_PQH, REG_OFF_PQT, REG_OFF_PQA, REG_OFF_PRS,
                                      REG_OFF_PECTL };
    unsigned i = (unsigned)take(r, 1) % 5;
    unsigned size = regs[i] == REG_OFF_PRS || regs[i] == REG_OFF_PECTL ? 4 : 8;
    fg_wr(f, regs[i], size, take(r, size));
}

/* The accelerator stores to pages the guest never mapped: device page
 * faults through the whole path. The batch sits at VA page 0. */
static void device(struct fg *f, struct rd *r)
{
    uint64_t page = take(r, 1), fl = take(r, 1);
    struct accel_cmd c[3] = {
        { .opcode = ACCEL_OP_STORE_DWORD, .arg = 0x5EED, .a = DEV_VA + page * PAGE_SIZE },
        { .opcode = fl & 1 ? ACCEL_OP_STORE_DWORD : ACCEL_OP_NOP, .arg = 1,
          .a = DEV_VA + ((page + 1) % 256) * PAGE_SIZE + 8 },
        { .opcode = ACCEL_OP_END, .a = ++seq } };
    if (dev_busy(f))
        return;   /* one batch at a time: the batch area is in use */
    (void)gpa_write(f->ram, FG_DATA, c, sizeof(c));
    awr(f, ACTX(ACCEL_CTX_BATCH), FG_VA, 8);
    awr(f, ACTX(ACCEL_CTX_DOORBELL), 1, 4);
}

static void step(struct fg *f, struct rd *r)
{
    uint64_t d[4];
    switch (take(r, 1) % 8) {
    case 0: page_request(f, r); break;
    case 1: burst(f, r); break;
    case 2: poll(f, r); break;
    case 3: guest_prq(f, r); break;
    case 4: raw_response(f, r); break;
    case 5: reg_write(f, r); break;
    case 6: device(f, r); break;
    default:
        fg_desc(r, d);
        fg_queue(f, d, true);
        break;
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* After the teardown the device's batch must end, answered by the host
 * (ARCHITECTURE.md §6: outstanding page requests are answered), never by
 * the device's own page-response time-out. */
static void device_settles(struct fg *f)
{
    double end = now_s() + HANG_S;
    for (;;) {
        uint32_t st = (uint32_t)ard(f, ACTX(ACCEL_CTX_STATUS), 4);
        if ((st & 0xFF) != ACCEL_ST_RUNNING && (st & 0xFF) != ACCEL_ST_PAGE_WAIT) {
            if (((st >> 8) & 0xFF) == ACCEL_ERR_TIMEOUT)
                fg_die("a device page request was never answered (context status %#x)", st);
            break;
        }
        if (now_s() > end)
            fg_die("device context still busy (%#x) %d s after the guest went away", st, HANG_S);
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    awr(f, ACTX(ACCEL_CTX_CTRL), ACCEL_CTRL_RESET, 4);
    unsigned atc = accel_atc_entries(dev(f));
    if (atc)
        fg_die("%u device-TLB entries left after the guest went away", atc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rd r = { data, size };
    if (!F.h)
        fg_host(&F);
    unsigned flags = (unsigned)take(&r, 1);
    seq = burst_prgi = 0;
    fg_guest_up(&F, true);
    fg_boot(&F, flags & 2);
    if (flags & 1)
        fg_wr(&F, REG_OFF_PQH, 8, 32);
    awr(&F, ACTX(ACCEL_CTX_CTRL), ACCEL_CTRL_RESET, 4);
    awr(&F, ACTX(ACCEL_CTX_PASID), FG_PASID, 4);
    awr(&F, ACTX(ACCEL_CTX_COMPL_VA), 0, 8);
    awr(&F, ACTX(ACCEL_CTX_CTRL), ACCEL_CTRL_ENABLE | ACCEL_CTRL_PASID, 4);
    for (unsigned n = 0; r.n && n < MAX_STEPS; n++)
        step(&F, &r);
    viommu_poll(F.v);
    fg_guest_down(&F);
    device_settles(&F);
    fg_check_host(&F);
    return 0;
}
