/* The SVM accelerator's programming interface: BAR0 registers and the
 * command format. This header is the contract between the device model
 * (src/dev/accel*.c) and its drivers (src/os/). All registers are little
 * endian; 32-bit registers take 4-byte accesses, 64-bit registers 8-byte
 * (or two 4-byte) accesses.
 *
 * The device is modelled on GPU / DSA-class engines: each context is bound
 * to one PASID (a process address space); software writes a batch of
 * commands into process memory and rings the context's doorbell with the
 * batch's virtual address. The engine reads the batch and performs every
 * memory access through the IOMMU with the context's PASID, caching
 * translations in its device TLB (ATS) and asking for missing pages with
 * PRI page requests. */
#ifndef VSVM_DEV_ACCEL_REGS_H
#define VSVM_DEV_ACCEL_REGS_H

#include <stdint.h>

#define ACCEL_VENDOR_ID   0x1af4   /* decision: a PCI-SIG vendor id free for virtual devices */
#define ACCEL_DEVICE_ID   0x5356   /* "SV" */
#define ACCEL_CLASS       0x120000 /* processing accelerator */
#define ACCEL_BAR0_SIZE   0x10000
#define ACCEL_MAGIC       0x4D565356u  /* "VSVM" */
#define ACCEL_NCTX        16

/* ---- global registers ------------------------------------------------ */
enum accel_reg {
    ACCEL_REG_MAGIC      = 0x000,  /* RO 32: ACCEL_MAGIC */
    ACCEL_REG_VERSION    = 0x004,  /* RO 32: 1 */
    ACCEL_REG_NCTX       = 0x008,  /* RO 32: number of contexts */
    ACCEL_REG_CAPS       = 0x00C,  /* RO 32: ACCEL_CAP_* */
    ACCEL_REG_INT_STATUS = 0x010,  /* RW1C 32: bit i = context i completed or failed */
    ACCEL_REG_INT_MASK   = 0x014,  /* RW 32: bit i = 1 masks context i (reset: all masked) */
    ACCEL_REG_ATC_FLUSH  = 0x018,  /* WO 32: write 1 drops the whole device TLB */
    ACCEL_REG_ATC_STATS  = 0x020,  /* RO 64: hits (low 32) and misses (high 32), saturating */
};
#define ACCEL_CAP_ATS  (1u << 0)
#define ACCEL_CAP_PRI  (1u << 1)
#define ACCEL_CAP_PASID (1u << 2)

/* ---- per-context registers at ACCEL_CTX_BASE + ACCEL_CTX_STRIDE * i ---- */
#define ACCEL_CTX_BASE   0x1000
#define ACCEL_CTX_STRIDE 0x100
enum accel_ctx_reg {
    ACCEL_CTX_CTRL      = 0x00,  /* RW 32: ACCEL_CTRL_* */
    ACCEL_CTX_PASID     = 0x04,  /* RW 32: PASID (bits 19:0) used with ACCEL_CTRL_PASID */
    ACCEL_CTX_BATCH     = 0x08,  /* RW 64: virtual address of the next batch */
    ACCEL_CTX_DOORBELL  = 0x10,  /* WO 32: any write submits the batch at ACCEL_CTX_BATCH
                                    (address latched by the write; STATUS becomes RUNNING
                                    at once; on a busy context one doorbell is held and
                                    runs after the current batch, a later one replacing it) */
    ACCEL_CTX_STATUS    = 0x14,  /* RO 32: ACCEL_ST_* state in 7:0, ACCEL_ERR_* in 15:8 */
    ACCEL_CTX_ERROR_VA  = 0x18,  /* RO 64: address of the access that failed */
    ACCEL_CTX_SEQNO     = 0x20,  /* RO 64: sequence number of the last completed batch
                                    (kept across ACCEL_CTRL_RESET) */
    ACCEL_CTX_COMPL_VA  = 0x28,  /* RW 64: where completed seqnos are written (0 = nowhere);
                                    CTRL and PASID too are latched when a batch starts */
    ACCEL_CTX_CMDS      = 0x30,  /* RO 64: commands executed */
    ACCEL_CTX_PRQS      = 0x38,  /* RO 64: page requests issued */
};
#define ACCEL_CTRL_ENABLE (1u << 0)   /* context accepts doorbells */
#define ACCEL_CTRL_PASID  (1u << 1)   /* requests carry ACCEL_CTX_PASID */
#define ACCEL_CTRL_PRIV   (1u << 2)   /* privileged requests (supervisor) */
#define ACCEL_CTRL_RESET  (1u << 31)  /* write 1: abort, drop pending work, back to IDLE (the
                                         other bits of the same write are applied; a late page
                                         response is dropped); self-clearing */

enum accel_state {
    ACCEL_ST_IDLE = 0, ACCEL_ST_RUNNING = 1, ACCEL_ST_PAGE_WAIT = 2, ACCEL_ST_DONE = 3,
    ACCEL_ST_ERROR = 4,
};
enum accel_error {
    ACCEL_ERR_NONE = 0,
    ACCEL_ERR_BAD_COMMAND = 1,   /* unknown opcode or bad arguments */
    ACCEL_ERR_PAGE_FAULT = 2,    /* page request answered Invalid Request / failure */
    ACCEL_ERR_UNSUPPORTED = 3,   /* the IOMMU answered Unsupported Request */
    ACCEL_ERR_TIMEOUT = 4,       /* no page response in time */
    ACCEL_ERR_RESET = 5,         /* ENABLE was cleared while the context was busy (a
                                    CTRL.RESET leaves IDLE instead) */
    ACCEL_ERR_NOT_ENABLED = 6,   /* doorbell on a disabled context / bus mastering off */
};

/* ---- commands: 32 bytes each, in process memory ----------------------- */
struct accel_cmd {
    uint32_t opcode;
    uint32_t arg;     /* STORE_DWORD value; CHASE field offsets */
    uint64_t a, b, c;
};
_Static_assert(sizeof(struct accel_cmd) == 32, "commands are 32 bytes");

enum accel_opcode {
    ACCEL_OP_NOP = 0,
    ACCEL_OP_END = 1,          /* end of batch: seqno a is written to COMPL_VA, MSI raised */
    ACCEL_OP_STORE_DWORD = 2,  /* *(u32 *)a = arg */
    ACCEL_OP_COPY = 3,         /* memcpy(b, a, c), with memmove semantics (overlap allowed) */
    ACCEL_OP_FILL = 4,         /* fill c bytes at a with the 64-bit pattern b: byte k from a is
                                  byte (k mod 8) of b, little endian */
    ACCEL_OP_CHASE = 5,        /* follow a list from node a (a null next ends it): the u64
                                  next pointer at offset arg & 0xFFFF, the u64 value at
                                  offset arg >> 16; store {u64 sum, u64 count} at b; more
                                  than c nodes is ACCEL_ERR_BAD_COMMAND, and so is a cycle
                                  (detected whatever c) */
};
#define ACCEL_MAX_BATCH 65536u    /* commands per batch (bounded): fetching one more ends the
                                     batch with ACCEL_ERR_BAD_COMMAND at its address */

#endif
