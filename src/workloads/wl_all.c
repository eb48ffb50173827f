/* The SVM set (workloads.h): the RFC's test programs by name. Apart from
 * the helpers in wl_common.c so that a kernel linking only some workloads
 * (the KVM guest's: wl_dma, wl_isolation_probe) does not pull in the rest. */
#include "workloads/workloads.h"

const struct wl_entry wl_all[4] = {
    { "svm_sanity", wl_svm_sanity },
    { "svm_fault", wl_svm_fault },
    { "svm_storedw_loop", wl_svm_storedw_loop },
    { "svm_pointer_chase", wl_svm_pointer_chase },
};
