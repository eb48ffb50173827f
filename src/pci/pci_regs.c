/* Name tables derived from pci/pci_fields.h and the register table in
 * pci/pci_regs.h. */
#include "pci/pci_regs.h"

#include <strings.h>

#define PCIF_DESC(S, N, H, L, D) { #N, (H), (L), D },
#define PCIS_FIELD_ARRAY(ID, NAME, NQ, DESC) \
    static const struct hw_field_desc pcif_##ID[] = { HW_FIELDS_##ID(PCIF_DESC) };
PCI_STRUCTS(PCIS_FIELD_ARRAY)

#define PCIS_ENTRY(ID, NAME, NQ, DESC) \
    [PCIS_##ID] = { #ID, NAME, NQ, DESC, pcif_##ID, sizeof(pcif_##ID) / sizeof(pcif_##ID[0]), \
                    { HW_RSVD(ID, 0) } },
const struct hw_struct_desc pci_structs[PCIS_COUNT] = { PCI_STRUCTS(PCIS_ENTRY) };

const struct hw_struct_desc *pci_struct_find(const char *name)
{
    for (unsigned i = 0; i < PCIS_COUNT; i++)
        if (!strcasecmp(name, pci_structs[i].name) || !strcasecmp(name, pci_structs[i].id))
            return &pci_structs[i];
    return NULL;
}

#define PCIR_DESC(N, B, O, W, S, RST, WM, W1C, WO, H) \
    [PCI_REG_##N] = { #N, PCI_BLK_##B, (O), (W), PCIS_##S, (RST), (WM), (W1C), (WO) },
const struct pci_reg_desc pci_regs[PCI_REG_COUNT] = { PCI_REGS(PCIR_DESC) };
