/* The guests' mode (guest_mode.h). */
#include <stdio.h>

#include "kvm/kvm.h"
#include "tools/guest_mode.h"

int guest_mode_pick(struct guest_mode *m, const char *cmd, bool want_kvm, const char *kvm_opt,
                    bool want_in_process, const char *in_process_opt, const char *given)
{
    char why[160];
    m->kvm = false;
    if (want_in_process) {
        snprintf(m->reason, sizeof(m->reason), "%s%s", in_process_opt, given);
        return 0;
    }
    bool usable = kvm_usable(why, sizeof(why)) == 0;
    if (want_kvm && !usable)
        return fprintf(stderr, "vsvm %s: %s: KVM is not usable here: %s\n", cmd, kvm_opt, why), -1;
    m->kvm = usable;
    if (!usable)
        snprintf(m->reason, sizeof(m->reason), "KVM is not usable here: %s", why);
    else if (want_kvm)
        snprintf(m->reason, sizeof(m->reason), "%s%s", kvm_opt, given);
    else
        snprintf(m->reason, sizeof(m->reason), "/dev/kvm is usable");
    return 0;
}
