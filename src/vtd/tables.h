/* Building VT-d translation structures in host memory, as software that
 * programs a unit does: root and context tables (legacy and scalable),
 * PASID directories and tables, second-level page tables. Used by the
 * demonstration, the tests and the benchmarks (the os layer's driver has
 * its own). Every function returns 0 or -errno and touches memory only
 * through the checked accessors. */
#ifndef VSVM_VTD_TABLES_H
#define VSVM_VTD_TABLES_H

#include <stdbool.h>
#include <stdint.h>
#include "mem/mem.h"
#include "vtd/unit.h"

struct vtd_tables {
    struct mem_arena *mem;
    uint64_t root;     /* root table HPA */
    bool sm;           /* scalable-mode layout */
};

int vtd_tables_init(struct vtd_tables *t, struct mem_arena *mem, bool sm);
/* Writes the context entry for sid (2 qwords legacy, 4 scalable), creating
 * the context table and the root entry (P / LP / UP) on first use. */
int vtd_tables_set_ctx(struct vtd_tables *t, uint16_t sid, const uint64_t *ctx);
/* HPA of the context entry for sid (for tests that corrupt entries). */
int vtd_tables_ctx_addr(const struct vtd_tables *t, uint16_t sid, uint64_t *hpa);
/* Allocates a PASID directory of 2^(pdts+7) entries (zeroed). */
int vtd_tables_pasid_dir(struct vtd_tables *t, unsigned pdts, uint64_t *dir);
/* Writes the 8-qword PASID entry for pasid under dir, creating the PASID
 * table and a present directory entry (FPD = dir_fpd) on first use. */
int vtd_tables_set_pasid(struct vtd_tables *t, uint64_t dir, uint32_t pasid,
                         const uint64_t *pte, bool dir_fpd);
int vtd_tables_pasid_addr(const struct vtd_tables *t, uint64_t dir, uint32_t pasid, uint64_t *hpa);

/* Second-level page tables (§3.2). *root is allocated when 0. Maps
 * [iova, iova + 2^shift) -> hpa with `flags` (SL_PTE R/W/X/SNP/TM bits);
 * intermediate entries get R|W (and X). */
int vtd_sl_map(struct mem_arena *mem, uint64_t *root, unsigned levels, uint64_t iova,
               uint64_t hpa, unsigned shift, uint64_t flags);
int vtd_sl_unmap(struct mem_arena *mem, uint64_t root, unsigned levels, uint64_t iova);
/* HPA of the entry at `level` on the path of iova (for tests). */
int vtd_sl_entry_addr(struct mem_arena *mem, uint64_t root, unsigned levels, uint64_t iova,
                      unsigned level, uint64_t *hpa);

/* Programs the unit as a driver would: RTADDR (with TTM), GCMD.SRTP and a
 * poll of GSTS.RTPS, then GCMD.TE and a poll of GSTS.TES. */
int vtd_program_root(struct vtd_unit *u, uint64_t root, unsigned ttm, bool enable);

struct gpa_map;
/* Maps a whole guest physical space (GPA -> HPA, page by page) into a
 * second-level table: the nest parent of nested translation. */
int vtd_sl_map_gpa_space(struct mem_arena *mem, uint64_t *root, unsigned levels,
                         const struct gpa_map *g, uint64_t flags);

#endif
