/* `vsvm scenario NAME [--json]`: the RFC's test cases (§4). Implemented:
 *   host — test case 1, SVM usage in the host: a host with two remapping
 *          units and two accelerators, one behind each; each accelerator
 *          runs the four workloads, both accelerators at the same time. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tools/cmds.h"
#include "vmm/host.h"
#include "workloads/workloads.h"

struct lane {
    struct host *h;
    unsigned accel;
    struct wl_result res[4];
};

static void *run_lane(void *arg)
{
    struct lane *l = arg;
    for (unsigned w = 0; w < 4; w++)
        wl_all[w].fn(&l->h->k, &l->h->drv[l->accel], &l->res[w]);
    return NULL;
}

static void print_json(struct host *h, struct lane *lanes, unsigned n, bool ok)
{
    printf("{\"scenario\": \"host\", \"mode\": \"in-process\", \"passed\": %s, \"units\": %u, "
           "\"accelerators\": %u, \"workloads\": [", ok ? "true" : "false", h->cfg.nunits, n);
    for (unsigned a = 0; a < n; a++)
        for (unsigned w = 0; w < 4; w++) {
            const struct wl_result *r = &lanes[a].res[w];
            printf("%s{\"workload\": \"%s\", \"machine\": \"host\", \"device\": \"00:%02x.0\", "
                   "\"unit\": %u, \"passed\": %s, \"operations\": %llu, \"page_requests\": %llu, "
                   "\"errors\": %llu}", a || w ? ", " : "", r->name,
                   h->acc_bdf[a] >> 3, h->cfg.accel_unit[a], r->passed ? "true" : "false",
                   (unsigned long long)r->operations, (unsigned long long)r->page_requests,
                   (unsigned long long)r->errors);
        }
    unsigned faults = 0;
    for (unsigned u = 0; u < h->cfg.nunits; u++)
        faults += h->iommu[u].nfault;
    printf("], \"faults_recorded\": %u}\n", faults);
}

static void print_text(struct host *h, struct lane *lanes, unsigned n, bool ok)
{
    printf("test case 1: SVM usage in host (%u remapping units, %u accelerators)\n",
           h->cfg.nunits, n);
    for (unsigned a = 0; a < n; a++)
        for (unsigned w = 0; w < 4; w++) {
            const struct wl_result *r = &lanes[a].res[w];
            printf("  %-18s accel 00:%02x.0 (dmar%u)  %s  ops %-6llu page requests %-5llu %s\n",
                   r->name, h->acc_bdf[a] >> 3, h->cfg.accel_unit[a], r->passed ? "PASS" : "FAIL",
                   (unsigned long long)r->operations, (unsigned long long)r->page_requests,
                   r->detail);
        }
    printf("%s\n", ok ? "PASSED" : "FAILED");
}

static int scenario_host(bool json, bool verbose)
{
    struct host_config c;
    char why[160];
    host_config_default(&c);
    c.verbose = verbose;
    struct host *h = host_create(&c, why, sizeof(why));
    if (!h) {
        fprintf(stderr, "vsvm scenario host: %s\n", why);
        return 1;
    }
    struct lane lanes[HOST_MAX_ACCELS];
    pthread_t t[HOST_MAX_ACCELS];
    for (unsigned a = 0; a < c.naccels; a++) {
        lanes[a] = (struct lane){ .h = h, .accel = a };
        pthread_create(&t[a], NULL, run_lane, &lanes[a]);
    }
    bool ok = true;
    for (unsigned a = 0; a < c.naccels; a++) {
        pthread_join(t[a], NULL);
        for (unsigned w = 0; w < 4; w++)
            ok &= lanes[a].res[w].passed;
    }
    json ? print_json(h, lanes, c.naccels, ok) : print_text(h, lanes, c.naccels, ok);
    host_destroy(h);
    return ok ? 0 : 1;
}

int cmd_scenario(int argc, char **argv)
{
    bool json = false, verbose = false;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--verbose"))
            verbose = true;
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else {
            fprintf(stderr, "vsvm scenario: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!name) {
        fprintf(stderr, "usage: vsvm scenario host [--json] [--verbose]\n");
        return 2;
    }
    if (!strcmp(name, "host"))
        return scenario_host(json, verbose);
    fprintf(stderr, "vsvm scenario: unknown scenario '%s' (available: host)\n", name);
    return 2;
}
