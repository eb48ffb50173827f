/* Shared by fuzz_viommu.c and fuzz_prq.c: one host (1 unit, 1 accelerator,
 * 32 MiB) made once per process, a guest side made per input (guest
 * RAM, its iommufd, a viommu with the host accelerator assigned) and torn
 * down after it, the input reader, guest queue helpers, and the checks of
 * host state that every input must leave sane.
 *
 * Host checks after each input's teardown (fg_check_host):
 *   - the host kernel can still run an invalidation: os_qi_submit of a
 *     global IOTLB invalidation on h->iommu[0] returns 0, and the unit's
 *     FSTS has no IQE/ITE/ICE pending afterwards;
 *   - the host queue saw no error while the guest ran: iommu[0].qi_errors
 *     unchanged (iommufd validates what it forwards; a host IQE would mean
 *     guest input reached the host queue unchecked);
 *   - the accelerator's host PASID table is back as before: the RID_PASID
 *     entry (blocked by iommufd_bind) restored bit for bit, no other PASID
 *     entry present;
 *   - no host domain id leaked (the DID bitmap as before) and no host frame
 *     leaked (free frames as before, less the PASID tables the host kernel
 *     keeps once allocated, as Linux does).
 * Translation check (fg_check_xlate): a host translation for the assigned
 * device that succeeds lands in a frame of the current guest's RAM. */
#ifndef VSVM_TESTS_FUZZ_GUEST_H
#define VSVM_TESTS_FUZZ_GUEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hw.h"
#include "lib/hw_regs.h"
#include "os/iommu.h"
#include "viommu/viommu.h"
#include "vmm/host.h"
#include "fuzz_input.h"

#define FG_RAM   (1ULL << 20)    /* guest RAM: random GPAs often land in it */
#define FG_VBDF  0x0008          /* 00:01.0 in the guest */
#define FG_UNUSED __attribute__((unused))

static int fg_verbose = -1;   /* FUZZ_VERBOSE set: what each input did (seed checks) */
static FG_UNUSED bool fg_v(void)
{
    if (fg_verbose < 0)
        fg_verbose = getenv("FUZZ_VERBOSE") != NULL;
    return fg_verbose;
}

struct fg {
    struct host *h;
    uint16_t host_bdf;
    /* per input */
    struct iommufd *ifd;
    struct gpa_map *ram;
    struct viommu *v;
    uint64_t frames[FG_RAM >> 12];   /* HPAs of guest RAM, sorted */
    unsigned msis;
    bool tail_valid;                 /* descriptors queued past IQT, not rung yet */
    uint64_t tail;
    /* host baseline */
    uint64_t rid_pasid[8];
    uint8_t did_used[sizeof(((struct os_iommu *)0)->did_used)];
    uint64_t qi_errors, free_frames;
    unsigned dir_present;
};

__attribute__((noreturn, format(printf, 1, 2))) static FG_UNUSED void fg_die(const char *fmt, ...);
static void fg_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void fg_msi(void *opaque, uint64_t addr, uint32_t data)
{
    (void)addr, (void)data;
    __atomic_fetch_add(&((struct fg *)opaque)->msis, 1, __ATOMIC_RELAXED);
}

/* The accelerator's host PASID entry of pasid (8 qwords), false when its
 * table is not allocated. */
static bool fg_host_pasid_entry(struct fg *f, uint32_t pasid, uint64_t *e)
{
    struct os_iommu_dev *d = os_iommu_dev(&f->h->iommu[0], f->host_bdf);
    uint64_t de;
    if (!d || mem_read64(f->h->mem, d->pasid_dir + 8 * (pasid >> 6), &de) || !(de & 1))
        return false;
    return !mem_read(f->h->mem, (de & HW_FM(PASID_DIR, SMPTBLPTR)) + 64 * (pasid & 0x3F), e, 64);
}

/* Present PASID entries other than the RID_PASID; *tables = PASID tables. */
static unsigned fg_host_pasids(struct fg *f, unsigned *tables)
{
    struct os_iommu_dev *d = os_iommu_dev(&f->h->iommu[0], f->host_bdf);
    unsigned present = 0;
    *tables = 0;
    for (uint32_t i = 0; d && i < (1u << (d->pdts + 7)); i++) {
        uint64_t de, e;
        if (mem_read64(f->h->mem, d->pasid_dir + 8 * i, &de) || !(de & 1))
            continue;
        ++*tables;
        for (uint32_t k = i ? 0 : 1; k < 64; k++)
            if (!mem_read64(f->h->mem, (de & HW_FM(PASID_DIR, SMPTBLPTR)) + 64 * k, &e) && (e & 1))
                present++;
    }
    return present;
}

static void fg_baseline(struct fg *f)
{
    struct os_iommu *m = &f->h->iommu[0];
    if (!fg_host_pasid_entry(f, 0, f->rid_pasid))
        fg_die("no host RID_PASID entry");
    memcpy(f->did_used, m->did_used, sizeof(f->did_used));
    f->qi_errors = __atomic_load_n(&m->qi_errors, __ATOMIC_RELAXED);
    f->free_frames = mem_frames_free(f->h->mem);
    if (fg_host_pasids(f, &f->dir_present))
        fg_die("host PASID entries present before any guest");
}

static FG_UNUSED void fg_host(struct fg *f)
{
    struct host_config c;
    char why[160];
    host_config_default(&c);
    c.nunits = 1, c.naccels = 1, c.mem_size = 32ULL << 20;
    c.accel_unit[0] = 0;
    if (!(f->h = host_create(&c, why, sizeof(why))))
        fg_die("host_create: %s", why);
    f->host_bdf = f->h->acc_bdf[0];
    fg_baseline(f);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The guest side: RAM, iommufd, viommu, the accelerator assigned. */
static FG_UNUSED void fg_guest_up(struct fg *f, bool svm)
{
    f->msis = 0, f->tail_valid = false;
    if (!(f->ifd = iommufd_open(f->h)))
        fg_die("iommufd_open");
    if (!(f->ram = gpa_map_create(f->h->mem, FG_RAM)))
        fg_die("gpa_map_create");
    for (uint64_t i = 0; i < (FG_RAM >> 12); i++)
        f->frames[i] = gpa_to_hpa(f->ram, i << 12);
    qsort(f->frames, FG_RAM >> 12, sizeof(f->frames[0]), cmp_u64);
    struct viommu_config c = { .host = f->h, .ifd = f->ifd, .guest_ram = f->ram, .svm = svm,
                               .msi = fg_msi, .msi_opaque = f };
    if (!(f->v = viommu_create(&c)))
        fg_die("viommu_create (svm=%d)", svm);
    int rc = viommu_assign(f->v, FG_VBDF, f->host_bdf);
    if (rc)
        fg_die("viommu_assign: %d", rc);
}

static FG_UNUSED void fg_guest_down(struct fg *f)
{
    if (fg_v()) {
        struct viommu_stats s;
        viommu_stats(f->v, &s);
        fprintf(stderr, "viommu: binds %llu unbinds %llu bad %llu host-inv %llu (errors %llu) "
                "prq %llu resp %llu dropped %llu faults %llu; guest FSTS %#llx msis %u\n",
                (unsigned long long)s.binds, (unsigned long long)s.unbinds,
                (unsigned long long)s.bad_entries, (unsigned long long)s.host_invalidations,
                (unsigned long long)s.host_inv_errors, (unsigned long long)s.page_requests,
                (unsigned long long)s.page_responses, (unsigned long long)s.dropped_requests,
                (unsigned long long)s.faults_injected,
                (unsigned long long)viommu_mmio_read(f->v, REG_OFF_FSTS, 4), f->msis);
    }
    viommu_destroy(f->v);
    iommufd_close(f->ifd);
    gpa_map_destroy(f->ram);
    f->v = NULL, f->ifd = NULL, f->ram = NULL;
}

static bool fg_guest_frame(const struct fg *f, uint64_t hpa)
{
    uint64_t k = hpa & ~0xFFFULL;
    return bsearch(&k, f->frames, FG_RAM >> 12, sizeof(k), cmp_u64) != NULL;
}

/* A host DMA or ATS translation for the assigned device; a success must
 * land in the guest's RAM. */
static FG_UNUSED void fg_check_xlate(struct fg *f, struct rd *r)
{
    unsigned fl = (unsigned)take(r, 1);
    struct vtd_req q = { .sid = f->host_bdf, .pasid_present = fl & 1, .write = fl & 2,
                         .exec = fl & 4, .priv = fl & 8 };
    q.pasid = (uint32_t)take(r, 3) & 0xFFFFF;
    q.addr = fl & 0x20 ? take(r, 8) : take(r, 4) << 12;
    uint64_t addr = 0;
    unsigned shift = 12;
    if (fl & 0x10) {
        struct vtd_ats_completion c;
        q.at = VTD_AT_TRANSLATION;
        vtd_ats_translate(f->h->unit[0], &q, &c);
        if (fg_v())
            fprintf(stderr, "ats pasid %s%#x va %#llx: status %d fault %#x hpa %#llx\n",
                    q.pasid_present ? "" : "-", q.pasid, (unsigned long long)q.addr, c.status,
                    c.fault, (unsigned long long)c.addr);
        if (c.status != VTD_ATS_OK)
            return;
        addr = c.addr, shift = c.page_shift;
    } else {
        struct vtd_result res;
        vtd_translate(f->h->unit[0], &q, &res);
        if (fg_v())
            fprintf(stderr, "dma pasid %s%#x va %#llx: fault %#x%s hpa %#llx\n",
                    q.pasid_present ? "" : "-", q.pasid, (unsigned long long)q.addr, res.fault,
                    res.blocked ? " blocked" : "", (unsigned long long)res.addr);
        if (res.fault || res.blocked)
            return;
        addr = res.addr, shift = res.page_shift;
    }
    uint64_t base = addr & ~((1ULL << shift) - 1);
    for (uint64_t p = base; p < base + (1ULL << shift); p += PAGE_SIZE)
        if (!fg_guest_frame(f, p))
            fg_die("host translation of pasid %s%#x va %#llx gave HPA %#llx (page %u): not guest RAM",
                   q.pasid_present ? "" : "-", q.pasid, (unsigned long long)q.addr,
                   (unsigned long long)addr, shift);
}

static FG_UNUSED void fg_check_host(struct fg *f)
{
    struct os_iommu *m = &f->h->iommu[0];
    uint64_t d[1][4] = { { 0 } };
    os_qi_iotlb(d[0], 1, 0, 0, 0, false);
    int rc = os_qi_submit(m, d, 1);
    if (rc)
        fg_die("host os_qi_submit after the input: %d", rc);
    uint32_t fsts = (uint32_t)vtd_mmio_read(f->h->unit[0], REG_OFF_FSTS, 4);
    if (fsts & (HW_FM(FSTS, IQE) | HW_FM(FSTS, ITE) | HW_FM(FSTS, ICE)))
        fg_die("host FSTS %#x: queue error pending", fsts);
    uint64_t qi_errors = __atomic_load_n(&m->qi_errors, __ATOMIC_RELAXED);
    if (qi_errors != f->qi_errors)
        fg_die("host invalidation queue errors: %llu -> %llu", (unsigned long long)f->qi_errors,
               (unsigned long long)qi_errors);
    uint64_t e[8];
    if (!fg_host_pasid_entry(f, 0, e) || memcmp(e, f->rid_pasid, sizeof(e)))
        fg_die("host RID_PASID entry not restored: %#llx %#llx %#llx", (unsigned long long)e[0],
               (unsigned long long)e[1], (unsigned long long)e[2]);
    unsigned tables, present = fg_host_pasids(f, &tables);
    if (present)
        fg_die("%u host PASID entries left present", present);
    if (memcmp(m->did_used, f->did_used, sizeof(f->did_used)))
        fg_die("host domain ids leaked");
    uint64_t free_now = mem_frames_free(f->h->mem);
    if (free_now + (tables - f->dir_present) != f->free_frames)
        fg_die("host frames: %llu free, %llu before (+%u PASID tables kept)",
               (unsigned long long)free_now, (unsigned long long)f->free_frames,
               tables - f->dir_present);
}

/* ---- the guest's invalidation queue: what its driver does -------------- */
/* Guest register write (any other write forgets the software tail). */
static FG_UNUSED void fg_wr(struct fg *f, uint32_t off, unsigned size, uint64_t val)
{
    f->tail_valid = false;
    viommu_mmio_write(f->v, off, size, val);
}

/* Writes desc at the tail of the queue the guest programmed (IQA) and,
 * when ring, writes IQT (else the next descriptor goes after it). */
static FG_UNUSED void fg_queue(struct fg *f, const uint64_t *desc, bool ring)
{
    uint64_t iqa = viommu_mmio_read(f->v, REG_OFF_IQA, 8);
    uint64_t iqt = f->tail_valid ? f->tail : viommu_mmio_read(f->v, REG_OFF_IQT, 8) & HW_FM(IQT, QT);
    uint64_t dsz = HW_FV(IQA, DW, iqa) ? 32 : 16;
    uint64_t qsize = PAGE_SIZE << HW_FV(IQA, QS, iqa);
    (void)gpa_write(f->ram, (iqa & HW_FM(IQA, IQA)) + iqt, desc, dsz);
    iqt = (iqt + dsz) % qsize;
    if (ring) {
        fg_wr(f, REG_OFF_IQT, 8, iqt);
    } else {
        f->tail_valid = true;
        f->tail = iqt;
    }
}

/* A descriptor built by the kernel's own builders from a template and
 * fuzzed fields: u8 template, u8 granularity/flags, u16 DID, u24 PASID,
 * u64 address, u8 mask/size. */
static FG_UNUSED void fg_desc(struct rd *r, uint64_t *d)
{
    unsigned t = (unsigned)take(r, 1), g = (unsigned)take(r, 1);
    uint16_t did = (uint16_t)take(r, 2);
    uint32_t pasid = (uint32_t)take(r, 3) & 0xFFFFF;
    uint64_t addr = take(r, 8);
    unsigned am = (unsigned)take(r, 1);
    memset(d, 0, 32);
    switch (t % 8) {
    case 0: os_qi_cc(d, g & 3, did, (g & 4) ? (uint16_t)pasid : FG_VBDF, am & 3); break;
    case 1: os_qi_iotlb(d, g & 3, did, addr & PAGE_MASK, am & 0x3F, g & 4); break;
    case 2: os_qi_pc(d, g & 3, did, pasid); break;
    case 3: os_qi_piotlb(d, g & 3, did, pasid, addr & PAGE_MASK, am & 0x3F, g & 4); break;
    case 4: os_qi_pdevtlb(d, (g & 4) ? did : FG_VBDF, pasid, g >> 3, addr & PAGE_MASK,
                          1ULL << (am % 40)); break;
    case 5: os_qi_devtlb(d, (g & 4) ? did : FG_VBDF, g >> 3, addr & PAGE_MASK,
                         1ULL << (am % 40)); break;
    case 6:
        HW_SET(INV_WAIT, TYPE_LO, d, INV_TYPE_WAIT);
        HW_SET(INV_WAIT, IF, d, g & 1);
        HW_SET(INV_WAIT, SW, d, (g >> 1) & 1);
        HW_SET(INV_WAIT, FN, d, (g >> 2) & 1);
        HW_SET(INV_WAIT, PD, d, (g >> 3) & 1);
        HW_SET(INV_WAIT, STDATA, d, did | (uint64_t)pasid << 16);
        HW_SET(INV_WAIT, STADDR, d, (addr % FG_RAM) >> 2);
        break;
    default: {
        struct os_page_req pr = { .sid = (g & 4) ? did : FG_VBDF, .pasid_present = !(g & 8),
                                  .pasid = pasid, .prgi = (uint16_t)(addr & 0x1FF),
                                  .lpig = !(g & 16), .pdp = g & 32,
                                  .priv_data = { addr, addr >> 9 } };
        os_qi_pgresp(d, &pr, (g >> 6) == 3 ? VTD_PRG_FAILURE : g >> 6);
        break;
    }
    }
}

/* ---- a booted guest with a bound PASID (fuzz_prq) ---------------------- */
#define FG_PASID 5
#define FG_DID   9
#define FG_VA    0x10000000ULL   /* first level: VA..VA+2M through the table at FG_PT */
#define FG_ROOT  0x10000ULL
#define FG_CTXT  0x11000ULL
#define FG_DIR   0x12000ULL
#define FG_PTBL  0x13000ULL
#define FG_IQ    0x20000ULL      /* 4 KiB, 256-bit descriptors */
#define FG_STAT  0x30000ULL
#define FG_PRQ   0x40000ULL      /* 4 KiB: 128 page requests */
#define FG_PML4  0x50000ULL
#define FG_PDPT  0x51000ULL
#define FG_PD    0x52000ULL
#define FG_PT    0x53000ULL
#define FG_DATA  0x60000ULL      /* VA page i (< 8) -> FG_DATA + i pages; the rest unmapped */
#define FG_FLAGS 0x67ULL         /* P RW US A D */

static FG_UNUSED void fg_w64(struct fg *f, uint64_t gpa, uint64_t v)
{
    if (gpa_write64(f->ram, gpa, v))
        fg_die("guest write %#llx", (unsigned long long)gpa);
}

static FG_UNUSED void fg_qi(struct fg *f, unsigned n, uint64_t (*d)[4])
{
    for (unsigned i = 0; i < n; i++)
        fg_queue(f, d[i], i + 1 == n);
}

/* Linux's scalable-mode boot of the virtual unit (os-driver-behaviour §2),
 * a process page table and the SVA bind of FG_PASID, as the viommu tests
 * do (tests/unit/viommu_fixture.c). */
static FG_UNUSED void fg_boot(struct fg *f, bool sre)
{
    fg_w64(f, FG_ROOT, FG_CTXT | 1);
    fg_w64(f, FG_CTXT + 32 * (FG_VBDF & 0xFF), FG_DIR | HW_FM(SM_CTX, DTE) |
           HW_FM(SM_CTX, PASIDE) | HW_FM(SM_CTX, PRE) | 1);
    fg_w64(f, FG_DIR, FG_PTBL | 1);
    fg_wr(f, REG_OFF_IQT, 8, 0);
    fg_wr(f, REG_OFF_IQA, 8, FG_IQ | HW_FM(IQA, DW));
    fg_wr(f, REG_OFF_GCMD, 4, HW_FM(GCMD, QIE));
    fg_wr(f, REG_OFF_RTADDR, 8, FG_ROOT | HW_FMK(RTADDR, TTM, 1));
    fg_wr(f, REG_OFF_GCMD, 4, HW_FM(GCMD, QIE) | HW_FM(GCMD, SRTP));
    uint64_t d[3][4] = { { 0 } };
    os_qi_cc(d[0], 1, 0, 0, 0);
    os_qi_pc(d[1], 3, 0, 0);
    os_qi_iotlb(d[2], 1, 0, 0, 0, false);
    fg_qi(f, 3, d);
    fg_wr(f, REG_OFF_PECTL, 4, 0);
    fg_wr(f, REG_OFF_PQH, 8, 0);
    fg_wr(f, REG_OFF_PQT, 8, 0);
    fg_wr(f, REG_OFF_PQA, 8, FG_PRQ);
    fg_wr(f, REG_OFF_GCMD, 4, HW_FM(GCMD, QIE) | HW_FM(GCMD, TE));
    fg_w64(f, FG_PML4, FG_PDPT | FG_FLAGS);
    fg_w64(f, FG_PDPT, FG_PD | FG_FLAGS);
    fg_w64(f, FG_PD + 8 * ((FG_VA >> 21) & 511), FG_PT | FG_FLAGS);
    for (unsigned i = 0; i < 8; i++)
        fg_w64(f, FG_PT + 8 * i, (FG_DATA + i * PAGE_SIZE) | FG_FLAGS);
    uint64_t e[8] = { 0 };
    HW_SET(PASID_PTE, P, e, 1);
    HW_SET(PASID_PTE, PGTT, e, 1);
    HW_SET(PASID_PTE, DID, e, FG_DID);
    HW_SET(PASID_PTE, SRE, e, sre);
    HW_SET(PASID_PTE, FLPTPTR, e, FG_PML4 >> 12);
    if (gpa_write(f->ram, FG_PTBL + 64 * FG_PASID, e, sizeof(e)))
        fg_die("PASID entry");
    memset(d, 0, sizeof(d));
    os_qi_pc(d[0], 1, FG_DID, FG_PASID);
    os_qi_piotlb(d[1], 2, FG_DID, FG_PASID, 0, 0, false);
    fg_qi(f, 2, d);
    if (viommu_shadow_hwpt(f->v, FG_VBDF, FG_PASID) == 0)
        fg_die("the guest's bind did not reach the host");
}

#endif
