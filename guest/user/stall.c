/* `stall`: a process whose kernel stops answering (for the containment
 * tests, tests/unit/test_kvm_contain.c): it binds the device, submits 64
 * stores to pages nobody has touched (so the device sends page requests
 * and waits for their responses), then makes the call on which the
 * kernel hangs with interrupts off (KVM_CALL_HANG). The guest never
 * answers; only the VMM can end this, by stopping the vCPU and resetting
 * the device. */
#include "wl.h"

#define STALL_PAGES 64

void prog_stall(void);
void prog_stall(void)
{
    struct wl w;
    if (wl_begin(&w, "stall"))
        wl_finish(&w);
    volatile uint8_t *buf = u_mmap(STALL_PAGES * 4096, KVM_PROT_READ | KVM_PROT_WRITE);
    if ((long)buf < 0) {
        wl_fail(&w, "mmap failed", (uint64_t)buf, 0);
        wl_finish(&w);
    }
    static struct accel_cmd c[STALL_PAGES];
    for (unsigned i = 0; i < STALL_PAGES; i++)
        c[i] = (struct accel_cmd){ .opcode = ACCEL_OP_STORE_DWORD, .arg = 0x57A11000u + i,
                                   .a = (uint64_t)(uintptr_t)(buf + i * 4096) };
    long rc = wl_submit(&w, c, STALL_PAGES);
    if (rc) {
        wl_fail(&w, "submit failed", (uint64_t)rc, 0);
        wl_finish(&w);
    }
    u_puts("stall: 64 stores to untouched pages submitted; the kernel hangs now\n");
    ucall(KVM_CALL_HANG, 0, 0, 0);
    wl_fail(&w, "KVM_CALL_HANG returned", 0, 0);
    wl_finish(&w);
}
