/* `vsvm bench qi`: queued-invalidation throughput for the mix an SVM
 * unmap produces (os-driver-behaviour §2.4): a page-selective PASID IOTLB
 * invalidation, a PASID device-TLB invalidation (answered by an attached
 * device) and a wait descriptor with a status write, in a 256-bit queue of
 * 512 slots submitted 510 descriptors per IQT write; the IOTLB holds
 * live entries of the PASID. And page requests per second through the page
 * request queue, software consuming them in batches by writing PQH. */
#include <string.h>

#include "lib/hw_regs.h"
#include "paging/pt.h"
#include "tools/bench.h"
#include "vtd/tables.h"

#define SID   0x0400
#define PASID 3
#define QSLOTS 512u

struct bq {
    struct mem_arena *mem;
    struct vtd_unit *u;
    uint64_t queue, status, prq;
    unsigned inv_seen;
};

static enum vtd_ats_inv_status bq_ats_inv(void *o, uint16_t sid, bool pv, uint32_t pasid,
                                          bool global, uint64_t addr, uint64_t size)
{
    (void)sid, (void)pv, (void)pasid, (void)global, (void)addr, (void)size;
    ((struct bq *)o)->inv_seen++;
    return VTD_ATS_INV_DONE;
}
static void bq_resp(void *o, const struct vtd_page_resp *r) { (void)o, (void)r; }
static const struct vtd_dev_ops bq_ops = { bq_ats_inv, bq_resp };

static int bq_setup(struct bq *b)
{
    struct vtd_config c;
    struct vtd_tables t;
    struct pt mm;
    uint64_t dir, ctx[4] = { 0 }, pte[8] = { 0 }, page;
    vtd_config_default(&c);
    memset(b, 0, sizeof(*b));
    if (!(b->mem = mem_arena_create(0x100000000ULL, 256ULL << 20)) ||
        !(b->u = vtd_unit_create(&c, b->mem)) || vtd_tables_init(&t, b->mem, true) ||
        vtd_tables_pasid_dir(&t, 0, &dir) || pt_init(&mm, phys_view_hpa(b->mem), 4) ||
        vtd_device_attach(b->u, SID, &bq_ops, b))
        return -1;
    page = mem_frame_alloc(b->mem);
    for (uint64_t i = 0; i < 4096; i++)
        if (pt_map(&mm, 0x1000000 + (i << 12), page, PT_4K, PTE_RW | PTE_US))
            return -1;
    HW_SET(PASID_PTE, P, pte, 1), HW_SET(PASID_PTE, PGTT, pte, 1), HW_SET(PASID_PTE, DID, pte, 1);
    HW_SET(PASID_PTE, FLPTPTR, pte, mm.root >> 12), HW_SET(PASID_PTE, PWSNP, pte, 1);
    HW_SET(SM_CTX, P, ctx, 1), HW_SET(SM_CTX, PASIDE, ctx, 1), HW_SET(SM_CTX, DTE, ctx, 1);
    HW_SET(SM_CTX, PRE, ctx, 1), HW_SET(SM_CTX, PASIDDIRPTR, ctx, dir >> 12);
    if (vtd_tables_set_pasid(&t, dir, PASID, pte, false) || vtd_tables_set_ctx(&t, SID, ctx) ||
        vtd_program_root(b->u, t.root, 1, true))
        return -1;
    b->queue = mem_frames_alloc_contig(b->mem, 4, 4096);
    b->prq = mem_frames_alloc_contig(b->mem, 16, 4096);
    b->status = mem_frame_alloc(b->mem);
    vtd_mmio_write(b->u, REG_OFF_IQT, 4, 0);
    vtd_mmio_write(b->u, REG_OFF_IQA, 8, b->queue | HW_FMK(IQA, DW, 1) | HW_FMK(IQA, QS, 2));
    vtd_mmio_write(b->u, REG_OFF_GCMD, 4, (uint32_t)(HW_FM(GCMD, TE) | HW_FM(GCMD, QIE)));
    vtd_mmio_write(b->u, REG_OFF_PQA, 8, b->prq | 4);
    return b->queue == HPA_INVALID || b->status == HPA_INVALID ? -1 : 0;
}

/* Fills slots [first, first + n) with the mix for pages starting at va. */
static void fill(struct bq *b, unsigned first, unsigned n, uint64_t va)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t q[4] = { 0 };
        switch (i % 3) {
        case 0:
            HW_SET(INV_PIOTLB, TYPE_LO, q, INV_TYPE_PIOTLB), HW_SET(INV_PIOTLB, G, q, 3);
            HW_SET(INV_PIOTLB, DID, q, 1), HW_SET(INV_PIOTLB, PASID, q, PASID);
            HW_SET(INV_PIOTLB, ADDR, q, (va + (i / 3) * 4096) >> 12);
            break;
        case 1:
            HW_SET(INV_PDEVTLB, TYPE_LO, q, INV_TYPE_PDEVTLB), HW_SET(INV_PDEVTLB, SID, q, SID);
            HW_SET(INV_PDEVTLB, PASID, q, PASID);
            HW_SET(INV_PDEVTLB, ADDR, q, (va + (i / 3) * 4096) >> 12);
            break;
        default:
            HW_SET(INV_WAIT, TYPE_LO, q, INV_TYPE_WAIT), HW_SET(INV_WAIT, SW, q, 1);
            HW_SET(INV_WAIT, STDATA, q, 2), HW_SET(INV_WAIT, STADDR, q, b->status >> 2);
            break;
        }
        mem_write(b->mem, b->queue + 32 * ((first + i) % QSLOTS), q, 32);
    }
}

static double qi_rate(struct bq *b, unsigned rounds)
{
    const unsigned batch = 510;
    unsigned head = 0;
    struct vtd_req req = { .sid = SID, .pasid_present = true, .pasid = PASID };
    uint64_t ns = 0, descs = 0;
    for (unsigned r = 0; r < rounds; r++) {
        for (uint64_t i = 0; i < 256; i++) {   /* live IOTLB entries to invalidate */
            struct vtd_result res;
            req.addr = 0x1000000 + (i << 12);
            vtd_translate(b->u, &req, &res);
        }
        fill(b, head, batch, 0x1000000);
        uint64_t t0 = bench_now_ns();
        head = (head + batch) % QSLOTS;
        vtd_mmio_write(b->u, REG_OFF_IQT, 4, head * 32);
        ns += bench_now_ns() - t0;
        descs += batch;
    }
    if (vtd_mmio_read(b->u, REG_OFF_FSTS, 4) || vtd_mmio_read(b->u, REG_OFF_IQH, 4) != head * 32)
        return -1;
    return descs * 1e9 / (double)ns;
}

static double prq_rate(struct bq *b, unsigned n)
{
    struct vtd_page_req pr = { .sid = SID, .pasid_present = true, .pasid = PASID, .read = true,
                               .lpig = true };
    const unsigned ring = 2048, batch = 1024;
    uint64_t t0 = bench_now_ns();
    for (unsigned i = 0; i < n; i++) {
        pr.addr = 0x1000000 + ((uint64_t)i << 12), pr.prgi = i & 0x1FF;
        vtd_page_request(b->u, &pr);
        if (i % batch == batch - 1) {
            vtd_mmio_write(b->u, REG_OFF_PQH, 8, ((i + 1) % ring) * 32);
            vtd_mmio_write(b->u, REG_OFF_PRS, 4, 1);
        }
    }
    double rate = n * 1e9 / (double)(bench_now_ns() - t0);
    return vtd_mmio_read(b->u, REG_OFF_PRS, 4) & 2 ? -1 : rate;   /* no overflow allowed */
}

int bench_qi(FILE *out, bool json)
{
    struct bq b;
    if (bq_setup(&b)) {
        fprintf(stderr, "bench qi: setup failed\n");
        return 1;
    }
    double best_qi = 0, best_prq = 0;
    for (int rep = 0; rep < 5; rep++) {
        double q = qi_rate(&b, 200), p = prq_rate(&b, 1 << 20);
        if (q < 0 || p < 0) {
            fprintf(stderr, "bench qi: queue error during the run\n");
            return 1;
        }
        best_qi = q > best_qi ? q : best_qi;
        best_prq = p > best_prq ? p : best_prq;
    }
    vtd_unit_destroy(b.u);
    mem_arena_destroy(b.mem);
    if (json)
        fprintf(out, "{\"name\": \"qi\", \"targets\": {\"descriptors_per_s\": 5000000, "
                     "\"page_requests_per_s\": 1000000}, \"descriptors_per_s\": %.0f, "
                     "\"page_requests_per_s\": %.0f, \"mix\": \"piotlb-psi+pdevtlb+wait\"}",
                best_qi, best_prq);
    else
        fprintf(out, "qi: %.2f M descriptors/s (PASID-IOTLB PSI + PASID device-TLB + wait), "
                     "%.2f M page requests/s\n", best_qi / 1e6, best_prq / 1e6);
    return 0;
}
