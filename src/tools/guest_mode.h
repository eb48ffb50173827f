/* Where `vsvm run` and `vsvm scenario` run their guests (README: KVM by
 * default where /dev/kvm is usable; issue 7 item 4). */
#ifndef VSVM_TOOLS_GUEST_MODE_H
#define VSVM_TOOLS_GUEST_MODE_H

#include <stdbool.h>

struct guest_mode {
    bool kvm;               /* KVM vCPUs, else in-process */
    char reason[200];       /* why: the option given, or what KVM lacks */
};

/* The mode for a command (cmd: "run", "scenario") whose user asked for KVM
 * (want_kvm, with the option kvm_opt), for in-process guests
 * (want_in_process, in_process_opt) or for neither (KVM when usable). A
 * forced mode's reason is its option followed by given (" given", or "").
 * -1, with the reason on stderr, when KVM was asked for and is not usable. */
int guest_mode_pick(struct guest_mode *m, const char *cmd, bool want_kvm, const char *kvm_opt,
                    bool want_in_process, const char *in_process_opt, const char *given);

#endif
