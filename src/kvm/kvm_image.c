/* The guest kernel image (guest/, built flat by the Makefile) linked into
 * the VMM as read-only data. The Makefile passes its path as
 * KVM_GUEST_BIN; without it (an editor's compile command) the image is
 * empty and kvm_vm_boot refuses it. */
#include "kvm/kvm.h"

#define KVM_STR2(x) #x
#define KVM_STR(x) KVM_STR2(x)

#ifdef KVM_GUEST_BIN
__asm__(".section .rodata.vsvm_guest,\"a\"\n"
        ".balign 4096\n"
        ".globl kvm_guest_image\n"
        "kvm_guest_image:\n"
        ".incbin \"" KVM_STR(KVM_GUEST_BIN) "\"\n"
        ".globl kvm_guest_image_end\n"
        "kvm_guest_image_end:\n"
        ".byte 0\n"
        ".previous\n");
#else
__asm__(".section .rodata.vsvm_guest,\"a\"\n"
        ".globl kvm_guest_image\n"
        "kvm_guest_image:\n"
        ".globl kvm_guest_image_end\n"
        "kvm_guest_image_end:\n"
        ".byte 0\n"
        ".previous\n");
#endif
