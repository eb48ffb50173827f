/* libFuzzer harness for the VMM command line (vmm/vmcfg.h vmcfg_parse): the
 * input is split into arguments on NUL and newline bytes (argv[0] is the
 * command name, as vsvm run passes it) and parsed. Invariants checked:
 * no crash and nothing outside the strings read (ASan); a refusal always
 * comes with a non-empty, terminated message of one line; an accepted
 * line gives a configuration within the documented limits (1..4 guests,
 * at most 4 devices each, host units and accelerators in range, every
 * accelerator behind an existing unit, host memory 16M..16G, guest memory
 * 16M..3G, at most VMCFG_KVM_MEM_MAX with -accel kvm, every guest device
 * with a guest address). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vmcfg.h"

#define MAX_ARGS 128

static void check_ok(const struct vmm_config *c)
{
    if (c->nguests < 1 || c->nguests > VMM_MAX_GUESTS)
        abort();
    if (!c->host.nunits || c->host.nunits > HOST_MAX_UNITS || c->host.naccels > HOST_MAX_ACCELS ||
        c->host.mem_size < (16ULL << 20) || c->host.mem_size > VMCFG_HOST_MEM_MAX)
        abort();
    for (unsigned i = 0; i < c->host.naccels; i++)
        if (c->host.accel_unit[i] >= c->host.nunits)
            abort();
    for (unsigned g = 0; g < c->nguests; g++) {
        const struct guest_config *gc = &c->guest[g];
        if (gc->ndevs > GUEST_MAX_DEVS || gc->mem_size < VMCFG_GUEST_MEM_MIN ||
            gc->mem_size > VMCFG_GUEST_MEM_MAX || !memchr(gc->name, 0, sizeof(gc->name)))
            abort();
        if (c->accel == VMCFG_ACCEL_KVM && gc->mem_size > VMCFG_KVM_MEM_MAX)
            abort();   /* -accel kvm: every guest fits a KVM VM */
        for (unsigned d = 0; d < gc->ndevs; d++)
            if (!gc->dev[d].guest_bdf)
                abort();   /* dev[].guest_bdf always set (vmcfg.h) */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One private copy with every separator turned into a terminator, so
     * ASan sees any read past an argument's end. */
    char *buf = malloc(size + 1);
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    argv[argc++] = "run";
    for (size_t i = 0, start = 0; i <= size && argc < MAX_ARGS; i++)
        if (buf[i] == 0 || buf[i] == '\n') {
            buf[i] = 0;
            argv[argc++] = buf + start;
            start = i + 1;
        }
    argv[argc] = NULL;
    struct vmm_config c;
    char why[256];
    memset(why, 0x5A, sizeof(why));   /* no terminator unless the parser writes one */
    why[sizeof(why) - 1] = 0x5A;
    memset(&c, 0, sizeof(c));
    if (vmcfg_parse(argc, argv, &c, why, sizeof(why))) {
        size_t len = strnlen(why, sizeof(why));
        if (len == 0 || len == sizeof(why) || memchr(why, '\n', len))
            abort();   /* empty, unterminated or more than one line */
    } else {
        check_ok(&c);
    }
    free(buf);
    return 0;
}
