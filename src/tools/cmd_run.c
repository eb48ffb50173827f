/* `vsvm run`: the most complete thing vsvm does so far. It builds real
 * translation structures in host memory, programs two remapping units
 * through their registers as a driver would, and translates DMA requests
 * through them, printing every structure the hardware walks (decoded) and
 * every outcome:
 *   unit 0, legacy mode: a device's DMA through a 4-level second level;
 *   unit 1, scalable mode: a host process's page table shared with a
 *   device via a PASID (first level), and a guest process's page table
 *   shared through nested translation (guest VA -> GPA -> HPA);
 *   then a fault, recorded in the fault recording registers;
 * then the RFC's test case 1 (vsvm scenario host): the host kernel driving
 * two remapping units and two SVM accelerators through the four workloads.
 * With arguments, a VMM command line (README "vsvm run with guests",
 * issue 6 item 1): the host and its guests, running their workloads. */
#include <stdio.h>
#include <string.h>

#include "lib/hw_regs.h"
#include "lib/trace.h"
#include "paging/pt.h"
#include "tools/cmds.h"
#include "tools/run_vm.h"
#include "vtd/tables.h"

#define ARENA_BASE 0x100000000ULL
#define ARENA_SIZE (256ULL << 20)

static int failures;

static void show(struct vtd_unit *u, const char *what, const struct vtd_req *req, uint64_t expect)
{
    struct vtd_result r;
    printf("\n-- %s: sid %02x:%02x.%u %s%s addr %#llx%s\n", what, req->sid >> 8,
           (req->sid >> 3) & 0x1F, req->sid & 7, req->write ? "write" : "read",
           req->exec ? "+exec" : "", (unsigned long long)req->addr,
           req->pasid_present ? " (with PASID)" : "");
    if (req->pasid_present)
        printf("   PASID %#x%s\n", req->pasid, req->priv ? " privileged" : "");
    vtd_translate(u, req, &r);
    if (r.fault)
        printf("=> FAULT %#x (%s)%s\n", r.fault, vtd_fault_name(r.fault),
               r.recorded ? ", recorded" : "");
    else
        printf("=> %#llx  (%u KiB page, perm %c%c%c%s)\n", (unsigned long long)r.addr,
               1u << (r.page_shift - 10), r.perm & VTD_PERM_R ? 'r' : '-',
               r.perm & VTD_PERM_W ? 'w' : '-', r.perm & VTD_PERM_X ? 'x' : '-',
               r.cached ? ", IOTLB hit" : "");
    bool ok = expect ? (!r.fault && r.addr == expect) : r.fault != 0;
    if (!ok) {
        printf("   UNEXPECTED (wanted %#llx)\n", (unsigned long long)expect);
        failures++;
    }
}

static int demo_legacy(struct mem_arena *mem)
{
    struct vtd_config c;
    vtd_config_legacy(&c);
    struct vtd_unit *u = vtd_unit_create(&c, mem);
    struct vtd_tables t;
    uint64_t sl = 0, buf = mem_frame_alloc(mem), ctx[2] = { 0 };
    if (!u || vtd_tables_init(&t, mem, false) ||
        vtd_sl_map(mem, &sl, 4, 0x10000, buf, 12, HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W)))
        return -1;
    HW_SET(CTX, P, ctx, 1);
    HW_SET(CTX, SLPTPTR, ctx, sl >> 12);
    HW_SET(CTX, AW, ctx, 2);
    HW_SET(CTX, DID, ctx, 1);
    if (vtd_tables_set_ctx(&t, 0x0100, ctx) || vtd_program_root(u, t.root, 0, true))
        return -1;
    printf("== unit 0 (legacy): root table %#llx, device 01:00.0 in domain 1, IOVA 0x10000 -> %#llx\n",
           (unsigned long long)t.root, (unsigned long long)buf);
    struct vtd_req req = { .sid = 0x0100, .addr = 0x10abc, .write = true };
    show(u, "DMA write", &req, buf + 0xabc);
    show(u, "same again", &req, buf + 0xabc);
    req.addr = 0x20000;
    show(u, "DMA to an unmapped IOVA", &req, 0);
    uint64_t lo = vtd_mmio_read(u, (uint32_t)HW_FV(CAP, FRO, c.cap) * 16, 8);
    uint64_t rec[2] = { lo, vtd_mmio_read(u, (uint32_t)HW_FV(CAP, FRO, c.cap) * 16 + 8, 8) };
    char line[512];
    hw_format(line, sizeof(line), HWS_FRCD, rec, 1);
    printf("   FSTS %#llx, fault record 0: %s\n",
           (unsigned long long)vtd_mmio_read(u, REG_OFF_FSTS, 4), line);
    vtd_unit_destroy(u);
    return 0;
}

/* A scalable-mode device: context entry with PASID and device-TLB enabled
 * over a PASID directory; returns the directory. */
static int sm_device(struct vtd_tables *t, uint16_t sid, uint64_t *dir)
{
    uint64_t ctx[4] = { 0 };
    if (vtd_tables_pasid_dir(t, 2, dir))
        return -1;
    HW_SET(SM_CTX, P, ctx, 1);
    HW_SET(SM_CTX, DTE, ctx, 1);
    HW_SET(SM_CTX, PASIDE, ctx, 1);
    HW_SET(SM_CTX, PRE, ctx, 1);
    HW_SET(SM_CTX, PDTS, ctx, 2);
    HW_SET(SM_CTX, PASIDDIRPTR, ctx, *dir >> 12);
    return vtd_tables_set_ctx(t, sid, ctx);
}

/* First-level PASID entry as Linux writes it for an SVA bind (os-driver
 * §2.4): FLPTR = process page table, DID 1, user requests, NXE. */
static void fl_pasid_entry(uint64_t *pte, uint64_t flptr, uint16_t did, unsigned pgtt,
                           uint64_t slptr)
{
    memset(pte, 0, 64);
    HW_SET(PASID_PTE, P, pte, 1);
    HW_SET(PASID_PTE, PGTT, pte, pgtt);
    HW_SET(PASID_PTE, DID, pte, did);
    HW_SET(PASID_PTE, PWSNP, pte, 1);
    HW_SET(PASID_PTE, NXE, pte, 1);
    HW_SET(PASID_PTE, FLPTPTR, pte, flptr >> 12);
    if (slptr) {
        HW_SET(PASID_PTE, AW, pte, 2);
        HW_SET(PASID_PTE, SLPTPTR, pte, slptr >> 12);
    }
}

static int demo_scalable(struct mem_arena *mem)
{
    struct vtd_config c;
    vtd_config_default(&c);
    struct vtd_unit *u = vtd_unit_create(&c, mem);
    struct vtd_tables t;
    uint64_t dir, pte[8];
    struct pt host_mm, guest_mm;
    if (!u || vtd_tables_init(&t, mem, true) || sm_device(&t, 0x0200, &dir))
        return -1;
    /* A host process: one page at VA 0x7f0000001000, one 2 MiB page. */
    uint64_t page = mem_frame_alloc(mem), big = mem_frames_alloc_contig(mem, 512, 2 << 20);
    if (pt_init(&host_mm, phys_view_hpa(mem), 4) ||
        pt_map(&host_mm, 0x7f0000001000, page, PT_4K, PTE_RW | PTE_US) ||
        pt_map(&host_mm, 0x7f0000200000, big, PT_2M, PTE_RW | PTE_US))
        return -1;
    fl_pasid_entry(pte, host_mm.root, 1, 1, 0);
    if (vtd_tables_set_pasid(&t, dir, 5, pte, false))
        return -1;
    /* A guest (64 MiB of scattered host frames) whose process page table
     * lives in guest memory; the host second level maps GPA -> HPA. */
    struct gpa_map *g = gpa_map_create(mem, 64 << 20);
    uint64_t nest = 0;
    if (!g || pt_init(&guest_mm, phys_view_gpa(g), 4) ||
        vtd_sl_map_gpa_space(mem, &nest, 4, g, HW_FM(SL_PTE, R) | HW_FM(SL_PTE, W)))
        return -1;
    uint64_t gpage = gpa_page_alloc(g);
    if (pt_map(&guest_mm, 0x400000, gpage, PT_4K, PTE_RW | PTE_US))
        return -1;
    fl_pasid_entry(pte, guest_mm.root, 2, 3, nest);
    if (vtd_tables_set_pasid(&t, dir, 9, pte, false) || vtd_program_root(u, t.root, 1, true))
        return -1;
    printf("\n== unit 1 (scalable): device 02:00.0, PASID 5 = host process (first level),\n"
           "   PASID 9 = guest process (nested: guest table at GPA %#llx, GPA %#llx -> HPA %#llx)\n",
           (unsigned long long)guest_mm.root, (unsigned long long)gpage,
           (unsigned long long)gpa_to_hpa(g, gpage));
    struct vtd_req req = { .sid = 0x0200, .pasid_present = true, .pasid = 5,
                           .addr = 0x7f0000001234, .write = true };
    show(u, "SVM write to a host process VA", &req, page + 0x234);
    req.addr = 0x7f00002abcde, req.write = false;
    show(u, "SVM read in a 2 MiB page", &req, big + 0xabcde);
    req.pasid = 9, req.addr = 0x400010;
    show(u, "SVM write to a guest process VA (nested)", &req, gpa_to_hpa(g, gpage) + 0x10);
    req.addr = 0x500000;
    show(u, "guest VA not mapped: non-recoverable first-level fault", &req, 0);
    req.priv = true;
    show(u, "privileged request with SRE=0", &req, 0);
    vtd_unit_destroy(u);
    gpa_map_destroy(g);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    if (argc > 1) {
        struct vmm_config c;
        char why[256];
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
            printf("usage: vsvm run [-host units=N,accels=N,mem=SIZE,accel-units=U:U...] [-json]\n"
                   "         [-verbose] [-accel kvm|in-process | -enable-kvm] GUEST [-guest GUEST]...\n"
                   "GUEST: [-machine q35] [-m SIZE] [-name NAME] [-workload LIST]\n"
                   "       [-device intel-iommu[,svm=on|off][,caching-mode=on|off][,aw-bits=48|57]]\n"
                   "       [-device vfio-pci,host=DDDD:BB:DD.F[,addr=DD.F]]...\n"
                   "Without -accel the guests run on KVM when /dev/kvm is usable and they fit it\n"
                   "(KVM guests: 64M by default, at most 120M), else in-process.\n"
                   "(README: \"vsvm run with guests\")\n");
            return 0;
        }
        if (vmcfg_parse(argc, argv, &c, why, sizeof(why))) {
            fprintf(stderr, "vsvm run: %s\n", why);
            return 2;
        }
        return run_vm(&c);
    }
    bool any = false;
    for (unsigned i = 0; i < TP_COUNT; i++)
        any |= trace_on[i];
    if (!any)
        trace_enable("vtd_walk_*,vtd_fault_record,vtd_gcmd");
    trace_set_output(stdout);
    struct mem_arena *mem = mem_arena_create(ARENA_BASE, ARENA_SIZE);
    if (!mem) {
        fprintf(stderr, "vsvm run: cannot create the host memory arena\n");
        return 1;
    }
    int rc = demo_legacy(mem) || demo_scalable(mem);
    mem_arena_destroy(mem);
    if (rc) {
        fprintf(stderr, "vsvm run: setting up the tables failed\n");
        return 1;
    }
    printf("\n%s: %d unexpected outcome(s)\n\n", failures ? "FAILED" : "OK", failures);
    trace_disable_all();
    char *sargv[] = { "scenario", "all", NULL };
    int sc = cmd_scenario(2, sargv);
    return failures || sc ? 1 : 0;
}
