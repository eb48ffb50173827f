/* The firmware tables of a KVM guest: the DMAR table the VMM places at
 * KVM_FW_GPA, the same description the in-process guest's kernel gets
 * (src/vmm/guest.c): one DRHD for the virtual unit at GUEST_UNIT_BASE,
 * INCLUDE_PCI_ALL, an endpoint scope per assigned device. */
#include "kvm/kvm.h"
#include "kvm/kvm_fw.h"
#include "vmm/guest.h"

size_t kvm_guest_dmar(const uint16_t *bdf, unsigned n, unsigned haw, uint8_t *buf, size_t cap)
{
    struct dmar_info info = { 0 };
    info.haw = (uint8_t)haw;
    info.nunits = 1;
    struct dmar_unit *u = &info.unit[0];
    u->base = GUEST_UNIT_BASE;
    u->include_all = true;
    for (unsigned i = 0; i < n && i < DMAR_MAX_SCOPES; i++)
        u->scope[u->nscope++] = (struct dmar_scope){ 1, bdf[i] };
    return dmar_build(&info, buf, cap);
}
