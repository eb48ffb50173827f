/* The tokens of the VMM command line (vmcfg.h, README "vsvm run with
 * guests"): QEMU-style property lists, sizes, booleans, PCI addresses. */
#ifndef VSVM_VMM_VMCFG_LEX_H
#define VSVM_VMM_VMCFG_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMCFG_MAXPROPS 8

/* "a,k=v,..." split at commas; an element without '=' has val NULL. */
struct vmcfg_props {
    char buf[256];
    unsigned n;
    char *key[VMCFG_MAXPROPS], *val[VMCFG_MAXPROPS];
};
/* 0, or -1 with the reason (empty element, repeated key, too long). */
int vmcfg_split(const char *arg, struct vmcfg_props *pr, char *why, size_t n);

int vmcfg_uint(const char *s, unsigned max, unsigned *v);        /* decimal */
int vmcfg_size(const char *s, uint64_t *out);    /* QEMU -m: K/M/G/T, no suffix = MiB */
int vmcfg_bool(const char *s, bool *b);          /* on/off, yes/no, true/false */
int vmcfg_bdf(const char *s, unsigned *dom, uint16_t *bdf);      /* [DDDD:]BB:DD.F */
int vmcfg_addr(const char *s, unsigned *slot, unsigned *fn);     /* [0x]SS[.F] */

#endif
