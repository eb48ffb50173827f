# vsvm build. `make run` and `make check` do all set-up (scripts/deps.sh).
#
# Configurations (each in build/<cfg>/):
#   gcc    gcc -O2       (default; what `make run` uses)
#   clang  clang -O2
#   asan   clang -O1 with AddressSanitizer + UndefinedBehaviorSanitizer
#   bench  gcc -O2 -DNDEBUG (what `make bench` uses)
#   fuzz   clang libFuzzer + ASan + UBSan harnesses (tests/fuzz/fuzz_*.c)
#   tsan   clang -O1 with ThreadSanitizer (make check runs every test under it,
#          halting at the first report)
CFG     ?= gcc
MAKEFLAGS += --no-print-directory
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE    := -std=c11 -D_GNU_SOURCE -g -Isrc -Itests/unit -pthread -MMD -MP $(WARN)

ifeq ($(CFG),gcc)
  CC_CFG := gcc
  CFLAGS_CFG := -O2
else ifeq ($(CFG),clang)
  CC_CFG := clang
  CFLAGS_CFG := -O2
else ifeq ($(CFG),asan)
  CC_CFG := clang
  CFLAGS_CFG := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else ifeq ($(CFG),fuzz)
  CC_CFG := clang
  CFLAGS_CFG := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
else ifeq ($(CFG),tsan)
  CC_CFG := clang
  CFLAGS_CFG := -O1 -fno-omit-frame-pointer -fsanitize=thread
else ifeq ($(CFG),bench)
  CC_CFG := gcc
  CFLAGS_CFG := -O2 -DNDEBUG
else
  $(error unknown CFG '$(CFG)': use gcc, clang, asan, tsan, fuzz or bench)
endif

B        := build/$(CFG)
LIB_SRCS := $(shell find src -name '*.c' ! -path 'src/tools/*' | sort)
TOOL_SRCS:= $(shell find src/tools -name '*.c' | sort)
TEST_SRCS:= $(sort $(wildcard tests/unit/test_*.c))
TEST_ALL := $(sort $(wildcard tests/unit/*.c tests/unit/support/*.c))
SUPPORT_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard tests/unit/support/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
TOOL_OBJS:= $(TOOL_SRCS:%.c=$(B)/%.o)
TESTS    := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)
LDLIBS   := -pthread -lm

.PHONY: all deps run check check-one bench tests fuzz fuzzers compile_commands.json clean help
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS   := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60
all: deps
	@$(MAKE) -j$(JOBS) CFG=$(CFG) $(B)/vsvm compile_commands.json

deps:
	@scripts/deps.sh

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC_CFG) $(BASE) $(CFLAGS_CFG) -c $< -o $@

$(B)/libvsvm.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(B)/vsvm: $(TOOL_OBJS) $(B)/libvsvm.a
	@echo "  LD      $@"
	@$(CC_CFG) $(CFLAGS_CFG) -o $@ $(TOOL_OBJS) $(B)/libvsvm.a $(LDLIBS)

# A test binary tests/unit/test_NAME.c may have companion files
# tests/unit/NAME_*.c (no test_ prefix) linked into the same binary; the
# shared test platforms in tests/unit/support/ are linked into every test.
.SECONDEXPANSION:
.SECONDARY:
companions = $(patsubst %.c,$(B)/%.o,$(wildcard tests/unit/$(1)_*.c))
$(B)/tests/test_%: $(B)/tests/unit/test_%.o $$(call companions,$$*) $(SUPPORT_OBJS) $(B)/libvsvm.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC_CFG) $(CFLAGS_CFG) -o $@ $(filter %.o,$^) $(B)/libvsvm.a -lcmocka $(LDLIBS)

# The KVM guest image (guest/, src/kvm/kvm_abi.h): a freestanding kernel
# and its ring-3 programs, linked by guest/guest.ld and flattened, then
# embedded in libvsvm by src/kvm/kvm_image.c. Always built with gcc (the
# same image in every configuration; no sanitizer can run in a guest).
GUEST_CC     := gcc
GUEST_BASE   := -std=c11 -Isrc -Iguest -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
                -mno-red-zone -mgeneral-regs-only -fno-stack-protector -fcf-protection=none \
                -fno-asynchronous-unwind-tables -fno-unwind-tables -O2 $(WARN)
GUEST_KFLAGS := $(GUEST_BASE) -mcmodel=kernel
GUEST_UFLAGS := $(GUEST_BASE) -fno-tree-loop-distribute-patterns
# The src/ files the kernel links (built again with GUEST_KFLAGS): the os
# layer's drivers, its address spaces and DMA API over the paging code, and
# the workloads the kernel runs itself (dma, the isolation probe).
GUEST_SRCS   := acpi/dmar os/klog os/kernel os/iommu_init os/iommu_qi os/iommu_fault \
                os/iommu_prq os/iommu_dev os/iommu_sl os/pci os/svm os/accel_drv os/mm os/dma \
                paging/pt_build paging/pt_walk workloads/wl_common workloads/wl_dma \
                workloads/wl_isolation
GUEST_KOBJS  := $(patsubst guest/%,$(B)/guest/%.o,$(basename $(wildcard guest/kernel/*.c guest/kernel/*.S))) \
                $(patsubst %,$(B)/guest/%.o,$(GUEST_SRCS))
GUEST_UOBJS  := $(patsubst guest/%.c,$(B)/guest/%.o,$(wildcard guest/user/*.c))
$(B)/guest/kernel/%.o: guest/kernel/%.c
	@mkdir -p $(@D)
	@echo "  GUEST   $<"
	@$(GUEST_CC) $(GUEST_KFLAGS) -MMD -MP -c $< -o $@
$(B)/guest/kernel/%.o: guest/kernel/%.S
	@mkdir -p $(@D)
	@echo "  GUEST   $<"
	@$(GUEST_CC) $(GUEST_KFLAGS) -MMD -MP -c $< -o $@
$(B)/guest/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  GUEST   $<"
	@$(GUEST_CC) $(GUEST_KFLAGS) -MMD -MP -c $< -o $@
$(B)/guest/user/%.o: guest/user/%.c
	@mkdir -p $(@D)
	@echo "  GUEST   $<"
	@$(GUEST_CC) $(GUEST_UFLAGS) -MMD -MP -c $< -o $@
# The ring-3 programs are a program of their own: linked together first,
# with only their entry points (prog_*) left global, so that their helpers
# (wl_fail, wl_run, ...) never meet the kernel's namespace (which has the
# src/workloads ones).
$(B)/guest/user/ring3.o: $(GUEST_UOBJS)
	@ld -r -o $@.tmp $^
	@objcopy -w --keep-global-symbol='prog_*' $@.tmp $@
	@rm -f $@.tmp
$(B)/guest/vsvm-guest.elf: $(GUEST_KOBJS) $(B)/guest/user/ring3.o guest/guest.ld
	@echo "  GUESTLD $@"
	@ld -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments -T guest/guest.ld -o $@ $(GUEST_KOBJS) $(B)/guest/user/ring3.o
$(B)/guest/vsvm-guest.bin: $(B)/guest/vsvm-guest.elf
	@objcopy -O binary $< $@
$(B)/src/kvm/kvm_image.o: $(B)/guest/vsvm-guest.bin
$(B)/src/kvm/kvm_image.o: CFLAGS_CFG += -DKVM_GUEST_BIN=$(B)/guest/vsvm-guest.bin

tests: $(TESTS) $(B)/vsvm

run: deps
	@$(MAKE) -j$(JOBS) CFG=gcc build/gcc/vsvm
	build/gcc/vsvm run

# Every test, in every configuration (ThreadSanitizer included: every test
# binary and the command-line tests, so `vsvm scenario all` too, with
# halt_on_error), plus a short bounded run of each fuzz harness; the closing
# line is the total.
check: deps
	@for c in gcc clang asan tsan; do $(MAKE) -j$(JOBS) CFG=$$c tests || exit 1; done
	@$(MAKE) -j$(JOBS) CFG=fuzz fuzzers
	@FUZZ_SMOKE_SECONDS=10 scripts/run-tests.sh build/gcc build/clang build/asan build/tsan build/fuzz

fuzzers: $(FUZZERS)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) build/fuzz/libvsvm.a
	@echo "  FUZZ    $@"
	@clang $(BASE) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< build/fuzz/libvsvm.a $(LDLIBS)

# Each harness for FUZZ_SECONDS (default 60) from its committed seed corpus;
# new inputs go to build/fuzz/corpus-NAME, findings to build/fuzz/.
fuzz: deps
	@$(MAKE) -j$(JOBS) CFG=fuzz fuzzers
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZERS)

# One configuration only (development loop): make check-one CFG=asan
check-one: deps
	@$(MAKE) -j$(JOBS) CFG=$(CFG) tests
	@scripts/run-tests.sh $(B)

bench: deps
	@$(MAKE) -j$(JOBS) CFG=bench build/bench/vsvm
	build/bench/vsvm bench --json

compile_commands.json:
	@scripts/compile-commands.sh "$(CC_CFG) $(BASE) $(CFLAGS_CFG)" $(LIB_SRCS) $(TOOL_SRCS) $(TEST_ALL) > $@.tmp && mv $@.tmp $@

clean:
	rm -rf build compile_commands.json

-include $(shell find $(B) -name '*.d' 2>/dev/null)
