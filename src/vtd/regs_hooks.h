/* Side effects of register writes (one per HOOK column of lib/hw_regs.h).
 * Each runs with the unit lock held, after the generic write semantics,
 * with the register's previous value and the bits software wrote. */
#ifndef VSVM_VTD_REGS_HOOKS_H
#define VSVM_VTD_REGS_HOOKS_H

#include "vtd/internal.h"

void vtd_reg_hook_gcmd(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_ccmd(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_iotlb(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_fsts(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_fectl(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_iectl(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_pectl(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_ics(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_prs(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_pmen(struct vtd_unit *u, uint64_t old, uint64_t written);
void vtd_reg_hook_iqt(struct vtd_unit *u, uint64_t old, uint64_t written);
/* Recomputes FSTS.PPF from the records' F bits and clears FECTL.IP once no
 * fault condition is pending (§5.2 step 7). */
void vtd_regs_fault_status_changed(struct vtd_unit *u);

#endif
