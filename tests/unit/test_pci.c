/* Unit tests for src/pci. The tests live in companion files, one per area:
 *   pci_golden.c  field and register table against hand-typed spec values
 *   pci_header.c  type-0 header, BAR sizing, access rules, RW1C, reset
 *   pci_caps.c    capability layout and Linux's list walks
 *   pci_enable.c  Linux's MSI / PASID / PRI / ATS sequences and events
 *   pci_bus.c     BDF text forms, configuration / ECAM / MMIO routing
 * and run here as one group, so the summary line counts every test. */
#include "test_pci.h"

int main(void)
{
    const struct { const struct CMUnitTest *t; size_t n; } groups[] = {
        { pci_golden_tests, pci_golden_ntests },  { pci_header_tests, pci_header_ntests },
        { pci_caps_tests, pci_caps_ntests },      { pci_enable_tests, pci_enable_ntests },
        { pci_bus_tests, pci_bus_ntests },
    };
    size_t total = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        total += groups[g].n;
    struct CMUnitTest *all = calloc(total, sizeof(*all));
    assert_non_null(all);
    size_t k = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        for (size_t i = 0; i < groups[g].n; i++)
            all[k++] = groups[g].t[i];
    int rc = _cmocka_run_group_tests("pci", all, total, NULL, NULL);
    free(all);
    return rc;
}
