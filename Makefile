# warden - top-level build.
#
#   make            guest binaries (static musl) and their pinned libraries
#   make image      build/image/initramfs.cpio.gz and its manifest
#   make test       unit tests (musl and glibc+ASan/UBSan), PID 1 tests, image
#                   reproducibility, warden image, the verified root filesystem
#                   at boot, microVM tests, egress in all three modes, a short
#                   fuzz run
#   make demo       the sample Python agent (examples/agent.py) in a microVM booted
#                   from a Debian golden image (build/images/debian-python)
#   make bench      benchmarks (figures printed, never asserted)
#   make lint       cppcheck, clang-tidy, shellcheck, clang-format check
#   make fmt        clang-format in place
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean      build outputs (keeps downloads and third-party builds)
#   make distclean  everything under build/
#
# Every target first runs scripts/bootstrap.sh, which installs the Debian
# packages that are missing (and says so); nothing else is needed.

BUILD      ?= build
PREFIX     ?= /usr/local
DESTDIR    ?=
V          ?= 0
Q          := $(if $(filter 1,$(V)),,@)

ABS_BUILD  := $(abspath $(BUILD))
BIN        := $(BUILD)/bin
MUSL_OBJ   := $(BUILD)/musl
ASAN_OBJ   := $(BUILD)/asan
MUSL_INC   := $(BUILD)/musl-include
SPECS      := $(BUILD)/musl-static-pie.specs
DEPS_MUSL  := $(BUILD)/deps/musl
DEPS_STAMP := $(DEPS_MUSL)/.built
DEPS_GLIBC := $(BUILD)/deps/glibc
DEPS_GLIBC_STAMP := $(DEPS_GLIBC)/.built
KERNEL_DIR := $(BUILD)/kernel
IMAGE_DIR  := $(BUILD)/image
IMAGE      := $(IMAGE_DIR)/initramfs.cpio.gz

# ---- flags ---------------------------------------------------------------

WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wpointer-arith -Wcast-qual -Wwrite-strings \
        -Wundef -Wno-unused-parameter -Wimplicit-fallthrough
STD  := -std=c11 -D_GNU_SOURCE
HARDEN := -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE
# musl has no _FORTIFY_SOURCE support (there is no fortify-headers in Debian);
# the glibc flavour below builds with it.

MUSL_CC      := gcc -specs $(SPECS)
MUSL_CFLAGS  := $(STD) $(WARN) -Os $(HARDEN) -ffunction-sections -fdata-sections \
                -idirafter $(MUSL_INC) -isystem $(DEPS_MUSL)/include
MUSL_LDFLAGS := -static-pie -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--gc-sections \
                -L$(DEPS_MUSL)/lib

ASAN_CC      := gcc
ASAN_CFLAGS  := $(STD) $(WARN) -O1 -g -fno-omit-frame-pointer -D_FORTIFY_SOURCE=2 \
                -fsanitize=address,undefined -fno-sanitize-recover=all -isystem $(DEPS_GLIBC)/include
ASAN_LDFLAGS := -fsanitize=address,undefined -L$(DEPS_GLIBC)/lib

# ---- sources -------------------------------------------------------------
#
# Each folder is one archive; a program is its folder's main.c plus the
# archives it may use. New files are picked up without editing this file.

COMMON_SRCS := $(sort $(wildcard common/*.c))
VSOCK_SRCS  := $(sort $(wildcard vsock/*.c))
INIT_LIB    := $(filter-out init/main.c,$(sort $(wildcard init/*.c)))
SANDBOX_SRCS := $(sort $(wildcard sandbox/*.c))
POLICY_SRCS := $(sort $(wildcard policy/*.c))
EGRESS_SRCS := $(sort $(wildcard egress/*.c))
SUP_LIB     := $(filter-out supervisor/main.c,$(sort $(wildcard supervisor/*.c)))
HOST_LIB    := $(filter-out host/main.c,$(sort $(wildcard host/*.c)))
LIBS        := -lseccomp -lcap -lbearssl -lcjson

GUEST_BINS  := $(BIN)/warden-init $(BIN)/warden-supervisor
HOST_BINS   := $(if $(wildcard host/main.c),$(BIN)/warden)

# Unit tests: tests/unit/test_<name>.c, linked with every archive (the
# linker takes only what a test uses).
UNIT_TESTS  := $(patsubst tests/unit/test_%.c,%,$(sort $(wildcard tests/unit/test_*.c)))

# Test programs that run inside the guest or as PID 1's children (static musl).
TEST_GUEST_PROGS := tests/init/probe tests/vm/vmcheck tests/image/rootcheck

.PHONY: all bootstrap deps image kernel test test-unit test-unit-musl test-unit-asan \
        test-init test-vm test-run test-sandbox test-egress test-escape test-audit test-repro test-image-tool \
        test-image-boot test-image-run \
        test-fuzz test-deps demo bench lint fmt install clean distclean

all: $(GUEST_BINS) $(HOST_BINS)

bootstrap:
	$(Q)scripts/bootstrap.sh

# ---- toolchain glue ------------------------------------------------------

# musl-gcc's own specs ignore -static-pie; this copy makes it link rcrt1.o
# without a dynamic linker.
$(SPECS): | bootstrap
	$(Q)mkdir -p $(@D)
	$(Q)sed -e 's#%{!shared: /usr/lib/x86_64-linux-musl/Scrt1.o}#%{static-pie: /usr/lib/x86_64-linux-musl/rcrt1.o; !shared: /usr/lib/x86_64-linux-musl/Scrt1.o}#' \
	       -e 's#^-dynamic-linker /lib/ld-musl-x86_64.so.1 -nostdlib#%{!static-pie:-dynamic-linker /lib/ld-musl-x86_64.so.1} -nostdlib %{static-pie:-static -pie --no-dynamic-linker -z text}#' \
	       /usr/lib/x86_64-linux-musl/musl-gcc.specs > $@.tmp
	$(Q)grep -q rcrt1.o $@.tmp || { echo "make: cannot derive a static-pie specs file from musl-gcc.specs" >&2; exit 1; }
	$(Q)mv $@.tmp $@

# musl-gcc does not see the kernel's UAPI headers; these links let it.
$(MUSL_INC)/.stamp: | bootstrap
	$(Q)mkdir -p $(MUSL_INC)
	$(Q)ln -sfn /usr/include/linux $(MUSL_INC)/linux
	$(Q)ln -sfn /usr/include/asm-generic $(MUSL_INC)/asm-generic
	$(Q)ln -sfn /usr/include/x86_64-linux-gnu/asm $(MUSL_INC)/asm
	$(Q)touch $@

TOOLCHAIN := $(SPECS) $(MUSL_INC)/.stamp

deps: $(DEPS_STAMP)

$(DEPS_STAMP): deps/sources.lock deps/lock.sh deps/fetch.sh deps/build.sh | bootstrap
	@echo "  DEPS    libseccomp libcap bearssl cjson cmocka (musl, pinned sources)"
	$(Q)deps/fetch.sh
	$(Q)deps/build.sh musl $(DEPS_MUSL)
	$(Q)touch $@

$(DEPS_GLIBC_STAMP): $(DEPS_STAMP)
	@echo "  DEPS    libseccomp libcap bearssl cjson (glibc, ASan/UBSan)"
	$(Q)deps/build.sh glibc $(DEPS_GLIBC)
	$(Q)touch $@

# ---- guest binaries (static musl) ------------------------------------------

$(MUSL_OBJ)/%.o: %.c $(TOOLCHAIN) | $(DEPS_STAMP)
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -MMD -MP -c $< -o $@

musl_objs = $(patsubst %.c,$(MUSL_OBJ)/%.o,$(1))
asan_objs = $(patsubst %.c,$(ASAN_OBJ)/%.o,$(1))

# One archive per folder and flavour.
$(MUSL_OBJ)/lib%.a:
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
$(ASAN_OBJ)/lib%.a:
	@echo "  AR asan $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(MUSL_OBJ)/libcommon.a: $(call musl_objs,$(COMMON_SRCS))
$(MUSL_OBJ)/libvsock.a: $(call musl_objs,$(VSOCK_SRCS))
$(MUSL_OBJ)/libinit.a: $(call musl_objs,$(INIT_LIB))
$(MUSL_OBJ)/libsandbox.a: $(call musl_objs,$(SANDBOX_SRCS))
$(MUSL_OBJ)/libpolicy.a: $(call musl_objs,$(POLICY_SRCS))
$(MUSL_OBJ)/libegress.a: $(call musl_objs,$(EGRESS_SRCS))
$(MUSL_OBJ)/libsupervisor.a: $(call musl_objs,$(SUP_LIB))
$(MUSL_OBJ)/libhost.a: $(call musl_objs,$(HOST_LIB))
$(ASAN_OBJ)/libcommon.a: $(call asan_objs,$(COMMON_SRCS))
$(ASAN_OBJ)/libvsock.a: $(call asan_objs,$(VSOCK_SRCS))
$(ASAN_OBJ)/libinit.a: $(call asan_objs,$(INIT_LIB))
$(ASAN_OBJ)/libsandbox.a: $(call asan_objs,$(SANDBOX_SRCS))
$(ASAN_OBJ)/libpolicy.a: $(call asan_objs,$(POLICY_SRCS))
$(ASAN_OBJ)/libegress.a: $(call asan_objs,$(EGRESS_SRCS))
$(ASAN_OBJ)/libsupervisor.a: $(call asan_objs,$(SUP_LIB))
$(ASAN_OBJ)/libhost.a: $(call asan_objs,$(HOST_LIB))

# Link order: the folder's own code first, shared code last.
MUSL_ALL_LIBS := $(MUSL_OBJ)/libsupervisor.a $(MUSL_OBJ)/libhost.a $(MUSL_OBJ)/libinit.a \
                 $(MUSL_OBJ)/libegress.a $(MUSL_OBJ)/libpolicy.a $(MUSL_OBJ)/libsandbox.a $(MUSL_OBJ)/libvsock.a $(MUSL_OBJ)/libcommon.a
ASAN_ALL_LIBS := $(ASAN_OBJ)/libsupervisor.a $(ASAN_OBJ)/libhost.a $(ASAN_OBJ)/libinit.a \
                 $(ASAN_OBJ)/libegress.a $(ASAN_OBJ)/libpolicy.a $(ASAN_OBJ)/libsandbox.a $(ASAN_OBJ)/libvsock.a $(ASAN_OBJ)/libcommon.a

# The sandbox's built-in seccomp filter, compiled once at build time by
# tools/mkfilter with libseccomp (sandbox/sandbox.h). Linked as objects:
# sbfilter.c refers to it weakly, which would not pull it from an archive.
GEN         := $(BUILD)/gen
SBGEN_MUSL  := $(MUSL_OBJ)/gen/sbfilter_builtin.o
SBGEN_ASAN  := $(ASAN_OBJ)/gen/sbfilter_builtin.o

$(BIN)/tools/mkfilter: $(MUSL_OBJ)/tools/mkfilter.o $(MUSL_OBJ)/libsandbox.a \
                       $(MUSL_OBJ)/libvsock.a $(MUSL_OBJ)/libcommon.a $(DEPS_STAMP)
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

$(GEN)/sbfilter_builtin.c: $(BIN)/tools/mkfilter
	@echo "  GEN     $@"
	$(Q)mkdir -p $(@D)
	$(Q)$< >$@.tmp && mv $@.tmp $@

$(SBGEN_MUSL): $(GEN)/sbfilter_builtin.c $(TOOLCHAIN)
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -c $< -o $@
$(SBGEN_ASAN): $(GEN)/sbfilter_builtin.c | $(DEPS_GLIBC_STAMP)
	@echo "  CC asan $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -c $< -o $@

# warden-init links no third-party library: PID 1 stays small.
$(BIN)/warden-init: $(MUSL_OBJ)/init/main.o $(MUSL_OBJ)/libinit.a $(MUSL_OBJ)/libcommon.a
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@.debug $^
	$(Q)strip --strip-all -o $@ $@.debug

$(BIN)/warden-supervisor: $(MUSL_OBJ)/supervisor/main.o $(SBGEN_MUSL) $(MUSL_OBJ)/libsupervisor.a \
                          $(MUSL_OBJ)/libegress.a $(MUSL_OBJ)/libpolicy.a $(MUSL_OBJ)/libsandbox.a $(MUSL_OBJ)/libvsock.a $(MUSL_OBJ)/libcommon.a $(DEPS_STAMP)
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@.debug $(filter %.o %.a,$^) $(LIBS)
	$(Q)strip --strip-all -o $@ $@.debug

# Benchmark tools: static musl, both sides of the channel.
BENCH_BINS := $(BIN)/bench/egbench $(BIN)/bench/chanbench $(BIN)/bench/sbbench $(BIN)/bench/auditbench $(BIN)/bench/rdbench
# rdbench runs in the guest in the supervisor's place: init's device-mapper code, no library.
$(BIN)/bench/rdbench: $(MUSL_OBJ)/bench/rdbench.o $(MUSL_OBJ)/libinit.a $(MUSL_OBJ)/libcommon.a
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $^
$(BIN)/bench/%: $(MUSL_OBJ)/bench/%.o $(SBGEN_MUSL) $(MUSL_OBJ)/libhost.a $(MUSL_OBJ)/libsupervisor.a \
                $(MUSL_OBJ)/libegress.a $(MUSL_OBJ)/libpolicy.a $(MUSL_OBJ)/libsandbox.a $(MUSL_OBJ)/libvsock.a $(MUSL_OBJ)/libcommon.a $(DEPS_STAMP)
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

# The host command is static musl too: one file that runs on any x86-64 Linux.
$(BIN)/warden: $(MUSL_OBJ)/host/main.o $(SBGEN_MUSL) $(MUSL_OBJ)/libhost.a $(MUSL_OBJ)/libsupervisor.a \
               $(MUSL_OBJ)/libegress.a $(MUSL_OBJ)/libpolicy.a $(MUSL_OBJ)/libsandbox.a $(MUSL_OBJ)/libvsock.a $(MUSL_OBJ)/libcommon.a $(DEPS_STAMP)
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@.debug $(filter %.o %.a,$^) $(LIBS)
	$(Q)strip --strip-all -o $@ $@.debug

$(BIN)/tests/%: $(MUSL_OBJ)/tests/%.o $(MUSL_OBJ)/libcommon.a
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $^

TEST_GUEST_BINS := $(patsubst tests/%,$(BIN)/tests/%,$(TEST_GUEST_PROGS))

# The escape battery: one static program per attempt, libc only.
ESCAPE_BINS := $(patsubst tests/escape/%.c,$(BIN)/tests/escape/%,$(sort $(wildcard tests/escape/*.c)))
$(BIN)/tests/escape/%: tests/escape/%.c tests/escape/escape.h $(TOOLCHAIN)
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -Wno-missing-prototypes $(MUSL_LDFLAGS) -o $@ $<

# The audit tests' agents: static, libc only.
AUDIT_TEST_BINS := $(patsubst tests/audit/%.c,$(BIN)/tests/audit/%,$(sort $(wildcard tests/audit/*.c)))
$(BIN)/tests/audit/%: tests/audit/%.c $(TOOLCHAIN)
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -Wno-missing-prototypes $(MUSL_LDFLAGS) -o $@ $< -lpthread

# The sandbox tests' commands: static, libc only.
SANDBOX_TEST_BINS := $(patsubst tests/sandbox/%.c,$(BIN)/tests/sandbox/%,$(sort $(wildcard tests/sandbox/*.c)))
$(SANDBOX_TEST_BINS): $(BIN)/tests/sandbox/%: tests/sandbox/%.c $(TOOLCHAIN)
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -Wno-missing-prototypes $(MUSL_LDFLAGS) -o $@ $< -lpthread

# The egress tests' agents: static, libc only.
EGRESS_TEST_BINS := $(patsubst tests/egress/%.c,$(BIN)/tests/egress/%,$(sort $(wildcard tests/egress/*.c)))
$(BIN)/tests/egress/%: tests/egress/%.c $(TOOLCHAIN)
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -Wno-missing-prototypes $(MUSL_LDFLAGS) -o $@ $<
# The sandbox tests' runner with egress on (tests/sandbox/tools/): the
# sandbox's archives, as the bench tools link them.
SANDBOX_TOOL_BINS := $(patsubst tests/sandbox/tools/%.c,$(BIN)/tests/sandbox/tools/%,$(sort $(wildcard tests/sandbox/tools/*.c)))
$(SANDBOX_TOOL_BINS): $(BIN)/tests/sandbox/tools/%: $(MUSL_OBJ)/tests/sandbox/tools/%.o $(SBGEN_MUSL) $(MUSL_OBJ)/libpolicy.a \
                              $(MUSL_OBJ)/libsandbox.a $(MUSL_OBJ)/libvsock.a $(MUSL_OBJ)/libcommon.a $(DEPS_STAMP)
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

# vmcheck compares the kernel's view with init's sysctl table.
$(BIN)/tests/vm/vmcheck: $(MUSL_OBJ)/tests/vm/vmcheck.o $(MUSL_OBJ)/libinit.a \
                         $(MUSL_OBJ)/libvsock.a $(MUSL_OBJ)/libcommon.a
	@echo "  LD      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $^


# ---- unit tests: musl + cmocka, and glibc + ASan/UBSan -------------------

$(ASAN_OBJ)/%.o: %.c | bootstrap $(DEPS_GLIBC_STAMP)
	@echo "  CC asan $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@


define unit_rules
$(BIN)/unit-musl/test_$(1): $(MUSL_OBJ)/tests/unit/test_$(1).o $(SBGEN_MUSL) $(MUSL_ALL_LIBS) $(DEPS_STAMP)
	@echo "  LD      $$@"
	$(Q)mkdir -p $$(@D)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $$@ $$(filter %.o %.a,$$^) -lcmocka $(LIBS)
$(BIN)/unit-asan/test_$(1): $(ASAN_OBJ)/tests/unit/test_$(1).o $(SBGEN_ASAN) $(ASAN_ALL_LIBS) $(DEPS_GLIBC_STAMP)
	@echo "  LD asan $$@"
	$(Q)mkdir -p $$(@D)
	$(Q)$(ASAN_CC) $(ASAN_LDFLAGS) -o $$@ $$(filter %.o %.a,$$^) -lcmocka $(LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rules,$(t))))

UNIT_MUSL := $(foreach t,$(UNIT_TESTS),$(BIN)/unit-musl/test_$(t))
UNIT_ASAN := $(foreach t,$(UNIT_TESTS),$(BIN)/unit-asan/test_$(t))

test-unit-musl: $(UNIT_MUSL)
	$(Q)tests/run-unit.sh musl $(UNIT_MUSL)

test-unit-asan: $(UNIT_ASAN)
	$(Q)tests/run-unit.sh asan $(UNIT_ASAN)

test-unit: test-unit-musl test-unit-asan

# ---- image -----------------------------------------------------------------

KERNEL_STAMP := $(KERNEL_DIR)/.fetched

kernel: $(KERNEL_STAMP)

$(KERNEL_STAMP): image/fetch-kernel.sh deps/sources.lock deps/lock.sh | bootstrap
	$(Q)image/fetch-kernel.sh $(KERNEL_DIR)
	$(Q)touch $@

image: $(IMAGE)

$(IMAGE): $(GUEST_BINS) $(KERNEL_STAMP) image/mkinitramfs.sh image/modules.list deps/sources.lock \
          image/resolve-modules.sh
	$(Q)image/mkinitramfs.sh --init $(BIN)/warden-init --supervisor $(BIN)/warden-supervisor \
	    --kernel-dir $(KERNEL_DIR) --output $@

# The Debian golden image of the demo and the escape battery: a bookworm
# minbase tar with python3 (image/debian-rootfs.sh; mmdebstrap from
# deb.debian.org, cached by its package list) made into an image by
# `warden image build` from the image above.
ROOTFS_TAR   := $(BUILD)/rootfs/debian-python.tar
DEBIAN_IMAGE := $(BUILD)/images/debian-python

$(ROOTFS_TAR): image/debian-rootfs.sh | bootstrap
	$(Q)image/debian-rootfs.sh $@

$(DEBIAN_IMAGE)/manifest.json: $(ROOTFS_TAR) $(IMAGE) $(HOST_BINS) $(KERNEL_STAMP)
	@echo "  IMAGE   $(DEBIAN_IMAGE)"
	$(Q)rm -rf $(DEBIAN_IMAGE)
	$(Q)mkdir -p $(dir $(DEBIAN_IMAGE))
	$(Q)$(BIN)/warden image build --rootfs $(ROOTFS_TAR) --name debian-python \
	    --kernel $(KERNEL_DIR) --base $(IMAGE) --output $(DEBIAN_IMAGE) 2>$(DEBIAN_IMAGE).log || \
	    { tail -n 5 $(DEBIAN_IMAGE).log >&2; exit 1; }

# ---- tests -----------------------------------------------------------------

test-init: $(GUEST_BINS) $(TEST_GUEST_BINS)
	$(Q)tests/init/run.sh $(BIN)

test-vm: $(IMAGE) $(TEST_GUEST_BINS) $(HOST_BINS)
	$(Q)tests/vm/run.sh $(BIN) $(KERNEL_DIR) $(IMAGE)

test-run: $(IMAGE) $(HOST_BINS) $(SANDBOX_TEST_BINS)
	$(Q)tests/run/run.sh $(BIN) $(KERNEL_DIR) $(IMAGE)

test-sandbox: $(HOST_BINS) $(SANDBOX_TEST_BINS) $(SANDBOX_TOOL_BINS) $(BIN)/tests/audit/flood \
              $(BIN)/tests/audit/execlong
	$(Q)tests/sandbox/run.sh $(BIN)

test-egress: $(HOST_BINS) $(EGRESS_TEST_BINS) $(BIN)/tests/audit/fdcut $(DEBIAN_IMAGE)/manifest.json
	$(Q)tests/egress/run.sh $(BIN) $(DEBIAN_IMAGE)

test-escape: $(IMAGE) $(HOST_BINS) $(ESCAPE_BINS) $(DEBIAN_IMAGE)/manifest.json
	$(Q)tests/escape/run.sh $(BIN) $(KERNEL_DIR) $(IMAGE) $(DEBIAN_IMAGE)

test-audit: $(IMAGE) $(HOST_BINS) $(AUDIT_TEST_BINS)
	$(Q)tests/audit/run.sh $(BIN) $(KERNEL_DIR) $(IMAGE)

test-repro: $(GUEST_BINS) $(KERNEL_STAMP)
	$(Q)tests/image/repro.sh $(BIN) $(KERNEL_DIR)

test-image-tool: $(IMAGE) $(HOST_BINS) $(ROOTFS_TAR)
	$(Q)tests/image/tool.sh $(BIN) $(KERNEL_DIR) $(IMAGE) $(ROOTFS_TAR)
test-image-boot: $(GUEST_BINS) $(KERNEL_STAMP) $(BIN)/tests/image/rootcheck
	$(Q)tests/image/boot.sh $(BIN) $(KERNEL_DIR)
test-image-run: $(IMAGE) $(HOST_BINS) $(ROOTFS_TAR)
	$(Q)tests/image/run.sh $(BIN) $(KERNEL_DIR) $(IMAGE) $(ROOTFS_TAR)

FUZZ_SECONDS ?= 10

test-fuzz: $(DEPS_GLIBC_STAMP) | bootstrap
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS)

test-deps: $(DEPS_STAMP)
	$(Q)tests/deps/pins.sh

test: bootstrap
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run-all.sh "$(MAKE) --no-print-directory" test-unit-musl test-unit-asan test-init \
	    test-deps test-repro test-image-tool test-image-boot test-image-run test-vm test-run \
	    test-sandbox test-egress test-escape test-audit test-fuzz

demo: $(DEBIAN_IMAGE)/manifest.json $(HOST_BINS)
	$(Q)scripts/demo.sh $(BIN) $(DEBIAN_IMAGE)

bench: $(GUEST_BINS) $(HOST_BINS) $(TEST_GUEST_BINS) $(BENCH_BINS) $(AUDIT_TEST_BINS) $(IMAGE) \
       $(SANDBOX_TEST_BINS) $(SANDBOX_TOOL_BINS)
	$(Q)bench/run.sh $(BIN) $(KERNEL_DIR) $(IMAGE)

# ---- code hygiene ----------------------------------------------------------

C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
SH_SOURCES = $(shell git ls-files '*.sh' .ci/run 2>/dev/null)

lint: $(TOOLCHAIN)
	@echo "  STRUCTURE (layers, include circles, the error convention)"
	$(Q)scripts/lint-structure.sh
	@echo "  CPPCHECK"
	$(Q)cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
	    --inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE $(C_SOURCES)
	@echo "  TIDY"
	$(Q)clang-tidy --quiet $(filter %.c,$(C_SOURCES)) -- $(STD) -I$(DEPS_MUSL)/include 2>/dev/null
	@echo "  SHELLCHECK"
	$(Q)shellcheck -x $(SH_SOURCES)
	@echo "  FORMAT"
	$(Q)clang-format --dry-run -Werror $(C_SOURCES)

fmt:
	$(Q)clang-format -i $(C_SOURCES)

# ---- install and clean -----------------------------------------------------

install: $(GUEST_BINS) $(HOST_BINS) $(IMAGE)
	install -d $(DESTDIR)$(PREFIX)/lib/warden $(DESTDIR)$(PREFIX)/share/warden
	install -m 0755 $(GUEST_BINS) $(DESTDIR)$(PREFIX)/lib/warden/
	$(if $(HOST_BINS),install -d $(DESTDIR)$(PREFIX)/bin && install -m 0755 $(HOST_BINS) $(DESTDIR)$(PREFIX)/bin/)
	install -m 0644 $(IMAGE) $(IMAGE_DIR)/manifest $(DESTDIR)$(PREFIX)/share/warden/

clean:
	rm -rf $(BIN) $(MUSL_OBJ) $(ASAN_OBJ) $(IMAGE_DIR) $(BUILD)/tmp

distclean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/musl $(BUILD)/asan -name '*.d' 2>/dev/null)
