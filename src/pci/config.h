/* A PCI Express function's 4 KiB configuration space (PCIe 5.0 §7.5, §7.6):
 * built once by a builder API that lays out and links capabilities, then
 * accessed by software through pci_cfg_read/pci_cfg_write with the
 * semantics of the register table in pci/pci_regs.h, and observed by the
 * device model through events and accessors (it never polls).
 *
 * Access rule (decision, PCIe §2.2.7 / §7.2.2): a configuration request
 * carries one dword with byte enables, so an access of 1, 2 or 4 bytes at
 * any offset is accepted if it stays inside one dword; an access crossing a
 * dword boundary (or off the 4 KiB space, or another size) is refused:
 * reads return all-ones and -EINVAL, writes are dropped with -EINVAL.
 *
 * Threading: a function's state is guarded by its own lock; config
 * accesses and the device-side calls may come from different threads.
 * Events are delivered after the lock is released, on the thread that made
 * the config write, in register order; a handler may call any accessor. */
#ifndef VSVM_PCI_CONFIG_H
#define VSVM_PCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/spinlock.h"
#include "pci/pci_regs.h"

#define PCI_CFG_SIZE        4096u
#define PCI_CFG_LEGACY_SIZE 256u
#define PCI_NUM_BARS        6u
#define PCI_CAP_START       0x40u     /* first PCI-compatible capability */
#define PCI_EXT_CAP_START   0x100u    /* first extended capability (§7.6) */

enum pci_cap_id {                      /* PCI Code and ID Assignment */
    PCI_CAP_ID_MSI = PCI_BLK_CAPID_MSI,
    PCI_CAP_ID_EXP = PCI_BLK_CAPID_PCIE,
};
enum pci_ext_cap_id {
    PCI_EXT_CAP_ID_ATS = PCI_BLK_CAPID_ATS,
    PCI_EXT_CAP_ID_PRI = PCI_BLK_CAPID_PRI,
    PCI_EXT_CAP_ID_PASID = PCI_BLK_CAPID_PASID,
};

/* ---- events: what changed, delivered once per change ------------------ */
enum pci_event_kind {
    PCI_EV_COMMAND,      /* Command register; old/new = register value */
    PCI_EV_BAR,          /* index = BAR; old/new = decoded base (0 = none) */
    PCI_EV_MSI_CTL,      /* MSI Message Control (enable, MME) */
    PCI_EV_MSI_ADDR,     /* old/new = 64-bit message address */
    PCI_EV_MSI_DATA,     /* old/new = message data */
    PCI_EV_MSI_MASK,     /* old/new = mask bits */
    PCI_EV_MSI_PENDING,  /* new = vectors just unmasked with Pending set: the
                            model must call pci_msi_signal for each (§7.7.1.8) */
    PCI_EV_ATS,          /* ATS Control (enable, STU) */
    PCI_EV_PASID,        /* PASID Control (enable, execute, privileged) */
    PCI_EV_PRI_ENABLE,   /* PRI Control enable bit; old/new = 0/1 */
    PCI_EV_PRI_RESET,    /* Reset took effect: drop every outstanding request */
    PCI_EV_PRI_ALLOC,    /* Outstanding Page Request Allocation */
};

struct pci_event {
    enum pci_event_kind kind;
    unsigned index;
    uint64_t old_val, new_val;
};

struct pci_func;
typedef void (*pci_event_fn)(void *opaque, struct pci_func *f, const struct pci_event *ev);
/* MMIO to a BAR: offset within the BAR; data holds len bytes (little
 * endian). Returns 0 or a negative errno passed back to the bus's caller. */
typedef int (*pci_mmio_fn)(void *opaque, unsigned bar, uint64_t offset, void *data,
                           unsigned len, bool is_write);

struct pci_func_ops {
    pci_event_fn event;
    pci_mmio_fn mmio;
};

/* ---- the function (embed it in the device model; fields are private) -- */
#define PCI_MAX_REG_INST 64u

struct pci_reg_inst {
    uint8_t id;                  /* enum pci_reg_id */
    uint16_t off;                /* absolute offset in config space */
};

struct pci_func {
    uint8_t cfg[PCI_CFG_SIZE];   /* current contents */
    uint8_t rst[PCI_CFG_SIZE];   /* reset image */
    uint8_t wmask[PCI_CFG_SIZE], w1c[PCI_CFG_SIZE], wo[PCI_CFG_SIZE];
    uint8_t reg_at[PCI_CFG_SIZE];           /* 1 + index into regs, 0 = none */
    struct pci_reg_inst regs[PCI_MAX_REG_INST];
    unsigned nregs;
    uint16_t cap[PCI_BLK_COUNT];            /* capability offsets, 0 = absent */
    uint16_t std_free, ext_free, std_last, ext_last;
    uint64_t bar_size[PCI_NUM_BARS];        /* 0: not implemented / upper half */
    bool bar_64[PCI_NUM_BARS];
    uint64_t bar_addr[PCI_NUM_BARS];        /* last decoded base, for PCI_EV_BAR */
    uint32_t pri_outstanding;
    spinlock_t lock;
    const struct pci_func_ops *ops;
    void *opaque;
};

/* ---- builder: all return 0 or -EINVAL / -EEXIST / -ENOSPC -------------- */
/* Type-0 header, single function, no INTx pin; class_code = base << 16 |
 * sub << 8 | prog-if. Subsystem IDs = vendor/device. Vendor 0 and 0xFFFF
 * are refused (Linux reads them as "no device"). */
int pci_func_init(struct pci_func *f, uint16_t vendor, uint16_t device, uint32_t class_code);
/* Set the ops before the function is reachable (pci_bus_add): event delivery
 * and MMIO dispatch read them without the lock. */
void pci_func_set_ops(struct pci_func *f, const struct pci_func_ops *ops, void *opaque);
/* Memory BAR: size a power of two, >= 128 bytes (§7.5.1.2.1), <= 2 GiB for
 * a 32-bit BAR; a 64-bit BAR also takes BAR idx + 1. */
int pci_add_bar(struct pci_func *f, unsigned idx, uint64_t size, bool is64, bool prefetch);
/* PCI Express capability v2, device/port type 9 (RC integrated endpoint). */
int pci_add_pcie_rciep(struct pci_func *f);
/* MSI, 64-bit, per-vector masking; vectors = 1, 2, 4, ... 32. */
int pci_add_msi(struct pci_func *f, unsigned vectors);
/* The extended capabilities need the PCIe capability (§7.6). */
int pci_add_ats(struct pci_func *f, unsigned invq_depth);          /* 1..32 */
int pci_add_pasid(struct pci_func *f, unsigned max_width, bool exec, bool priv); /* 0..20 */
int pci_add_pri(struct pci_func *f, uint32_t capacity);             /* >= 1 */
/* Offset of a capability block (PCI_BLK_*), 0 if absent. */
unsigned pci_func_cap(const struct pci_func *f, enum pci_blk blk);
/* Conventional reset: back to the reset image, PRI state cleared; no events. */
void pci_func_reset(struct pci_func *f);

/* ---- software's view -------------------------------------------------- */
int pci_cfg_read(struct pci_func *f, unsigned off, unsigned len, uint32_t *val);
int pci_cfg_write(struct pci_func *f, unsigned off, unsigned len, uint32_t val);

/* ---- device model's view ---------------------------------------------- */
bool pci_mem_enabled(struct pci_func *f);
bool pci_bus_master(struct pci_func *f);
uint64_t pci_bar_size(const struct pci_func *f, unsigned idx);
/* Decoded base of an implemented BAR (0 = unassigned, decodes nothing). */
uint64_t pci_bar_addr(struct pci_func *f, unsigned idx);
/* Finds the BAR whose decoded range holds [addr, addr + len) while memory
 * space is enabled; returns its index and the offset, or -1. */
int pci_bar_lookup(struct pci_func *f, uint64_t addr, uint64_t len, uint64_t *offset);

/* Base message; returns MSI Enable. */
bool pci_msi_message(struct pci_func *f, uint64_t *addr, uint32_t *data);
unsigned pci_msi_vectors(struct pci_func *f);   /* allocated (2^MME, <= capable) */
bool pci_msi_masked(struct pci_func *f, unsigned vec);
enum pci_msi_status {
    PCI_MSI_SEND,        /* addr and data hold the message to write */
    PCI_MSI_PENDING,     /* vector masked: Pending bit set, sent on unmask */
    PCI_MSI_BLOCKED,     /* MSI disabled or bus mastering off: not sent */
};
/* Vector vec (folded onto the allocated vectors) wants to interrupt. */
enum pci_msi_status pci_msi_signal(struct pci_func *f, unsigned vec, uint64_t *addr,
                                   uint32_t *data);

bool pci_ats_enabled(struct pci_func *f);
unsigned pci_ats_stu(struct pci_func *f);        /* STU: 4 KiB << STU */
unsigned pci_ats_invq_depth(struct pci_func *f); /* 1..32 */

bool pci_pasid_enabled(struct pci_func *f);
bool pci_pasid_exec_enabled(struct pci_func *f);
bool pci_pasid_priv_enabled(struct pci_func *f);
unsigned pci_pasid_width(struct pci_func *f);

bool pci_pri_enabled(struct pci_func *f);
uint32_t pci_pri_allocation(struct pci_func *f);
uint32_t pci_pri_outstanding(struct pci_func *f);
/* Takes a credit for one page request: 0, or -EPERM (PRI disabled) /
 * -EBUSY (min(allocation, capacity) requests already outstanding). */
int pci_pri_acquire(struct pci_func *f);
/* n page requests answered (or discarded); Stopped follows. */
void pci_pri_release(struct pci_func *f, uint32_t n);
enum pci_pri_error { PCI_PRI_RESPONSE_FAILURE, PCI_PRI_UNEXPECTED_PRGI };
void pci_pri_report(struct pci_func *f, enum pci_pri_error e);

/* Sets RW1C error bits the function detected (only RW1C bits are taken). */
void pci_status_set(struct pci_func *f, uint16_t bits);   /* Status */
void pcie_devsta_set(struct pci_func *f, uint16_t bits);  /* Device Status */

#endif
