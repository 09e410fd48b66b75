# remediate: plain GNU make + pkg-config.
#
#   make            build build/remediate
#   make test       install missing Debian test packages, build, run every test
#                   (unit, unit under ASan+UBSan, a subset under valgrind, e2e)
#   make demo       install missing Debian packages, build, replay the seed scenario
#   make image      the OCI image (no Docker daemon): build/image/
#   make deploy     regenerate deploy/'s derived files (RBAC, PrometheusRule)
#
# Each folder under src/ is one pipeline stage.  Its module.mk names the
# stages it links against (NAME_DEPS), so a unit test links exactly the
# module it tests and what that module uses, nothing more.

CC      ?= cc
V       ?= 0
ifeq ($(V),0)
Q       := @
quiet    = @printf '  %-6s %s\n' $(1) $(2);
else
Q       :=
quiet    =
endif
PKGS    := libcurl libmicrohttpd jansson yaml-0.1 sqlite3 libpq openssl tre libgit2
BUILD   ?= build

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
           -Wundef -Wformat=2
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
           -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lm

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GITREV  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CFLAGS  += -DREMEDIATE_VERSION='"$(VERSION)"' -DREMEDIATE_GITREV='"$(GITREV)"'

MODULES := $(patsubst src/%/module.mk,%,$(wildcard src/*/module.mk))
include $(wildcard src/*/module.mk)

srcs_of  = $(wildcard src/$(1)/*.c)
objs_of  = $(patsubst %.c,$(2)/%.o,$(call srcs_of,$(1)))
# the objects a module needs: its own and those of its declared deps
mod_objs = $(sort $(foreach m,$(1) $($(1)_DEPS),$(call objs_of,$(m),$(2))))

ALL_OBJS := $(foreach m,$(MODULES),$(call objs_of,$(m),$(BUILD)))

.PHONY: all test unit unit-san unit-valgrind e2e e2e-san e2e-tsan demo clean deps lint fmt bench \
        fuzz deploy image
all: $(BUILD)/remediate

# The two objects that print the version and revision (`version`, the
# remediate_build_info metric) depend on a stamp rewritten only when either
# changes: otherwise an incremental build after a commit kept printing the
# revision of the build before.
REV_STAMP := $(BUILD)/version-stamp
$(shell mkdir -p $(BUILD) && \
    [ "$$(cat $(REV_STAMP) 2>/dev/null)" = "$(VERSION) $(GITREV)" ] || \
    echo "$(VERSION) $(GITREV)" > $(REV_STAMP))
$(foreach b,$(BUILD) $(BUILD)-san $(BUILD)-tsan,\
    $(b)/src/cmd/version.o $(b)/src/metrics/remediate.o): $(REV_STAMP)

$(BUILD)/remediate: $(ALL_OBJS) $(BUILD)/src/main.o
	$(call quiet,LINK,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# the daemon itself under ASan+UBSan, for the end-to-end tests (e2e-san)
$(BUILD)-san/remediate: $(foreach m,$(MODULES),$(call objs_of,$(m),$(BUILD)-san)) \
                        $(BUILD)-san/src/main.o
	$(call quiet,LINK,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# --- unit tests: tests/unit/test_MOD.c links module MOD and its deps -------
UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))

define unit_rule
$(BUILD)/tests/test_$(1): tests/unit/test_$(1).c $(call mod_objs,$(1),$(BUILD))
	@mkdir -p $$(dir $$@)
	$$(call quiet,LINK,$$@)$$(CC) $$(CFLAGS) $$(LDFLAGS) -Itests/unit -o $$@ $$^ $$(LDLIBS)
$(BUILD)-san/tests/test_$(1): tests/unit/test_$(1).c $(call mod_objs,$(1),$(BUILD)-san)
	@mkdir -p $$(dir $$@)
	$$(call quiet,LINK,$$@)$$(CC) $$(CFLAGS) $$(LDFLAGS) -Itests/unit -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

# --- fuzz corpora replayed as unit tests: fuzz/MOD_fuzz.c links module MOD -
FUZZ_TARGETS := $(patsubst fuzz/%_fuzz.c,%,$(wildcard fuzz/*_fuzz.c))
include fuzz/fuzz.mk
fuzz_objs = $(sort $(call mod_objs,$(1),$(2)) $(foreach m,$(fuzz_$(1)_EXTRA),$(call objs_of,$(m),$(2))))

define fuzz_rule
$(BUILD)/tests/test_fuzz-$(1): fuzz/$(1)_fuzz.c fuzz/replay.c $(call fuzz_objs,$(1),$(BUILD))
	@mkdir -p $$(dir $$@)
	$$(call quiet,LINK,$$@)$$(CC) $$(CFLAGS) $$(LDFLAGS) -DFUZZ_CORPUS='"fuzz/corpus/$(1)"' -o $$@ $$^ $$(LDLIBS)
$(BUILD)-san/tests/test_fuzz-$(1): fuzz/$(1)_fuzz.c fuzz/replay.c $(call fuzz_objs,$(1),$(BUILD)-san)
	@mkdir -p $$(dir $$@)
	$$(call quiet,LINK,$$@)$$(CC) $$(CFLAGS) $$(LDFLAGS) -DFUZZ_CORPUS='"fuzz/corpus/$(1)"' -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

UNIT_ALL := $(UNIT_TESTS) $(addprefix fuzz-,$(FUZZ_TARGETS))

$(BUILD)-san/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC-SAN,$<)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
$(BUILD)-san/%: CFLAGS += $(SANFLAGS)
$(BUILD)-san/%: LDFLAGS += -fsanitize=address,undefined

# ThreadSanitizer: a tree of its own (it excludes ASan), for e2e-tsan
TSANFLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
$(BUILD)-tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC-TSAN,$<)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)-tsan/%: CFLAGS += $(TSANFLAGS)
$(BUILD)-tsan/%: LDFLAGS += -fsanitize=thread
$(BUILD)-tsan/remediate: $(foreach m,$(MODULES),$(call objs_of,$(m),$(BUILD)-tsan)) \
                         $(BUILD)-tsan/src/main.o
	$(call quiet,LINK,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(addprefix $(BUILD)/tests/test_,$(UNIT_ALL))
	@tests/run-unit $(BUILD)/tests $(UNIT_ALL)

unit-san: $(addprefix $(BUILD)-san/tests/test_,$(UNIT_ALL))
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    tests/run-unit $(BUILD)-san/tests $(UNIT_ALL)

# valgrind's memcheck sees what ASan cannot: reads of uninitialised bytes
# (an empty file's buffer) and misuse inside the uninstrumented libraries
# (jansson, libyaml).  The whole suite takes ~7 minutes under it on a
# 2-core machine, so `make test` runs the tests of the stages that parse
# outside input (files, manifests, requests, responses, templates) and the
# fuzz corpora, 1 to 2 minutes; `make unit-valgrind VG_TESTS='$$(UNIT_ALL)'`
# runs everything.  Leaks are left to ASan (unit-san).
VG_TESTS ?= util conf webhook http prom signal sensor kube record daemon \
            guard action engine cluster cluster_decode quantity page \
            fuzz-conf fuzz-jp fuzz-webhook fuzz-cluster fuzz-util
VALGRIND := valgrind -q --tool=memcheck --error-exitcode=99 \
            --track-origins=yes --leak-check=no

unit-valgrind: $(addprefix $(BUILD)/tests/test_,$(VG_TESTS))
	@UNIT_WRAP="$(VALGRIND)" tests/run-unit $(BUILD)/tests $(VG_TESTS)

e2e: $(BUILD)/remediate
	@tests/run-e2e $(BUILD)/remediate

# The end-to-end tests against the daemon built under ASan+UBSan: memory
# errors and undefined behaviour in the threaded paths (HTTP server, watch
# threads, intake committer, audit writer, leader election) that only the
# real binary reaches.  Several times slower than e2e, so not part of
# `make test`; E2E='tests/e2e/test_x.py ...' picks files.  An ASan report fails the test
# that was running (tests/e2e/conftest.py reads the log directory); GCC's
# libubsan ignores log_path next to libasan, so a UBSan report goes to the
# binary's stderr and halt_on_error stops it there (exit 1).
SANLOGS := $(abspath $(BUILD)-san/e2e-logs)
e2e-san: $(BUILD)-san/remediate
	@rm -rf $(SANLOGS) && mkdir -p $(SANLOGS)
	@REMEDIATE_SAN_LOGS=$(SANLOGS) \
	    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:log_path=$(SANLOGS)/asan \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    tests/run-e2e $(BUILD)-san/remediate $(E2E)

# The same under ThreadSanitizer (slower still: pick threaded files with
# E2E=...).  A race report fails the test that was running.  tests/tsan.supp
# says what is suppressed and why.
TSANLOGS := $(abspath $(BUILD)-tsan/e2e-logs)
e2e-tsan: $(BUILD)-tsan/remediate
	@rm -rf $(TSANLOGS) && mkdir -p $(TSANLOGS)
	@REMEDIATE_SAN_LOGS=$(TSANLOGS) \
	    TSAN_OPTIONS=log_path=$(TSANLOGS)/tsan:suppressions=$(abspath tests/tsan.supp) \
	    tests/run-e2e $(BUILD)-tsan/remediate $(E2E)

test:
	@scripts/install-deps --test
	@$(MAKE) --no-print-directory all
	@tests/run-all $(MAKE)

demo:
	@scripts/install-deps
	@$(MAKE) --no-print-directory all
	@scripts/demo $(BUILD)/remediate

deps:
	@scripts/install-deps

deploy: $(BUILD)/remediate
	@scripts/deploy-gen $(BUILD)/remediate

image: $(BUILD)/remediate
	@scripts/oci-image $(BUILD)/remediate $(BUILD)/image

lint:
	@scripts/lint

bench: $(BUILD)/remediate
	@bench/run-all $(BUILD)/remediate

clean:
	rm -rf $(BUILD) $(BUILD)-san $(BUILD)-tsan $(BUILD)-fuzz

-include $(shell find $(BUILD) $(BUILD)-san $(BUILD)-tsan -name '*.d' 2>/dev/null)
