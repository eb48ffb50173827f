/* The system tests' machines (machines.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include <stdio.h>

#include "kvm/kvm_machine.h"
#include "support/machines.h"
#include "vmm/guest.h"
#include "vmm/host.h"
#include "workloads/workloads.h"

static bool verbose(void)
{
    return getenv("VSVM_VERBOSE") != NULL;
}

struct host *tm_host(unsigned nunits, unsigned naccels, uint64_t mem_size)
{
    struct host_config c;
    char why[160];
    host_config_default(&c);
    c.nunits = nunits, c.naccels = naccels, c.mem_size = mem_size, c.verbose = verbose();
    for (unsigned i = 0; i < HOST_MAX_ACCELS; i++)
        c.accel_unit[i] = i % nunits;
    struct host *h = host_create(&c, why, sizeof(why));
    if (!h)
        fail_msg("host_create: %s", why);
    return h;
}

struct guest *tm_guest(struct host *h, bool svm, uint16_t host_bdf)
{
    struct guest_config c;
    char why[160];
    guest_config_default(&c);
    c.svm = svm, c.ndevs = 1, c.dev[0].host_bdf = host_bdf, c.verbose = verbose();
    struct guest *g = guest_create(h, &c, why, sizeof(why));
    if (!g)
        fail_msg("guest_create: %s", why);
    return g;
}

void tm_run_all(struct os_kernel *k, struct os_accel *a, const char *where)
{
    for (unsigned w = 0; w < 4; w++) {
        struct wl_result r;
        wl_all[w].fn(k, a, &r);
        if (!r.passed)
            fail_msg("%s %s: %s", where, r.name, r.detail);
        assert_true(r.operations > 0);
    }
}

struct kvm_machine *tm_kvm_machine(struct host *h, const char *name, bool svm, unsigned first,
                                   unsigned ndevs, uint64_t mem_size)
{
    struct guest_config c;
    char why[200];
    guest_config_default(&c);
    if (name)
        snprintf(c.name, sizeof(c.name), "%s", name);
    c.svm = svm, c.ndevs = ndevs, c.mem_size = mem_size, c.verbose = verbose();
    for (unsigned i = 0; i < ndevs; i++)
        c.dev[i].host_bdf = h->acc_bdf[first + i];
    struct kvm_machine *m = kvm_machine_create(h, &c, why, sizeof(why));
    if (!m)
        fail_msg("kvm_machine_create: %s", why);
    return m;
}

bool tm_kvm_skip(void)
{
    char why[160];
    if (kvm_usable(why, sizeof(why)) == 0)
        return false;
    print_message("SKIP: KVM tests need a usable /dev/kvm: %s\n", why);
    return true;
}
