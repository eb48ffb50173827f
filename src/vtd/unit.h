/* A VT-d DMA-remapping hardware unit (one DRHD): register file, translation
 * of DMA requests through legacy or scalable-mode structures, caches and
 * fault recording. Any number of instances; each is thread-safe. */
#ifndef VSVM_VTD_UNIT_H
#define VSVM_VTD_UNIT_H

#include <stdbool.h>
#include <stdint.h>
#include "mem/mem.h"
#include "vtd/fault.h"

/* Interrupt sink: the unit raises its fault, invalidation-completion and
 * page-request events as MSIs (address = UADDR:ADDR, data). */
typedef void (*vtd_msi_fn)(void *opaque, uint64_t addr, uint32_t data);
struct vtd_unit;

struct vtd_config {
    uint32_t ver;          /* VER register */
    uint64_t cap, ecap;    /* CAP / ECAP as reported */
    unsigned haw;          /* host address width (bits); table pointers above are reserved */
    uint64_t reg_base;     /* MMIO base of the register page (platform map) */
    vtd_msi_fn msi;        /* may be NULL */
    void *msi_opaque;
    /* Virtual units: runs for every invalidation descriptor the queue
     * executes (after the unit's own effect, before the next descriptor),
     * with the unit's lock held. It may read guest memory and call
     * vtd_lookup_pasid_entry / vtd_lookup_context, nothing else of this
     * unit. desc is 4 qwords (QW2/QW3 zero in a 128-bit queue). */
    void (*desc_hook)(void *opaque, struct vtd_unit *u, const uint64_t *desc);
    /* The same, called before the unit executes a valid descriptor (a
     * virtual unit completes forwards it buffered before a wait's status
     * write becomes visible). Shares desc_opaque. May be NULL. */
    void (*desc_pre_hook)(void *opaque, struct vtd_unit *u, const uint64_t *desc);
    void *desc_opaque;
};

/* Default: a current server-class scalable-mode unit (every field and why
 * is documented in vtd/config.c and README.md). */
void vtd_config_default(struct vtd_config *c);
/* A legacy-only unit (VER 1.0, no scalable mode, no PASID). */
void vtd_config_legacy(struct vtd_config *c);
/* Checks a configuration for internal consistency (register offsets inside
 * the page and not overlapping, NFR, widths); 0 or -EINVAL with a message. */
int vtd_config_check(const struct vtd_config *c, char *why, unsigned why_len);

struct vtd_unit;
struct gpa_map;
struct vtd_unit *vtd_unit_create(const struct vtd_config *c, struct mem_arena *mem);
/* A unit whose structures, queues and walks live in a guest's physical
 * space: the register-level model of a virtual IOMMU. */
struct vtd_unit *vtd_unit_create_guest(const struct vtd_config *c, struct gpa_map *g);
void vtd_unit_destroy(struct vtd_unit *u);
const struct vtd_config *vtd_unit_config(const struct vtd_unit *u);

/* MMIO on the register page; off is the byte offset, size 4 or 8. Unknown
 * offsets and unsupported sizes are ignored (reads return 0) and traced. */
uint64_t vtd_mmio_read(struct vtd_unit *u, uint32_t off, unsigned size);
void vtd_mmio_write(struct vtd_unit *u, uint32_t off, unsigned size, uint64_t val);

/* ---- DMA requests ---------------------------------------------------- */
enum vtd_at { VTD_AT_UNTRANSLATED = 0, VTD_AT_TRANSLATION = 1, VTD_AT_TRANSLATED = 2 };

struct vtd_req {
    uint16_t sid;          /* requester id: bus << 8 | devfn */
    bool pasid_present;
    uint32_t pasid;
    uint64_t addr;
    bool write;            /* else read */
    bool exec, priv;
    enum vtd_at at;
};

#define VTD_PERM_R 1u
#define VTD_PERM_W 2u
#define VTD_PERM_X 4u

struct vtd_result {
    uint64_t addr;         /* output address (valid when !fault) */
    uint8_t page_shift;    /* 12, 21 or 30 */
    uint8_t perm;          /* VTD_PERM_* the translation grants this requester */
    uint8_t fault;         /* enum vtd_fault, 0 on success */
    bool qualified;        /* fault can be suppressed by FPD */
    bool fpd;              /* an FPD bit on the path was set */
    bool recorded;         /* the fault went to a fault recording register */
    bool cached;           /* served from the IOTLB */
    bool blocked;          /* aborted without a fault record (TTM=11, abort-DMA mode):
                              fault is 0 and nothing was translated; check this too */
    uint16_t did;
};

/* Translates one request as the hardware would, records a non-recoverable
 * fault if one occurs (subject to FPD), and returns the outcome. */
void vtd_translate(struct vtd_unit *u, const struct vtd_req *req, struct vtd_result *res);
/* The same without recording a fault (for ATS translation requests that
 * are answered to the device, and for probing in tests). */
void vtd_translate_norecord(struct vtd_unit *u, const struct vtd_req *req, struct vtd_result *res);

/* ---- cache invalidation --------------------------------------------------
 * The primitives behind register-based and queued invalidation, callable
 * directly (they take the unit lock). */
enum vtd_cc_gran { VTD_CC_GLOBAL = 1, VTD_CC_DOMAIN = 2, VTD_CC_DEVICE = 3 };
void vtd_inv_context(struct vtd_unit *u, enum vtd_cc_gran g, uint16_t did, uint16_t sid, unsigned fm);
enum vtd_pc_gran { VTD_PC_DOMAIN = 0, VTD_PC_PASID = 1, VTD_PC_GLOBAL = 3 };
void vtd_inv_pasid_cache(struct vtd_unit *u, enum vtd_pc_gran g, uint16_t did, uint32_t pasid);
/* IOTLB descriptor / register semantics (§4.4): global, domain, or
 * page-selective (2^am pages at addr) within a domain; ih = leaf-only hint.
 * Page-selective drops the domain's second-level entries in the range and
 * all its nested entries (see vtd/cache_inv.c). */
enum vtd_iotlb_gran { VTD_IOTLB_GLOBAL = 1, VTD_IOTLB_DOMAIN = 2, VTD_IOTLB_PAGE = 3 };
void vtd_inv_iotlb(struct vtd_unit *u, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
                   unsigned am, bool ih);
/* PASID-based IOTLB: all non-global mappings of (did, pasid), or 2^am pages
 * at addr within it; first-level and nested entries only (§4.8). */
void vtd_inv_piotlb(struct vtd_unit *u, bool page, uint16_t did, uint32_t pasid,
                    uint64_t addr, unsigned am, bool ih);

struct vtd_stats {
    uint64_t translations, iotlb_hits, iotlb_misses, faults, faults_suppressed,
             ctx_hits, ctx_misses, pasid_hits, pasid_misses;
};
void vtd_unit_stats(struct vtd_unit *u, struct vtd_stats *s);


/* ---- the device side: what a PCIe endpoint behind the unit uses -------- */

/* Device-TLB (ATS) invalidation request delivered to the device (§4.5,
 * §4.8): [addr, addr + size) for the PASID (if pasid_valid), global entries
 * too when `global`. The device answers synchronously whether it completed
 * the invalidation; VTD_ATS_INV_TIMEOUT models a device that never sends the
 * Invalidate Completion (the unit then reports ITE). */
enum vtd_ats_inv_status { VTD_ATS_INV_DONE, VTD_ATS_INV_TIMEOUT };

struct vtd_page_req {
    uint16_t sid;
    bool pasid_present;
    uint32_t pasid;
    uint64_t addr;          /* page address (low 12 bits ignored) */
    bool read, write, exec, priv;
    bool lpig;              /* last page in group */
    uint16_t prgi;          /* page request group index (9 bits) */
    bool pdp;               /* private data present */
    uint64_t priv_data[2];
};

/* Page group response codes (§6.5). */
enum vtd_prg_rc { VTD_PRG_SUCCESS = 0x0, VTD_PRG_INVALID = 0x1, VTD_PRG_FAILURE = 0xF };

struct vtd_page_resp {
    uint16_t sid;
    bool pasid_present;
    uint32_t pasid;
    uint16_t prgi;
    bool lpig;
    enum vtd_prg_rc rc;
    bool pdp;
    uint64_t priv_data[2];
};

/* Callbacks run with the unit's lock held: a device must record the work
 * and return, never call back into the unit from them. */
struct vtd_dev_ops {
    enum vtd_ats_inv_status (*ats_invalidate)(void *opaque, uint16_t sid, bool pasid_valid,
                                              uint32_t pasid, bool global, uint64_t addr,
                                              uint64_t size);
    void (*page_response)(void *opaque, const struct vtd_page_resp *resp);
};

#define VTD_MAX_DEVICES 64
/* Registers the endpoint with requester id `sid` (0 or -EBUSY / -ENOSPC). */
int vtd_device_attach(struct vtd_unit *u, uint16_t sid, const struct vtd_dev_ops *ops, void *opaque);
void vtd_device_detach(struct vtd_unit *u, uint16_t sid);

/* ATS translation request (§7): the completion a device caches in its
 * device TLB. NO_ACCESS (R = W = 0, nothing recorded) when the page is not
 * present or lacks the rights: the device may then send a page request.
 * UNSUPPORTED when the request is blocked by the translation structures:
 * the fault is recorded as for any request. */
enum vtd_ats_status { VTD_ATS_OK, VTD_ATS_NO_ACCESS, VTD_ATS_UNSUPPORTED };
struct vtd_ats_completion {
    enum vtd_ats_status status;
    uint64_t addr;          /* translated page base */
    uint8_t page_shift;
    uint8_t perm;           /* VTD_PERM_* */
    uint8_t fault;          /* reason behind NO_ACCESS / UNSUPPORTED */
};
void vtd_ats_translate(struct vtd_unit *u, const struct vtd_req *req, struct vtd_ats_completion *c);

/* PRI page request (§6.3): written to the page request queue, or answered by
 * the unit itself when it cannot be delivered (see vtd/prq.c). */
void vtd_page_request(struct vtd_unit *u, const struct vtd_page_req *pr);

/* An ATS Invalidate Completion the unit did not ask for (§4.9): ICE. */
void vtd_ats_unexpected_completion(struct vtd_unit *u, uint16_t sid);

/* ---- virtual units: reading and reporting on the guest's behalf ----------- */

/* Reads the scalable-mode structures for (sid, pasid) as the unit would
 * (root, context, PASID directory and table, every check), without the
 * caches: 0 with the 8-qword PASID entry in pte, or the fault reason.
 * Callable from desc_hook (no lock taken). */
uint8_t vtd_lookup_pasid_entry(struct vtd_unit *u, uint16_t sid, uint32_t pasid, uint64_t *pte);
/* Records a non-recoverable fault as if the unit had met it (fault
 * recording registers, fault event); false when no record was written
 * (PFO). For faults a host reports on a guest's behalf. */
bool vtd_fault_inject(struct vtd_unit *u, const struct vtd_req *req, uint8_t reason);

#endif
