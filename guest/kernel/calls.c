/* Ring-3 calls (int3 through the DPL-3 gate; kvm_abi.h): the frame's rax
 * is the number, rdi, rsi, rdx, r10 the arguments, rax the result. */
#include "kernel.h"

static long do_write(struct proc *p, uint64_t buf, uint64_t len)
{
    static char line[1024];
    if (len > 4096)
        len = 4096;
    if (user_prepare(p, buf, len, false))
        return -KVM_EFAULT;
    const char *src = (const char *)(uintptr_t)buf;
    uint64_t done = 0;
    while (done < len) {
        uint64_t n = len - done < sizeof(line) - 1 ? len - done : sizeof(line) - 1;
        memcpy(line, src + done, n);
        line[n] = 0;
        kputs(line);
        done += n;
    }
    return (long)len;
}

void do_call(struct trapframe *tf)
{
    struct proc *p = current;
    long r;
    switch (tf->rax) {
    case KVM_CALL_EXIT:
        proc_exit((int)tf->rdi);
    case KVM_CALL_WRITE:
        r = do_write(p, tf->rdi, tf->rsi);
        break;
    case KVM_CALL_MMAP:
        if (tf->rdx & KVM_MAP_FIXED)
            r = proc_mmap_fixed(p, tf->rdi, tf->rsi, (unsigned)tf->rdx & ~KVM_MAP_FIXED);
        else
            r = proc_mmap(p, tf->rdi, tf->rsi, (unsigned)tf->rdx);
        break;
    case KVM_CALL_MUNMAP:
        r = proc_munmap(p, tf->rdi, tf->rsi);
        break;
    case KVM_CALL_MPROTECT:
        r = proc_mprotect(p, tf->rdi, tf->rsi, (unsigned)tf->rdx);
        break;
    case KVM_CALL_GETTIME:
        r = (long)rdtsc();
        break;
    case KVM_CALL_BIND:
    case KVM_CALL_SUBMIT:
    case KVM_CALL_WAIT:
    case KVM_CALL_STAT:
        r = svm_call(p, tf);
        break;
    case KVM_CALL_HANG:
        kcall_hang();
    default:
        r = -KVM_ENOSYS;
        break;
    }
    tf->rax = (uint64_t)r;
}
