/* The system tests' machines (machines.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "kvm/kvm.h"
#include "support/machines.h"
#include "vmm/guest.h"
#include "vmm/host.h"

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

bool tm_kvm_skip(void)
{
    char why[160];
    if (kvm_usable(why, sizeof(why)) == 0)
        return false;
    print_message("SKIP: KVM tests need a usable /dev/kvm: %s\n", why);
    return true;
}
