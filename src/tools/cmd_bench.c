/* `vsvm bench [NAME] [--json]`: runs one benchmark or all of them. With
 * --json the output is one JSON object {"benchmarks": [ {...}, ... ]}
 * whose entries are documented in README.md. */
#include <string.h>
#include <time.h>

#include "tools/bench.h"
#include "tools/cmds.h"

static const struct {
    const char *name;
    int (*fn)(FILE *, bool);
} benches[] = {
    { "translate", bench_translate },
    { "qi",        bench_qi },
    { "dma",       bench_dma },
    { "guest",     bench_guest },
    { "kvm",       bench_kvm },
    { "viommu",    bench_viommu },
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cmd_bench(int argc, char **argv)
{
    bool json = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (argv[i][0] != '-' && !only)
            only = argv[i];
        else {
            fprintf(stderr, "vsvm bench: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    bool found = !only;
    for (size_t i = 0; i < NBENCH; i++)
        found |= only && !strcmp(only, benches[i].name);
    if (!found) {
        fprintf(stderr, "vsvm bench: unknown benchmark '%s' (known:", only);
        for (size_t i = 0; i < NBENCH; i++)
            fprintf(stderr, " %s", benches[i].name);
        fprintf(stderr, ")\n");
        return 2;
    }
    if (json)
        printf("{\"benchmarks\": [");
    int rc = 0, n = 0;
    for (size_t i = 0; i < NBENCH; i++) {
        if (only && strcmp(only, benches[i].name))
            continue;
        if (json && n++)
            printf(", ");
        rc |= benches[i].fn(stdout, json);
    }
    if (json)
        printf("]}\n");
    return rc ? 1 : 0;
}
