/* Page-request floods (issue 8 item 4; vtd-reference §6.3, §6.4, §5.3 and
 * README "Decisions": a request the unit cannot queue is dropped, setting
 * PRS.PRO on the queue that overflowed, and answered Success when its
 * device waits for an answer, so the device retries).
 *
 * Thousands of page requests for a guest's device and its processes'
 * PASIDs are injected at the host unit, as the device would send them
 * (vtd_page_request): groups of requests, the last one of each group with
 * LPIG, every group with its own (PASID, PRG index). What the spec says
 * must be delivered is the answer to each group: every LPIG request must
 * be answered exactly once, whoever answers it (the guest kernel, iommufd,
 * the host unit or the guest's virtual unit on overflow). Responses are
 * counted at the device (its statistics: none of these groups is one it is
 * waiting for) and per group at the host unit (the vtd_prg_resp trace). */
#include "fault_inject.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "lib/trace.h"
#include "os/iommu.h"
#include "workloads/workloads.h"

#define NPROC 4u           /* guest processes: PASIDs to flood */
#define NPRGI 512u         /* PRG indexes: 9 bits */
#define PRQ_ENTRIES 2048u  /* host and guest kernels' queues (PQS 4) */

struct flood {
    struct host *h;
    struct guest *g;
    struct wl_proc p[NPROC];
    uint64_t va[NPROC];
    FILE *trace;
    long mark;
};

static void flood_start(struct flood *f)
{
    memset(f, 0, sizeof(*f));
    /* Responses are traced from before any thread exists. */
    f->trace = tmpfile();
    assert_non_null(f->trace);
    trace_set_output(f->trace);
    assert_true(trace_enable("vtd_prg_resp") > 0);
    f->h = fi_host(2);
    f->g = fi_guest(f->h, f->h->acc_bdf[0]);
    for (unsigned i = 0; i < NPROC; i++) {
        assert_int_equal(wl_proc_open(&f->p[i], guest_kernel(f->g), guest_accel(f->g, 0)), 0);
        assert_int_equal(os_mmap(&f->p[i].mm, 4096, OS_PROT_READ | OS_PROT_WRITE, &f->va[i]), 0);
    }
}

static void flood_end(struct flood *f)
{
    for (unsigned i = 0; i < NPROC; i++)
        wl_proc_close(&f->p[i]);
    guest_destroy(f->g);
    host_destroy(f->h);
    trace_disable_all();
    trace_set_output(NULL);
    fclose(f->trace);
}

/* Responses traced from now on are the flood's. */
static void trace_mark(struct flood *f)
{
    fflush(f->trace);
    f->mark = ftell(f->trace);
}

/* Counts the responses traced since the mark for requester id sid, per
 * (process, PRG index) into per[] (may be NULL); returns the total and, in
 * *failed, how many were not Success. */
static unsigned traced(struct flood *f, uint16_t sid, unsigned *per, unsigned *failed)
{
    fflush(f->trace);
    long end = ftell(f->trace);
    size_t len = (size_t)(end - f->mark);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    assert_int_equal(pread(fileno(f->trace), buf, len, f->mark), (ssize_t)len);
    buf[len] = '\0';
    unsigned total = 0, bad = 0;
    if (per)
        memset(per, 0, NPROC * NPRGI * sizeof(*per));
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        unsigned s, pasid, prgi, rc;
        if (sscanf(line, "vtd_prg_resp: sid=%x pasid=%x prgi=%u rc=%u", &s, &pasid, &prgi,
                   &rc) != 4 || s != sid)
            continue;
        for (unsigned i = 0; i < NPROC; i++)
            if (f->p[i].ctx.pasid == pasid && prgi < NPRGI) {
                total++;
                bad += rc != VTD_PRG_SUCCESS;
                if (per)
                    per[i * NPRGI + prgi]++;
            }
    }
    free(buf);
    if (failed)
        *failed = bad;
    return total;
}

/* The request of process i's PASID for its page, group prgi. */
static void inject(struct flood *f, unsigned i, unsigned prgi, bool lpig)
{
    struct vtd_page_req pr = { .sid = f->h->acc_bdf[0], .pasid_present = true,
                               .pasid = f->p[i].ctx.pasid, .addr = f->va[i], .read = true,
                               .write = true, .lpig = lpig, .prgi = (uint16_t)prgi };
    vtd_page_request(f->h->unit[0], &pr);
}

static uint64_t unexpected(struct flood *f)
{
    return fi_dev_stats(f->h, 0).responses_unexpected;
}

/* Every group of the flood answered exactly once at the host unit. */
static void check_each_once(struct flood *f, unsigned nproc, unsigned nprgi)
{
    static unsigned per[NPROC * NPRGI];
    unsigned failed = 0, total = traced(f, f->h->acc_bdf[0], per, &failed);
    for (unsigned i = 0; i < nproc; i++)
        for (unsigned g = 0; g < nprgi; g++)
            if (per[i * NPRGI + g] != 1)
                fail_msg("group (PASID %u, PRGI %u) answered %u times", f->p[i].ctx.pasid, g,
                         per[i * NPRGI + g]);
    assert_int_equal(total, nproc * nprgi);
    assert_int_equal(failed, 0);   /* the pages exist: Success, retry */
}

static uint64_t queued(uint64_t pqh, uint64_t pqt)
{
    return ((pqt - pqh) & (PRQ_ENTRIES * 32 - 1)) / 32;
}

/* The host kernel slow (its page-request interrupt masked) while 4096
 * requests arrive: its queue takes 2047 (one slot stays free, §6.3 step 4),
 * PRS.PRO is set and every last request of a group that found no room is
 * answered Success by the unit at once. Unmasked, the host kernel handles
 * each queued request once, routes them to the guest through iommufd, the
 * guest answers, and PRO is cleared once the queue is empty. Every group
 * is answered exactly once; nothing livelocks: the workloads pass after. */
void test_prq_flood_overflows_host_queue(void **state)
{
    (void)state;
    static struct flood f;
    flood_start(&f);
    struct host *h = f.h;
    struct os_iommu *m = &h->iommu[0];
    uint64_t resp0 = unexpected(&f), handled0 = LD(m->prq_handled);
    uint64_t pqh = fi_unit_rd(h, REG_OFF_PQH, 8);
    trace_mark(&f);
    fi_unit_wr(h, REG_OFF_PECTL, 4, HW_FM(ECTL, IM));
    for (unsigned i = 0; i < NPROC; i++)
        for (unsigned g = 0; g < NPRGI; g++) {
            inject(&f, i, g, false);
            inject(&f, i, g, true);
        }
    unsigned groups = NPROC * NPRGI, requests = 2 * groups;
    uint32_t prs = (uint32_t)fi_unit_rd(h, REG_OFF_PRS, 4);
    uint64_t held = queued(pqh, fi_unit_rd(h, REG_OFF_PQT, 8));
    uint64_t lpig_held = held / 2, auto_answered = unexpected(&f) - resp0;
    printf("  host queue overflow: %u requests in %u groups, %llu queued, PRS %#x, "
           "%llu answered by the unit at once\n", requests, groups, (unsigned long long)held,
           prs, (unsigned long long)auto_answered);
    assert_true(prs & HW_FM(PRS, PRO));
    assert_true(prs & HW_FM(PRS, PPR));
    assert_int_equal(held, PRQ_ENTRIES - 1);
    assert_int_equal(auto_answered, groups - lpig_held);
    assert_int_equal(traced(&f, h->acc_bdf[0], NULL, NULL), auto_answered);

    fi_unit_wr(h, REG_OFF_PECTL, 4, 0);   /* the kernel catches up */
    WAIT_UNTIL(unexpected(&f) - resp0 >= groups);
    WAIT_UNTIL(!(fi_unit_rd(h, REG_OFF_PRS, 4) & HW_FM(PRS, PRO)));
    WAIT_UNTIL(fi_unit_rd(h, REG_OFF_PQH, 8) == fi_unit_rd(h, REG_OFF_PQT, 8));
    struct viommu_stats vs = fi_vstats(f.g);
    printf("  after: %llu handled by the host kernel, %llu responses at the device, "
           "guest: %llu injected, %llu answered, %llu dropped\n",
           (unsigned long long)(LD(m->prq_handled) - handled0),
           (unsigned long long)(unexpected(&f) - resp0), (unsigned long long)vs.page_requests,
           (unsigned long long)vs.page_responses, (unsigned long long)vs.dropped_requests);
    assert_int_equal(LD(m->prq_handled) - handled0, held);   /* each queued request, once */
    check_each_once(&f, NPROC, NPRGI);
    assert_int_equal(unexpected(&f) - resp0, groups);
    assert_int_equal(fi_dev_stats(h, 0).responses_late, 0);

    tm_run_all(guest_kernel(f.g), guest_accel(f.g, 0), "guest after the flood");
    tm_run_all(&h->k, &h->drv[1], "host after the flood");
    flood_end(&f);
}

#define GQ_PROCS 3u
#define GQ_GROUPS 256u   /* per process: 768 groups, fewer than iommufd's 1024 */
#define GQ_SIZE 4u       /* requests per group, the last with LPIG */
#define GQ_CHUNK 64u     /* groups injected before the host catches up */

/* The guest kernel slow (its virtual unit's page-request interrupt masked
 * through its own MMIO, PECTL.IM) while 3072 requests (768 groups of 4)
 * reach it; the host keeps up (each chunk waits until the viommu has taken
 * it). The guest's queue takes 2047, its PRS.PRO is set, and its unit
 * answers each last request that found no room Success (through the
 * viommu and iommufd back to the device). Unmasked, the guest kernel
 * answers what it queued and clears PRO. Every group answered exactly
 * once; the workloads pass after. */
void test_prq_flood_overflows_guest_queue(void **state)
{
    (void)state;
    static struct flood f;
    flood_start(&f);
    struct host *h = f.h;
    struct guest *g = f.g;
    struct viommu_stats v0 = fi_vstats(g);
    uint64_t resp0 = unexpected(&f), gpqh = fi_guest_rd(g, REG_OFF_PQH, 8);
    trace_mark(&f);
    fi_guest_wr(g, REG_OFF_PECTL, 4, HW_FM(ECTL, IM));
    unsigned groups = GQ_PROCS * GQ_GROUPS, requests = GQ_SIZE * groups, sent = 0;
    for (unsigned i = 0; i < GQ_PROCS; i++)
        for (unsigned g0 = 0; g0 < GQ_GROUPS; g0 += GQ_CHUNK) {
            for (unsigned k = g0; k < g0 + GQ_CHUNK; k++)
                for (unsigned r = 0; r < GQ_SIZE; r++)
                    inject(&f, i, k, r == GQ_SIZE - 1);
            sent += GQ_CHUNK * GQ_SIZE;
            struct viommu_stats v;
            WAIT_UNTIL((v = fi_vstats(g), v.page_requests + v.dropped_requests -
                                          v0.page_requests - v0.dropped_requests == sent));
        }
    uint64_t held = queued(gpqh, fi_guest_rd(g, REG_OFF_PQT, 8));
    uint64_t lpig_held = held / GQ_SIZE, owed = groups - lpig_held;
    WAIT_UNTIL(unexpected(&f) - resp0 >= owed);
    uint32_t gprs = (uint32_t)fi_guest_rd(g, REG_OFF_PRS, 4);
    struct viommu_stats v1 = fi_vstats(g);
    unsigned by_unit = traced(&f, guest_cfg(g)->dev[0].guest_bdf, NULL, NULL);
    printf("  guest queue overflow: %u requests in %u groups, %llu injected into the guest, "
           "%llu queued there, PRS %#x, %u answered by its unit, %llu at the device\n",
           requests, groups, (unsigned long long)(v1.page_requests - v0.page_requests),
           (unsigned long long)held, gprs, by_unit, (unsigned long long)(unexpected(&f) - resp0));
    assert_int_equal(v1.page_requests - v0.page_requests, requests);   /* the host kept up */
    assert_true(gprs & HW_FM(PRS, PRO));
    assert_int_equal(held, PRQ_ENTRIES - 1);
    assert_int_equal(by_unit, owed);
    assert_int_equal(unexpected(&f) - resp0, owed);
    assert_int_equal(fi_unit_rd(h, REG_OFF_PRS, 4) & HW_FM(PRS, PRO), 0);   /* not the host's */

    fi_guest_wr(g, REG_OFF_PECTL, 4, 0);   /* the guest kernel catches up */
    WAIT_UNTIL(unexpected(&f) - resp0 >= groups);
    WAIT_UNTIL(!(fi_guest_rd(g, REG_OFF_PRS, 4) & HW_FM(PRS, PRO)));
    WAIT_UNTIL(fi_guest_rd(g, REG_OFF_PQH, 8) == fi_guest_rd(g, REG_OFF_PQT, 8));
    struct viommu_stats v2 = fi_vstats(g);
    printf("  after: %llu responses at the device, viommu answered %llu, dropped %llu\n",
           (unsigned long long)(unexpected(&f) - resp0),
           (unsigned long long)(v2.page_responses - v0.page_responses),
           (unsigned long long)(v2.dropped_requests - v0.dropped_requests));
    check_each_once(&f, GQ_PROCS, GQ_GROUPS);
    assert_int_equal(unexpected(&f) - resp0, groups);
    assert_int_equal(v2.page_responses - v0.page_responses, groups);
    assert_int_equal(v2.dropped_requests, v0.dropped_requests);

    tm_run_all(guest_kernel(g), guest_accel(g, 0), "guest after the flood");
    tm_run_all(&h->k, &h->drv[1], "host after the flood");
    flood_end(&f);
}
