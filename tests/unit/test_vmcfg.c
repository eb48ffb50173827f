/* The VMM command line (src/vmm/vmcfg.h, issue 6 item 1, README "vsvm run
 * with guests"): every accepted form gives the configuration it says, and
 * every refusal names the argument it refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "vmm/vmcfg.h"

static char why[256];

/* Parses "run " + line (split at spaces). */
static int parse(const char *line, struct vmm_config *c)
{
    static char buf[1024];
    char *argv[64] = { "run" }, *save = NULL;
    int argc = 1;
    snprintf(buf, sizeof(buf), "%s", line);
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    why[0] = 0;
    return vmcfg_parse(argc, argv, c, why, sizeof(why));
}

static void accept(const char *line, struct vmm_config *c)
{
    if (parse(line, c))
        fail_msg("refused '%s': %s", line, why);
}

#define BDF(s, f) ((uint16_t)((s) << 3 | (f)))

static void test_defaults(void **state)
{
    (void)state;
    struct vmm_config c;
    accept("-json", &c);
    assert_true(c.json);
    assert_false(c.verbose);
    assert_int_equal(c.nguests, 1);
    assert_int_equal(c.host.nunits, 2);
    assert_int_equal(c.host.naccels, 2);
    assert_int_equal(c.host.mem_size, 512ULL << 20);
    assert_int_equal(c.host.accel_unit[1], 1);
    assert_string_equal(c.guest[0].name, "guest0");
    assert_int_equal(c.guest[0].mem_size, 256ULL << 20);
    assert_false(c.guest[0].svm);
    assert_true(c.guest[0].caching_mode);
    assert_int_equal(c.guest[0].aw_bits, 48);
    assert_int_equal(c.guest[0].ndevs, 0);
    assert_int_equal(c.workloads[0], VMCFG_WL_DMA_SET);
    assert_string_equal(vmcfg_wl_name(VMCFG_WL_SVM_POINTER_CHASE), "svm_pointer_chase");
    assert_string_equal(vmcfg_wl_name(VMCFG_WL_DMA), "dma");
    assert_null(vmcfg_wl_name(VMCFG_NWL));
}

static void test_full_guest(void **state)
{
    (void)state;
    struct vmm_config c;
    accept("-machine q35 -m 512M -name vm-0.a_b -device intel-iommu,svm=on,caching-mode=on,aw-bits=57 "
           "-device vfio-pci,host=0000:00:03.0,addr=05.0 -device vfio-pci,host=00:02.0 "
           "-workload svm_sanity,svm_fault --verbose", &c);
    const struct guest_config *g = &c.guest[0];
    assert_int_equal(c.nguests, 1);
    assert_true(c.verbose && c.host.verbose && g->verbose);
    assert_string_equal(g->name, "vm-0.a_b");
    assert_int_equal(g->mem_size, 512ULL << 20);
    assert_true(g->svm && g->caching_mode);
    assert_int_equal(g->aw_bits, 57);
    assert_int_equal(g->ndevs, 2);
    assert_int_equal(g->dev[0].host_bdf, BDF(3, 0));
    assert_int_equal(g->dev[0].guest_bdf, BDF(5, 0));
    assert_int_equal(g->dev[1].host_bdf, BDF(2, 0));
    assert_int_equal(g->dev[1].guest_bdf, BDF(4, 0));
    assert_int_equal(c.workloads[0], 1u << VMCFG_WL_SVM_SANITY | 1u << VMCFG_WL_SVM_FAULT);
}

static void test_forms(void **state)
{
    (void)state;
    struct vmm_config c;
    static const struct { const char *m; uint64_t size; } sizes[] = {
        { "1G", 1ULL << 30 }, { "256", 256ULL << 20 }, { "16384K", 16ULL << 20 },
        { "size=64M", 64ULL << 20 }, { "3G", 3ULL << 30 }, { "2g", 2ULL << 30 }, { "100m", 100ULL << 20 },
    };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "-m %s", sizes[i].m);
        accept(line, &c);
        assert_int_equal(c.guest[0].mem_size, sizes[i].size);
    }
    accept("-machine type=q35 -device driver=intel-iommu,svm=yes,caching-mode=true "
           "-device driver=vfio-pci,host=0:0:2.0,addr=0x1f -device vfio-pci,host=00:03.0,addr=4.3", &c);
    assert_true(c.guest[0].svm && c.guest[0].caching_mode);
    assert_int_equal(c.guest[0].dev[0].guest_bdf, BDF(0x1F, 0));
    assert_int_equal(c.guest[0].dev[1].guest_bdf, BDF(4, 3));
    assert_int_equal(c.workloads[0], VMCFG_WL_SVM_SET);
    accept("-device intel-iommu,svm=no,caching-mode=false -workload all", &c);
    assert_false(c.guest[0].svm || c.guest[0].caching_mode);
    assert_int_equal(c.workloads[0], VMCFG_WL_DMA_SET);
    accept("-device intel-iommu,svm=off -workload dma", &c);
    assert_int_equal(c.workloads[0], VMCFG_WL_DMA_SET);
    accept("-device intel-iommu,svm=on -workload all,svm_fault", &c);
    assert_int_equal(c.workloads[0], VMCFG_WL_SVM_SET);
    /* automatic guest addresses skip every slot given explicitly */
    accept("-host accels=4 -device intel-iommu -device vfio-pci,host=00:02.0 "
           "-device vfio-pci,host=00:03.0,addr=04.1 -device vfio-pci,host=00:04.0 "
           "-device vfio-pci,host=00:05.0,addr=6", &c);
    assert_int_equal(c.guest[0].dev[0].guest_bdf, BDF(5, 0));
    assert_int_equal(c.guest[0].dev[1].guest_bdf, BDF(4, 1));
    assert_int_equal(c.guest[0].dev[2].guest_bdf, BDF(7, 0));
    assert_int_equal(c.guest[0].dev[3].guest_bdf, BDF(6, 0));
}

static void test_host(void **state)
{
    (void)state;
    struct vmm_config c;
    accept("-host units=1,accels=3,mem=2G", &c);
    assert_int_equal(c.host.nunits, 1);
    assert_int_equal(c.host.naccels, 3);
    assert_int_equal(c.host.mem_size, 2ULL << 30);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(c.host.accel_unit[i], 0);
    accept("-host units=3,accel-units=0:2:1:1", &c);
    assert_int_equal(c.host.naccels, 4);
    assert_int_equal(c.host.accel_unit[1], 2);
    assert_int_equal(c.host.accel_unit[3], 1);
    accept("-host accels=2,accel-units=1:1 -device intel-iommu -device vfio-pci,host=00:03.0", &c);
    assert_int_equal(c.host.accel_unit[0], 1);
    /* without mem=, host memory grows to hold the guests plus the reserve */
    accept("-m 512M -guest -m 512M", &c);
    assert_int_equal(c.host.mem_size, (1024ULL << 20) + VMCFG_HOST_RESERVE);
    accept("-host mem=576M -guest -guest", &c);
    assert_int_equal(c.host.mem_size, 576ULL << 20);
}

static void test_guests(void **state)
{
    (void)state;
    struct vmm_config c;
    accept("-device intel-iommu,svm=on -device vfio-pci,host=0000:00:02.0 -guest -name b "
           "-device intel-iommu -device vfio-pci,host=0000:00:03.0,addr=09.0", &c);
    assert_int_equal(c.nguests, 2);
    assert_string_equal(c.guest[0].name, "guest0");
    assert_string_equal(c.guest[1].name, "b");
    assert_true(c.guest[0].svm);
    assert_false(c.guest[1].svm);
    assert_int_equal(c.workloads[0], VMCFG_WL_SVM_SET);
    assert_int_equal(c.workloads[1], VMCFG_WL_DMA_SET);
    assert_int_equal(c.guest[0].dev[0].guest_bdf, BDF(4, 0));
    assert_int_equal(c.guest[1].dev[0].guest_bdf, BDF(9, 0));
    /* a leading group of host options only is no guest */
    accept("-host units=1 -json -guest -m 64M -guest -m 32M", &c);
    assert_int_equal(c.nguests, 2);
    assert_int_equal(c.guest[0].mem_size, 64ULL << 20);
    assert_string_equal(c.guest[1].name, "guest1");
    accept("-m 32M -guest -guest -guest", &c);
    assert_int_equal(c.nguests, VMM_MAX_GUESTS);
    accept("-guest -guest -guest -guest", &c);
    assert_int_equal(c.nguests, VMM_MAX_GUESTS);
}

/* -accel (issue 7 item 4): the mode, and KVM's guest memory: 64M unless
 * -m says otherwise, at most VMCFG_KVM_MEM_MAX; without -accel the choice
 * is run time's (vmcfg_kvm_fits, vmcfg_use_kvm). */
static void test_accel(void **state)
{
    (void)state;
    struct vmm_config c;
    accept("-m 100M -guest", &c);
    assert_int_equal(c.accel, VMCFG_ACCEL_AUTO);
    assert_true(c.mem_given[0]);
    assert_false(c.mem_given[1]);
    assert_int_equal(c.guest[1].mem_size, 256ULL << 20);      /* in-process default */
    assert_true(vmcfg_kvm_fits(&c, why, sizeof(why)));
    vmcfg_use_kvm(&c);
    assert_int_equal(c.guest[0].mem_size, 100ULL << 20);      /* as given */
    assert_int_equal(c.guest[1].mem_size, VMCFG_KVM_MEM_DEFAULT);
    accept("-name a -guest -m 121M", &c);
    assert_false(vmcfg_kvm_fits(&c, why, sizeof(why)));
    assert_non_null(strstr(why, "guest1 has 121M"));
    accept("-accel kvm -name a -guest -m 120M", &c);
    assert_int_equal(c.accel, VMCFG_ACCEL_KVM);
    assert_int_equal(c.guest[0].mem_size, VMCFG_KVM_MEM_DEFAULT);
    assert_int_equal(c.guest[1].mem_size, VMCFG_KVM_MEM_MAX);
    accept("-name a -guest -guest -guest", &c);             /* 4 x 256M in-process */
    assert_int_equal(c.host.mem_size, (4 * 256ULL << 20) + VMCFG_HOST_RESERVE);
    vmcfg_use_kvm(&c);                                        /* 4 x 64M: the default host */
    assert_int_equal(c.host.mem_size, 512ULL << 20);
    accept("-host mem=2G -name a -guest", &c);
    vmcfg_use_kvm(&c);
    assert_int_equal(c.host.mem_size, 2ULL << 30);          /* as given */
    accept("--enable-kvm", &c);
    assert_int_equal(c.accel, VMCFG_ACCEL_KVM);
    accept("-accel in-process -m 3G", &c);
    assert_int_equal(c.accel, VMCFG_ACCEL_IN_PROCESS);
    assert_int_equal(c.guest[0].mem_size, 3ULL << 30);
}

/* Each refused line and what its message must contain. */
static const struct { const char *line, *says, *also; } bad[] = {
    { "-foo", "unknown option '-foo'", NULL },
    { "--bar 1", "'--bar'", NULL },
    { "bogus", "unexpected argument 'bogus'", NULL },
    { "-m", "-m needs a value", NULL },
    { "-device intel-iommu -device", "-device needs a value", NULL },
    { "-m 12X", "-m 12X", "bad size" },
    { "-m 1.5G", "-m 1.5G", NULL },
    { "-m 8M", "-m 8M", "16M..3G" },
    { "-m 4G", "-m 4G", "16M..3G" },
    { "-m 16386K", "-m 16386K", "4K pages" },
    { "-m 99999999999999999999", "-m 9999", NULL },
    { "-m 256M -m 512M", "-m 512M", "twice" },
    { "-machine pc", "-machine pc", "only q35" },
    { "-machine q35,accel=kvm", "-machine q35,accel=kvm", "'accel'" },
    { "-machine q35 -machine q35", "-machine q35", "twice" },
    { "-name abcdefghijklmnopq", "-name abcdefghijklmnopq", NULL },
    { "-name a/b", "-name a/b", NULL },
    { "-name x -name y", "-name y", "twice" },
    { "-name x -guest -name x", "-name x", "already used" },
    { "-name guest1 -guest", "guest1", "already used" },
    { "-device foo", "-device foo", "unknown device type 'foo'" },
    { "-device e1000,netdev=n", "'e1000'", NULL },
    { "-device intel-iommu,bogus=1", "-device intel-iommu,bogus=1", "'bogus'" },
    { "-device intel-iommu,svm=maybe", "svm=maybe", "on or off" },
    { "-device intel-iommu,svm", "-device intel-iommu,svm", NULL },
    { "-device intel-iommu,aw-bits=39", "aw-bits=39", "48 or 57" },
    { "-device intel-iommu,,svm=on", "-device intel-iommu,,svm=on", "empty" },
    { "-device intel-iommu,svm=on,svm=off", "'svm' given twice", NULL },
    { "-device intel-iommu -device intel-iommu,svm=on", "-device intel-iommu,svm=on", "one intel-iommu" },
    { "-device intel-iommu,caching-mode=off -device vfio-pci,host=00:02.0",
      "intel-iommu,caching-mode=off", "caching mode" },
    { "-device vfio-pci,host=00:02.0", "-device vfio-pci,host=00:02.0", "intel-iommu" },
    { "-device intel-iommu -device vfio-pci", "-device vfio-pci", "host=" },
    { "-device intel-iommu -device vfio-pci,host=xyz", "host=xyz", NULL },
    { "-device intel-iommu -device vfio-pci,host=00:02", "host=00:02", NULL },
    { "-device intel-iommu -device vfio-pci,host=00:20.0", "host=00:20.0", NULL },
    { "-device intel-iommu -device vfio-pci,host=00:02.8", "host=00:02.8", NULL },
    { "-device intel-iommu -device vfio-pci,host=0000:00:09.0", "host=0000:00:09.0",
      "no host device 0000:00:09.0" },
    { "-device intel-iommu -device vfio-pci,host=0000:01:00.0", "no host device 0000:01:00.0", NULL },
    { "-device intel-iommu -device vfio-pci,host=0000:00:02.1", "no host device 0000:00:02.1", NULL },
    { "-device intel-iommu -device vfio-pci,host=0001:00:02.0", "0001:00:02.0", "domain" },
    { "-host accels=1 -device intel-iommu -device vfio-pci,host=00:03.0", "host=00:03.0",
      "0000:00:02.0 .. 0000:00:02.0" },
    { "-host accels=0 -device intel-iommu -device vfio-pci,host=00:02.0", "host=00:02.0",
      "no accelerators" },
    { "-device intel-iommu -device vfio-pci,host=00:02.0 -device vfio-pci,host=00:02.0,addr=5",
      "host=00:02.0,addr=5", "already assigned to guest0" },
    { "-device intel-iommu -device vfio-pci,host=00:02.0 -guest -name g2 -device intel-iommu "
      "-device vfio-pci,host=0000:00:02.0", "host=0000:00:02.0", "already assigned to guest0" },
    { "-device intel-iommu -device vfio-pci,host=00:02.0,addr=4 -device vfio-pci,host=00:03.0,addr=04.0",
      "addr=04.0", "00:04.0 already used" },
    { "-device intel-iommu -device vfio-pci,host=00:02.0,addr=00.0", "addr=00.0", "host bridge" },
    { "-device intel-iommu -device vfio-pci,host=00:02.0,addr=20", "addr=20", NULL },
    { "-device intel-iommu -device vfio-pci,host=00:02.0,addr=4.8", "addr=4.8", NULL },
    { "-device intel-iommu -device vfio-pci,host=00:02.0,addr=x", "addr=x", NULL },
    { "-device intel-iommu -device vfio-pci,host=00:02.0,rombar=0", "'rombar'", NULL },
    { "-host accels=5 -device intel-iommu -device vfio-pci,host=00:02.0 -device vfio-pci,host=00:03.0 "
      "-device vfio-pci,host=00:04.0 -device vfio-pci,host=00:05.0 -device vfio-pci,host=00:06.0",
      "host=00:06.0", "at most 4" },
    { "-workload foo", "-workload foo", "unknown workload 'foo'" },
    { "-workload svm_sanity,", "-workload svm_sanity,", "empty" },
    { "-workload svm_fault", "-workload svm_fault", "svm=on" },
    { "-device intel-iommu,svm=off -workload dma,svm_pointer_chase", "svm_pointer_chase", "svm=on" },
    { "-device intel-iommu,svm=on -workload dma", "-workload dma", "svm=off" },
    { "-workload dma -workload dma", "-workload dma", "twice" },
    { "-host units=1 -host units=2", "-host units=2", "twice" },
    { "-host units=0", "units=0", NULL },
    { "-host units=5", "units=5", NULL },
    { "-host units", "-host units", "'units' needs a value" },
    { "-host accels=9", "accels=9", NULL },
    { "-host mem=1M", "mem=1M", NULL },
    { "-host mem=lots", "mem=lots", NULL },
    { "-host cpus=4", "-host cpus=4", "'cpus'" },
    { "-host accel-units=0:5", "accel-units=0:5", "unit 5" },
    { "-host accel-units=0::1", "accel-units=0::1", NULL },
    { "-host accel-units=0:1:0:1:0:1:0:1:0", "accel-units=0:1:0:1:0:1:0:1:0", NULL },
    { "-host accels=3,accel-units=0:1", "accels=3,accel-units=0:1", "2 units for 3" },
    { "-host mem=512M -m 512M", "-host mem=512M", "cannot hold" },
    { "-host mem=512M -guest -guest", "-host mem=512M", "512M plus 64M" },
    { "-host mem=3G -m 3G", "-host mem=3G", "3072M plus 64M" },
    { "-m 32M -guest -guest -guest -guest", "-guest", "at most 4 guests" },
    { "-guest -guest -guest -guest -guest", "-guest", "at most 4 guests" },
    { "-accel", "-accel needs a value", NULL },
    { "-accel tcg", "-accel tcg", "unknown accelerator" },
    { "-accel kvm -accel kvm", "-accel", "chosen already" },
    { "-enable-kvm -accel in-process", "-accel", "chosen already" },
    { "-accel kvm -m 128M", "-accel kvm", "guest0 has 128M" },
    { "-enable-kvm -m 64M -guest -name big -m 121M", "-accel kvm", "big has 121M" },
};

static void test_refusals(void **state)
{
    (void)state;
    struct vmm_config c;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!parse(bad[i].line, &c))
            fail_msg("accepted '%s'", bad[i].line);
        if (!strstr(why, bad[i].says) || (bad[i].also && !strstr(why, bad[i].also)))
            fail_msg("'%s': message '%s' lacks '%s'%s%s", bad[i].line, why, bad[i].says,
                     bad[i].also ? " or " : "", bad[i].also ? bad[i].also : "");
        assert_null(strchr(why, '\n'));
    }
}

/* A short buffer truncates the message, never overruns. */
static void test_short_buffer(void **state)
{
    (void)state;
    struct vmm_config c;
    char small[8];
    char *argv[] = { "run", "-machine", "pc" };
    assert_int_equal(vmcfg_parse(3, argv, &c, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_full_guest),
        cmocka_unit_test(test_forms),      cmocka_unit_test(test_host),
        cmocka_unit_test(test_guests),     cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_short_buffer), cmocka_unit_test(test_accel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
