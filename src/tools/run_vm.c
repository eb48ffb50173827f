/* `vsvm run` with guests (run_vm.h): README "vsvm run with guests". Every
 * guest runs its workloads on each of its devices in turn, all guests at
 * the same time. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tools/run_vm.h"
#include "workloads/workloads.h"

struct lane {
    struct guest *g;
    unsigned wl;
    unsigned nres;
    struct { unsigned dev, wl; struct wl_result r; } res[GUEST_MAX_DEVS * VMCFG_NWL];
};

/* The workload named by vmcfg: the SVM set wl_all, or wl_dma. */
static wl_fn find_wl(unsigned w)
{
    for (unsigned i = 0; i < sizeof(wl_all) / sizeof(wl_all[0]); i++)
        if (!strcmp(wl_all[i].name, vmcfg_wl_name(w)))
            return wl_all[i].fn;
    return !strcmp(wl_dma_entry.name, vmcfg_wl_name(w)) ? wl_dma_entry.fn : NULL;
}

static void *run_lane(void *arg)
{
    struct lane *l = arg;
    for (unsigned d = 0; d < guest_naccels(l->g); d++)
        for (unsigned w = 0; w < VMCFG_NWL; w++)
            if (l->wl & 1u << w) {
                struct wl_result *r = &l->res[l->nres].r;
                l->res[l->nres].dev = d, l->res[l->nres++].wl = w;
                find_wl(w)(guest_kernel(l->g), guest_accel(l->g, d), r);
            }
    return NULL;
}

/* Host accelerator index of a host BDF (00:02.0 is 0). */
static unsigned acc_index(uint16_t host_bdf)
{
    return (host_bdf >> 3) - 2u;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++)
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    putchar('"');
}

static void print_json(const struct vmm_config *c, struct lane *lanes, bool ok)
{
    printf("{\"command\": \"run\", \"mode\": \"in-process\", \"passed\": %s, \"units\": %u, "
           "\"accelerators\": %u, \"host_memory_mib\": %llu, \"guests\": [", ok ? "true" : "false",
           c->host.nunits, c->host.naccels, (unsigned long long)(c->host.mem_size >> 20));
    for (unsigned i = 0; i < c->nguests; i++) {
        const struct guest_config *g = guest_cfg(lanes[i].g);
        printf("%s{\"name\": \"%s\", \"svm\": %s, \"memory_mib\": %llu, \"aw_bits\": %u, "
               "\"devices\": [", i ? ", " : "", g->name, g->svm ? "true" : "false",
               (unsigned long long)(g->mem_size >> 20), g->aw_bits);
        for (unsigned d = 0; d < g->ndevs; d++)
            printf("%s{\"guest_bdf\": \"00:%02x.%x\", \"host_bdf\": \"0000:00:%02x.0\", \"unit\": %u}",
                   d ? ", " : "", g->dev[d].guest_bdf >> 3, g->dev[d].guest_bdf & 7,
                   g->dev[d].host_bdf >> 3, c->host.accel_unit[acc_index(g->dev[d].host_bdf)]);
        printf("], \"workloads\": [");
        for (unsigned k = 0; k < lanes[i].nres; k++) {
            const struct wl_result *r = &lanes[i].res[k].r;
            uint16_t b = g->dev[lanes[i].res[k].dev].guest_bdf;
            printf("%s{\"workload\": \"%s\", \"device\": \"00:%02x.%x\", \"passed\": %s, "
                   "\"operations\": %llu, \"page_requests\": %llu, \"faults\": %llu, "
                   "\"errors\": %llu, \"detail\": ", k ? ", " : "", vmcfg_wl_name(lanes[i].res[k].wl),
                   b >> 3, b & 7, r->passed ? "true" : "false", (unsigned long long)r->operations,
                   (unsigned long long)r->page_requests, (unsigned long long)r->faults,
                   (unsigned long long)r->errors);
            json_str(r->detail);
            putchar('}');
        }
        printf("]}");
    }
    printf("]}\n");
}

static void print_text(const struct vmm_config *c, struct lane *lanes, bool ok)
{
    printf("host: %u remapping unit%s, %u accelerator%s, %llu MiB; %u guest%s\n", c->host.nunits,
           c->host.nunits == 1 ? "" : "s", c->host.naccels, c->host.naccels == 1 ? "" : "s",
           (unsigned long long)(c->host.mem_size >> 20), c->nguests, c->nguests == 1 ? "" : "s");
    printf("%-15s %-31s %-18s %-6s %-8s %-13s %-6s %s\n", "guest", "device (guest <- host)",
           "workload", "result", "ops", "page requests", "faults", "detail");
    for (unsigned i = 0; i < c->nguests; i++) {
        const struct guest_config *g = guest_cfg(lanes[i].g);
        if (!lanes[i].nres)
            printf("%-15s (svm=%s, %llu MiB) no assigned device: nothing to run\n", g->name,
                   g->svm ? "on" : "off", (unsigned long long)(g->mem_size >> 20));
        for (unsigned k = 0; k < lanes[i].nres; k++) {
            const struct wl_result *r = &lanes[i].res[k].r;
            const struct guest_dev_config *d = &g->dev[lanes[i].res[k].dev];
            char dev[40];
            snprintf(dev, sizeof(dev), "00:%02x.%x <- 0000:00:%02x.0 (dmar%u)", d->guest_bdf >> 3,
                     d->guest_bdf & 7, d->host_bdf >> 3, c->host.accel_unit[acc_index(d->host_bdf)]);
            printf("%-15s %-31s %-18s %-6s %-8llu %-13llu %-6llu %s\n", g->name, dev,
                   vmcfg_wl_name(lanes[i].res[k].wl), r->passed ? "PASS" : "FAIL",
                   (unsigned long long)r->operations, (unsigned long long)r->page_requests,
                   (unsigned long long)r->faults, r->detail);
        }
    }
    printf("%s\n", ok ? "PASSED" : "FAILED");
}

int run_vm(const struct vmm_config *c)
{
    for (unsigned i = 0; i < c->nguests; i++)
        for (unsigned w = 0; w < VMCFG_NWL; w++)
            if (c->workloads[i] & 1u << w && !find_wl(w)) {
                fprintf(stderr, "vsvm run: workload %s not available\n", vmcfg_wl_name(w));
                return 1;
            }
    char why[256];
    struct host *h = host_create(&c->host, why, sizeof(why));
    if (!h) {
        fprintf(stderr, "vsvm run: host: %s\n", why);
        return 1;
    }
    struct lane lanes[VMM_MAX_GUESTS];
    pthread_t t[VMM_MAX_GUESTS];
    bool started[VMM_MAX_GUESTS];
    unsigned n = 0;
    int rc = 0;
    memset(lanes, 0, sizeof(lanes));
    for (; n < c->nguests; n++) {
        lanes[n].wl = c->workloads[n];
        if (!(lanes[n].g = guest_create(h, &c->guest[n], why, sizeof(why)))) {
            size_t len = strlen(c->guest[n].name);
            bool named = !strncmp(why, c->guest[n].name, len) && why[len] == ':';
            fprintf(stderr, "vsvm run: %s: %s\n", c->guest[n].name,
                    named ? why + len + 1 + (why[len + 1] == ' ') : why);
            rc = 1;
            break;
        }
    }
    if (!rc) {
        bool ok = true;
        for (unsigned i = 0; i < n; i++)
            started[i] = !pthread_create(&t[i], NULL, run_lane, &lanes[i]);
        for (unsigned i = 0; i < n; i++) {
            if (started[i])
                pthread_join(t[i], NULL);
            else
                run_lane(&lanes[i]);
            for (unsigned k = 0; k < lanes[i].nres; k++)
                ok &= lanes[i].res[k].r.passed;
        }
        c->json ? print_json(c, lanes, ok) : print_text(c, lanes, ok);
        rc = !ok;
    }
    while (n--)
        guest_destroy(lanes[n].g);
    host_destroy(h);
    return rc;
}
