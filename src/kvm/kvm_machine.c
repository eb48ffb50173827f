/* A KVM guest with assigned accelerators (kvm_machine.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm_machine.h"
#include "lib/hw_regs.h"

struct kvm_machine {
    struct guest *g;
    struct kvm_vm *vm;          /* set once created: MSIs before that are dropped */
    pthread_rwlock_t vm_lock;   /* m_msi reads vm under it; destroy clears vm under it */
    struct kvm_machine_stats st;
    bool killed;                /* its guest died: devices reset */
    bool booted;                /* started once: no second boot */
};

static void count(uint64_t *c) { __atomic_add_fetch(c, 1, __ATOMIC_RELAXED); }

static bool in_ecam(uint64_t gpa, unsigned size)
{
    return gpa >= KVM_ECAM_GPA && gpa + size <= KVM_ECAM_GPA + KVM_ECAM_SIZE;
}

static bool in_unit(uint64_t gpa)
{
    return gpa >= GUEST_UNIT_BASE && gpa < GUEST_UNIT_BASE + 0x1000;
}

/* ECAM, bus 0: offset = device/function << 12 | register. */
static uint64_t m_read(void *ctx, uint64_t gpa, unsigned size)
{
    struct kvm_machine *m = ctx;
    if (in_ecam(gpa, size)) {
        count(&m->st.cfg_accesses);
        uint64_t off = gpa - KVM_ECAM_GPA;
        if (size > 4)
            return ~0ULL;
        return guest_pci_read(m->g, (uint16_t)(off >> 12), (unsigned)(off & 0xFFF), size);
    }
    count(in_unit(gpa) ? &m->st.unit_accesses
                       : gpa >= GUEST_BAR_BASE && gpa < GUEST_BAR_BASE + GUEST_MAX_DEVS * 0x10000ULL
                             ? &m->st.bar_accesses : &m->st.other_accesses);
    return guest_mmio_read(m->g, gpa, size);
}

static void m_write(void *ctx, uint64_t gpa, unsigned size, uint64_t v)
{
    struct kvm_machine *m = ctx;
    if (in_ecam(gpa, size)) {
        count(&m->st.cfg_accesses);
        uint64_t off = gpa - KVM_ECAM_GPA;
        if (size <= 4)
            guest_pci_write(m->g, (uint16_t)(off >> 12), (unsigned)(off & 0xFFF), size,
                            (uint32_t)v);
        return;
    }
    if (in_unit(gpa)) {
        count(&m->st.unit_accesses);
        if (gpa - GUEST_UNIT_BASE == REG_OFF_IQT)
            count(&m->st.iqt_writes);
    } else if (gpa >= GUEST_BAR_BASE && gpa < GUEST_BAR_BASE + GUEST_MAX_DEVS * 0x10000ULL) {
        count(&m->st.bar_accesses);
    } else {
        count(&m->st.other_accesses);
    }
    guest_mmio_write(m->g, gpa, size, v);
}

/* The machine's MSIs (viommu events, device interrupts) as vMSIs; the
 * sink runs on whatever thread raised them (the vCPU thread inside an exit,
 * a device thread, the host's page-request path). */
static void m_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct kvm_machine *m = opaque;
    if ((addr & ~0xFFFFFULL) != 0xFEE00000ULL)
        return;
    pthread_rwlock_rdlock(&m->vm_lock);   /* the VM is not freed under an injection */
    struct kvm_vm *vm = __atomic_load_n(&m->vm, __ATOMIC_ACQUIRE);
    if (vm) {
        count(&m->st.msis);
        kvm_vm_msi(vm, data & 0xFF);
    }
    pthread_rwlock_unlock(&m->vm_lock);
}

struct kvm_machine *kvm_machine_create(struct host *h, const struct guest_config *c, char *why,
                                       size_t n)
{
    struct kvm_machine *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    pthread_rwlock_init(&m->vm_lock, NULL);
    struct guest_config gc = *c;
    gc.external_kernel = true, gc.msi_sink = m_msi, gc.msi_opaque = m;
    if (!(m->g = guest_create(h, &gc, why, n))) {
        free(m);
        return NULL;
    }
    struct kvm_vm_config kc = { .ram = guest_ram(m->g), .mmio = { m, m_read, m_write },
                                .name = gc.name };
    struct kvm_vm *vm = kvm_vm_create(&kc, why, n);
    if (!vm) {
        guest_destroy(m->g);
        free(m);
        return NULL;
    }
    __atomic_store_n(&m->vm, vm, __ATOMIC_RELEASE);
    return m;
}

void kvm_machine_destroy(struct kvm_machine *m)
{
    if (!m)
        return;
    struct kvm_vm *vm = m->vm;
    guest_kill(m->g);                       /* devices reset: nothing new from them */
    pthread_rwlock_wrlock(&m->vm_lock);     /* waits out an injection in flight */
    __atomic_store_n(&m->vm, NULL, __ATOMIC_RELEASE);
    pthread_rwlock_unlock(&m->vm_lock);
    kvm_vm_destroy(vm);                     /* the vCPU stopped: no more exits */
    guest_destroy(m->g);
    pthread_rwlock_destroy(&m->vm_lock);
    free(m);
}

int kvm_machine_start(struct kvm_machine *m, const char *cmdline, char *why, size_t n)
{
    size_t dlen = 0;
    const uint8_t *dmar = guest_dmar(m->g, &dlen);
    /* One boot per machine: a second one would meet the virtual unit, its
     * shadowed bindings and the devices as the last run left them (there is
     * no power-on reset of the guest machine), so it is refused. */
    if (m->killed)
        return snprintf(why, n, "the machine was stopped after its guest died"), -1;
    if (m->booted)
        return snprintf(why, n, "the machine has booted once already; create a new one"), -1;
    m->booted = true;
    memset(&m->st, 0, sizeof(m->st));
    if (kvm_vm_boot(m->vm, kvm_guest_image, (size_t)(kvm_guest_image_end - kvm_guest_image),
                    cmdline, dmar, dlen, why, n))
        return -1;
    if (kvm_vm_start(m->vm))
        return snprintf(why, n, "the vCPU thread did not start"), -1;
    return 0;
}

/* A guest kernel that died (triple fault, watchdog, an exit the VMM does
 * not serve, its own panic) is contained at once: its machine is killed,
 * which resets its devices (abandoning their work and page requests) and
 * cuts its MMIO and memory off, so nothing it left behind reaches the host
 * or another guest; the devices go back to the host on destroy. */
int kvm_machine_wait(struct kvm_machine *m, uint64_t timeout_ns, struct kvm_report *r, char *why,
                     size_t n)
{
    kvm_vm_wait(m->vm, timeout_ns, r);
    if (r->end != KVM_END_EXIT || r->status == KVM_EXIT_PANIC) {
        guest_kill(m->g);
        m->killed = true;
        size_t len = strlen(r->what);
        snprintf(r->what + len, sizeof(r->what) - len, "; its devices were reset");
    }
    if (r->end != KVM_END_EXIT) {
        snprintf(why, n, "%s", r->what);
        return -1;
    }
    return 0;
}

int kvm_machine_run(struct kvm_machine *m, const char *cmdline, uint64_t timeout_ns,
                    struct kvm_report *r, char *why, size_t n)
{
    memset(r, 0, sizeof(*r));
    if (kvm_machine_start(m, cmdline, why, n))
        return -1;
    return kvm_machine_wait(m, timeout_ns, r, why, n);
}

bool kvm_machine_killed(const struct kvm_machine *m) { return m->killed; }
const char *kvm_machine_console(const struct kvm_machine *m) { return kvm_vm_console(m->vm); }
struct guest *kvm_machine_guest(struct kvm_machine *m) { return m->g; }
struct kvm_vm *kvm_machine_vm(struct kvm_machine *m) { return m->vm; }

void kvm_machine_stats(const struct kvm_machine *m, struct kvm_machine_stats *s)
{
    *s = (struct kvm_machine_stats){
        .unit_accesses = __atomic_load_n(&m->st.unit_accesses, __ATOMIC_RELAXED),
        .bar_accesses = __atomic_load_n(&m->st.bar_accesses, __ATOMIC_RELAXED),
        .cfg_accesses = __atomic_load_n(&m->st.cfg_accesses, __ATOMIC_RELAXED),
        .other_accesses = __atomic_load_n(&m->st.other_accesses, __ATOMIC_RELAXED),
        .msis = __atomic_load_n(&m->st.msis, __ATOMIC_RELAXED),
        .iqt_writes = __atomic_load_n(&m->st.iqt_writes, __ATOMIC_RELAXED) };
}

unsigned kvm_machine_results(const struct kvm_machine *m, struct kvm_wl_result *out,
                             unsigned max)
{
    unsigned k = 0;
    for (const char *p = kvm_vm_console(m->vm); p && *p && k < max;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
        struct kvm_wl_result *x = &out[k];
        int passed = 0, used = 0;
        unsigned long long ops, prq, faults, errors;
        memset(x, 0, sizeof(*x));
        if (sscanf(line, "wl %31s %d ops %llu prq %llu faults %llu errors %llu :%n", x->name,
                   &passed, &ops, &prq, &faults, &errors, &used) == 6 && used > 0) {
            x->passed = passed == 1;
            x->operations = ops, x->page_requests = prq, x->faults = faults, x->errors = errors;
            snprintf(x->detail, sizeof(x->detail), "%s", line + used + (line[used] == ' '));
            k++;
        }
        p += len + (eol ? 1 : 0);
    }
    return k;
}
