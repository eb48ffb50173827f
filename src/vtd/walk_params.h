/* Parameters of the unit's page walks, decoded once from a context or
 * PASID-table entry and kept in the context / PASID caches. */
#ifndef VSVM_VTD_WALK_PARAMS_H
#define VSVM_VTD_WALK_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

/* Fault codes a second-level walk reports, per translation mode (§3.3). */
struct sl_codes {
    uint8_t read_err, root_err, rsvd, no_read, no_write, no_exec, addr;
};

struct sl_params {
    uint64_t root;          /* HPA of the top-level table */
    unsigned levels;        /* 3, 4 or 5 (AW + 2) */
    bool slee, slade;
    bool pwsnp;             /* page-walk snoop: A/D updates possible (§3.3 step 8) */
    const struct sl_codes *codes;
};

struct fl_params {
    uint64_t root;          /* FLPTPTR: HPA, or GPA when nested */
    unsigned levels;        /* 4 or 5 */
    bool wpe, smep, nxe, eafe;
    bool pwsnp;             /* page-walk snoop: A/D updates possible (§3.5 step 9) */
    const struct sl_params *nest;   /* second level for nested translation, else NULL */
};

enum xl_mode { XL_SL, XL_FL, XL_NESTED, XL_PT };

#endif
