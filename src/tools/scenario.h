/* The RFC's test cases (§4) as scenarios: machines (the host and in-process
 * guests) whose accelerators run workloads concurrently, one lane per
 * accelerator, reported as a table or one JSON object (README). */
#ifndef VSVM_TOOLS_SCENARIO_H
#define VSVM_TOOLS_SCENARIO_H

#include <stdbool.h>
#include <stdio.h>

#include "vmm/guest.h"
#include "vmm/host.h"
#include "workloads/workloads.h"

#define SC_MAX_LANES   8
#define SC_MAX_GUESTS  4
#define SC_LANE_RESULTS 5

struct sc_lane;
typedef void (*sc_lane_fn)(struct sc_lane *l);

struct sc_lane {
    char machine[16];          /* "host", "guest0" */
    const char *layout;        /* optional: which arrangement of the scenario */
    struct os_kernel *k;
    struct os_accel *a;
    uint16_t device;           /* as the machine sees it */
    uint16_t host_device;
    unsigned unit;             /* host unit behind the device */
    sc_lane_fn fn;             /* NULL: the four SVM workloads */
    void *arg;
    struct wl_result res[SC_LANE_RESULTS];
    unsigned nres;
};

struct sc_report {
    const char *name;          /* scenario */
    bool passed;
    unsigned nlanes;
    struct sc_lane lanes[3 * SC_MAX_LANES];
    /* per machine, accumulated over the scenario's arrangements */
    unsigned host_faults, host_units, host_accels;
    unsigned nguests;
    struct { char name[16]; bool svm; struct viommu_stats st; } guest[SC_MAX_GUESTS * 2];
};

/* Lanes of a host accelerator and of every device of a guest. */
struct sc_lane *sc_host_lane(struct sc_report *r, struct host *h, unsigned acc);
void sc_guest_lanes(struct sc_report *r, struct guest *g, struct host *h);
/* Runs lanes [first, r->nlanes) at the same time, one thread each. */
void sc_run(struct sc_report *r, unsigned first);
/* Adds the guest's viommu figures to the report (before guest_destroy). */
void sc_note_guest(struct sc_report *r, struct guest *g);
void sc_note_host(struct sc_report *r, struct host *h);

void sc_print_text(FILE *f, const struct sc_report *r);
void sc_print_json(FILE *f, const struct sc_report *r);

/* Machines with defaults and a message on failure (NULL). */
struct host *sc_host(unsigned nunits, unsigned naccels, const unsigned *accel_unit, bool verbose);
struct guest *sc_guest(struct host *h, const char *name, bool svm, unsigned acc, bool verbose);

#endif
