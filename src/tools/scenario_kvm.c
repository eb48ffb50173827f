/* `vsvm scenario NAME --kvm` (scenario_kvm.h). Without --kvm scenarios run
 * in-process even where /dev/kvm works: KVM guests cannot run the SVM
 * workloads yet, and on this kind of machine ring-0 guest code is ~1000x
 * slower than ring 3 (kvm-notes.md), so an automatic switch would also
 * make every scenario far slower. The JSON "mode" says which ran. */
#include <stdio.h>
#include <string.h>

#include "kvm/kvm.h"
#include "tools/scenario_kvm.h"

int scenario_kvm(const char *name, bool json)
{
    char why[200], kwhy[160];
    if (strcmp(name, "guest") && strcmp(name, "multi-guest") && strcmp(name, "host-guest")) {
        fprintf(stderr, "vsvm scenario: --kvm applies to the guest scenarios (guest, multi-guest, "
                        "host-guest), not '%s'\n", name);
        return 2;
    }
    if (kvm_usable(kwhy, sizeof(kwhy)))
        snprintf(why, sizeof(why), "KVM is not usable here: %s", kwhy);
    else
        snprintf(why, sizeof(why), "KVM guests cannot run the SVM workloads yet: the guest image "
                                   "has no VT-d or accelerator driver (issue 7 item 3)");
    if (json)
        printf("{\"scenario\": \"%s\", \"mode\": \"kvm\", \"passed\": false, \"error\": \"%s\"}\n",
               name, why);
    fprintf(stderr, "vsvm scenario %s --kvm: %s; without --kvm it runs with in-process guests\n",
            name, why);
    return 1;
}
