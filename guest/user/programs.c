/* The ring-3 test programs of the guest kernel (the cmdline names them). */
#include "ulib.h"

void prog_hello(void);
void prog_demo(void);
void prog_segv(void);
void prog_spin(void);
void prog_bench(void);

void prog_hello(void)
{
    u_puts("hello from ring 3\n");
    u_exit(0);
}

#define DEMO_PAGES 64
static volatile uint64_t bss_pages[DEMO_PAGES][512];   /* demand-faulted .bss */
static uint64_t data_word = 0x1234;                    /* initialised .data */

static int check(struct u_line *l, const char *what, int ok)
{
    ul_s(l, what);
    ul_s(l, ok ? " ok" : " FAILED");
    ul_end(l);
    return ok ? 0 : 1;
}

void prog_demo(void)
{
    struct u_line l;
    l.len = 0;
    int bad = 0;
    bad |= check(&l, "demo: .data initialised", data_word == 0x1234);
    data_word = 0x5678;
    bad |= check(&l, "demo: .data writable", data_word == 0x5678);
    for (unsigned i = 0; i < DEMO_PAGES; i++)
        bss_pages[i][i] = i * 3 + 1;
    uint64_t sum = 0;
    for (unsigned i = 0; i < DEMO_PAGES; i++)
        sum += bss_pages[i][i] + bss_pages[i][511 - i % 512];
    bad |= check(&l, "demo: 64 .bss pages demand-faulted", sum == (uint64_t)DEMO_PAGES * (DEMO_PAGES - 1) / 2 * 3 + DEMO_PAGES);

    size_t len = 256 * 1024;
    volatile uint64_t *m = u_mmap(len, KVM_PROT_READ | KVM_PROT_WRITE);
    bad |= check(&l, "demo: mmap", (long)m > 0);
    for (size_t i = 0; i < len / 8; i += 512)
        m[i] = i ^ 0xabcdef;
    int same = 1;
    for (size_t i = 0; i < len / 8; i += 512)
        same &= m[i] == (i ^ 0xabcdef) && m[i + 1] == 0;
    bad |= check(&l, "demo: 64 mmap'ed pages written and read back", same);
    bad |= check(&l, "demo: mprotect read-only", u_mprotect((void *)m, len, KVM_PROT_READ) == 0);
    same = 1;
    for (size_t i = 0; i < len / 8; i += 512)
        same &= m[i] == (i ^ 0xabcdef);
    bad |= check(&l, "demo: read-only pages still hold their data", same);
    bad |= check(&l, "demo: munmap", u_munmap((void *)m, len) == 0);
    volatile uint64_t *m2 = u_mmap(len, KVM_PROT_READ | KVM_PROT_WRITE);
    same = (long)m2 > 0;
    for (size_t i = 0; same && i < len / 8; i += 512)
        same &= m2[i] == 0;
    bad |= check(&l, "demo: fresh mapping after munmap reads zero", same);
    bad |= check(&l, "demo: bad munmap refused", u_munmap((void *)0x1001, 4096) < 0);
    bad |= check(&l, "demo: unknown call refused", ucall(99, 0, 0, 0) == -KVM_ENOSYS);
    u_exit(bad ? 1 : 42);
}

void prog_segv(void)
{
    u_puts("segv: writing to an unmapped address\n");
    *(volatile uint64_t *)0x1000 = 1;
    u_puts("segv: still alive?\n");
    u_exit(0);
}

void prog_spin(void)
{
    u_puts("spin: looping forever\n");
    for (;;)
        __asm__ volatile("pause");
}

/* Ring-3 figures: demand faults, calls, and a plain loop. */
void prog_bench(void)
{
    struct u_line l;
    l.len = 0;
    enum { NPAGES = 512, NCALLS = 1000 };
    volatile uint8_t *m = u_mmap(NPAGES * 4096, KVM_PROT_READ | KVM_PROT_WRITE);
    uint64_t t0 = u_rdtsc();
    for (unsigned i = 0; i < NPAGES; i++)
        m[i * 4096] = 1;
    uint64_t t1 = u_rdtsc();
    for (unsigned i = 0; i < NCALLS; i++)
        ucall(KVM_CALL_GETTIME, 0, 0, 0);
    uint64_t t2 = u_rdtsc();
    volatile uint64_t x = 0;
    for (unsigned i = 0; i < 10000000; i++)
        x += i;
    uint64_t t3 = u_rdtsc();
    ul_s(&l, "bench: fault_cycles ");
    ul_u(&l, (t1 - t0) / NPAGES);
    ul_s(&l, " call_cycles ");
    ul_u(&l, (t2 - t1) / NCALLS);
    ul_s(&l, " loop10M_cycles ");
    ul_u(&l, t3 - t2);
    ul_end(&l);
    u_exit(0);
}
