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

/* the SVM calls: bind returns the PASID (and *seq the context's last
 * completed seqno), wait 0, -KVM_EIO with *err / *fva, or -KVM_ETIMEDOUT */
static inline long u_bind(unsigned dev, volatile void *compl, uint64_t *seq)
{
    long r;
    uint64_t s;
    __asm__ volatile("int3" : "=a"(r), "=d"(s) : "a"((long)KVM_CALL_BIND), "D"((long)dev),
                     "S"(compl) : "memory", "rcx", "r11");
    *seq = s;
    return r;
}
static inline long u_submit(unsigned dev, const void *batch, uint64_t seqno)
{
    return ucall(KVM_CALL_SUBMIT, dev, (long)batch, (long)seqno);
}
static inline long u_wait(unsigned dev, uint64_t seqno, unsigned timeout_ms, unsigned *err,
                          uint64_t *fva)
{
    long r;
    uint64_t e, f;
    __asm__ volatile("int3" : "=a"(r), "=d"(e), "=S"(f) : "a"((long)KVM_CALL_WAIT),
                     "D"((long)dev), "S"((long)seqno), "d"((long)timeout_ms)
                     : "memory", "rcx", "r11");
    *err = (unsigned)e, *fva = f;
    return r;
}
static inline uint64_t u_stat(unsigned what) { return (uint64_t)ucall(KVM_CALL_STAT, what, 0, 0); }
static inline void *u_mmap_fixed(void *at, size_t len, unsigned prot)
{
    return (void *)ucall(KVM_CALL_MMAP, (long)at, (long)len, prot | KVM_MAP_FIXED);
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
