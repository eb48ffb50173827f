/* Ring-3 side of the guest's call interface (kvm_abi.h): int3 through the
 * kernel's DPL-3 gate. User code is linked at 0x400000 and may not call
 * anything of the kernel's (its pages are supervisor-only). */
#ifndef VSVM_GUEST_ULIB_H
#define VSVM_GUEST_ULIB_H

#include <stddef.h>
#include <stdint.h>

#include "kvm/kvm_abi.h"

static inline long ucall(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("int3" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "memory", "rcx", "r11");
    return r;
}

static inline __attribute__((noreturn)) void u_exit(int status)
{
    ucall(KVM_CALL_EXIT, status, 0, 0);
    __builtin_unreachable();
}
static inline void *u_mmap(size_t len, unsigned prot)
{
    return (void *)ucall(KVM_CALL_MMAP, 0, (long)len, prot);
}
static inline long u_munmap(void *p, size_t len) { return ucall(KVM_CALL_MUNMAP, (long)p, (long)len, 0); }
static inline long u_mprotect(void *p, size_t len, unsigned prot)
{
    return ucall(KVM_CALL_MPROTECT, (long)p, (long)len, prot);
}
static inline uint64_t u_time(void) { return (uint64_t)ucall(KVM_CALL_GETTIME, 0, 0, 0); }
static inline uint64_t u_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* ulib.c */
size_t u_strlen(const char *s);
long u_puts(const char *s);
/* A line from pieces: text and numbers (kept tiny: no formatter). */
struct u_line { char buf[256]; size_t len; };
void ul_s(struct u_line *l, const char *s);
void ul_u(struct u_line *l, uint64_t v);
void ul_x(struct u_line *l, uint64_t v);
long ul_end(struct u_line *l);      /* adds the newline and writes it */

#endif
