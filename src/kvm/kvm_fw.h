/* Firmware tables for KVM guests (kvm_fw.c). */
#ifndef VSVM_KVM_KVM_FW_H
#define VSVM_KVM_KVM_FW_H

#include <stddef.h>
#include <stdint.h>

#include "acpi/dmar.h"

/* The guest's DMAR table for devices at guest BDFs bdf[0..n): its length,
 * 0 when buf is too small. */
size_t kvm_guest_dmar(const uint16_t *bdf, unsigned n, unsigned haw, uint8_t *buf, size_t cap);

#endif
