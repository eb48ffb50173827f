/* Non-recoverable fault reasons (vtd-reference.md §5.4). The enum values
 * are the spec's codes, recorded as-is in FRCD.FR. */
#ifndef VSVM_VTD_FAULT_H
#define VSVM_VTD_FAULT_H

#include <stdbool.h>
#include <stdint.h>

enum vtd_fault {
    VTD_FR_NONE = 0x00,
    /* legacy mode */
    VTD_FR_ROOT_NP = 0x01, VTD_FR_CTX_NP = 0x02, VTD_FR_CTX_INVALID = 0x03,
    VTD_FR_ADDR_WIDTH = 0x04, VTD_FR_WRITE = 0x05, VTD_FR_READ = 0x06,
    VTD_FR_SL_READ_ERR = 0x07, VTD_FR_ROOT_READ_ERR = 0x08, VTD_FR_CTX_READ_ERR = 0x09,
    VTD_FR_ROOT_RSVD = 0x0A, VTD_FR_CTX_RSVD = 0x0B, VTD_FR_SL_RSVD = 0x0C,
    VTD_FR_CTX_TT_BLOCKED = 0x0D, VTD_FR_INTR_ADDR = 0x0E,
    /* scalable mode: root-table address / mode */
    VTD_FR_SM_RTADDR_INVALID = 0x30, VTD_FR_SM_TTM_PASID = 0x31, VTD_FR_SM_TTM_PRQ = 0x32,
    VTD_FR_SM_ROOT_READ_ERR = 0x38, VTD_FR_SM_ROOT_NP = 0x39, VTD_FR_SM_ROOT_RSVD = 0x3A,
    /* scalable context */
    VTD_FR_SM_CTX_READ_ERR = 0x40, VTD_FR_SM_CTX_NP = 0x41, VTD_FR_SM_CTX_RSVD = 0x42,
    VTD_FR_SM_CTX_INVALID = 0x43, VTD_FR_SM_CTX_DTE = 0x44, VTD_FR_SM_CTX_PASIDE = 0x45,
    VTD_FR_SM_CTX_PDTS = 0x46, VTD_FR_SM_CTX_PRE = 0x47, VTD_FR_SM_CTX_RID_PASID = 0x48,
    /* PASID directory / table */
    VTD_FR_SM_PDIR_READ_ERR = 0x50, VTD_FR_SM_PDIR_NP = 0x51, VTD_FR_SM_PDIR_RSVD = 0x52,
    VTD_FR_SM_PTE_READ_ERR = 0x58, VTD_FR_SM_PTE_NP = 0x59, VTD_FR_SM_PTE_RSVD = 0x5A,
    VTD_FR_SM_PTE_INVALID = 0x5B, VTD_FR_SM_PTE_ERE = 0x5C, VTD_FR_SM_PTE_SRE = 0x5D,
    /* first level */
    VTD_FR_FL_READ_ERR = 0x70, VTD_FR_FL_NP = 0x71, VTD_FR_FL_RSVD = 0x72,
    VTD_FR_FL_ROOT_READ_ERR = 0x73, VTD_FR_NEST_FL_ADDR = 0x74, VTD_FR_NEST_FL_ROOT_READ = 0x75,
    VTD_FR_NEST_FL_READ = 0x76, VTD_FR_NEST_FL_AD_WRITE = 0x77,
    /* second level (scalable) */
    VTD_FR_SSL_READ_ERR = 0x78, VTD_FR_SSL_RSVD = 0x7A, VTD_FR_SSL_ROOT_INVALID = 0x7B,
    VTD_FR_SSL_AD_NOSNOOP = 0x7C,
    /* general (scalable) */
    VTD_FR_SM_NONCANONICAL = 0x80, VTD_FR_SM_US = 0x81, VTD_FR_SM_EXEC = 0x82,
    VTD_FR_SM_ADDR_WIDTH = 0x83, VTD_FR_SM_WRITE = 0x85, VTD_FR_SM_READ = 0x86,
    VTD_FR_SM_INTR_ADDR = 0x87, VTD_FR_FL_AD_NOSNOOP = 0x90, VTD_FR_FL_AD_FAILED = 0x91,
};

/* Qualified faults can be suppressed by an FPD bit (§5.5). Not qualified:
 * the root-level and mode faults, and failures to read the structure that
 * would hold the governing FPD (context, PASID directory/table). Decision
 * (the reference leaves 0x0A/0x0B open): a reserved root entry (0x0A/0x3A)
 * is not qualified (no FPD at root level); a reserved context or PASID
 * structure (0x0B/0x42/0x52/0x5A) is qualified, since the entry with its
 * FPD bit was fetched. */
bool vtd_fault_qualified(uint8_t reason);
/* Short description of a reason code ("context entry not present"). */
const char *vtd_fault_name(uint8_t reason);

#endif
