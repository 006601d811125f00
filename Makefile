# ehttp — build, test, fuzz, bench and package.
#
#   make            build build/ehttp
#   make test       unit tests (Criterion) and integration tests (root, real servers)
#   make fuzz       libFuzzer harnesses for every parser, FUZZ_SECONDS each
#   make bench      benchmarks (figures on stdout, no pass/fail on timing)
#   make demo       the README's main job
#   make install    DESTDIR/PREFIX aware
#
# V=1 shows commands; WERROR=1 turns warnings into errors (CI sets it).

OUT        ?= build
ARCH       ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION    ?= $(shell cat VERSION)
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/ehttp
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
FUZZ_SECONDS ?= 30

CC         ?= cc
CLANG      ?= clang
BPFTOOL    ?= bpftool
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation $(if $(filter 1,$(WERROR)),-Werror)
CPPFLAGS   += -D_GNU_SOURCE -DEHTTP_VERSION='"$(VERSION)"' -Ilib -I$(OUT)/skel -Ibpf -MMD -MP
LDLIBS     += $(shell $(PKG_CONFIG) --libs libbpf jansson 2>/dev/null || echo -lbpf -ljansson) -lelf -ldw -lZydis -lz -lm -lpthread

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Ibpf/vmlinux/$(ARCH) \
              -Wall -Wno-unused-function $(if $(filter 1,$(WERROR)),-Werror)

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,$(OUT)/skel/%.skel.h,$(BPF_SRCS))
LIB_SRCS   := $(sort $(wildcard lib/*.c lib/*/*.c))
LIB_OBJS   := $(patsubst %.c,$(OUT)/%.o,$(LIB_SRCS))
CMD_SRCS   := $(sort $(wildcard cmd/*.c))
CMD_OBJS   := $(patsubst %.c,$(OUT)/%.o,$(CMD_SRCS))
LIBEHTTP   := $(OUT)/libehttp.a
BIN        := $(OUT)/ehttp

UNIT_SRCS  := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN   := $(OUT)/tests/unit-tests

FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/*_fuzz.c))
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
# Parsers are pure and small: the fuzz build compiles only the lib/ sources a harness
# names in its first line ("// fuzz-sources: lib/a.c lib/b.c").
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -std=gnu11 -D_GNU_SOURCE -DEHTTP_VERSION='"$(VERSION)"' -Ilib -Ibpf

MAN_SRCS   := $(sort $(wildcard docs/man/*.rst))
MAN_PAGES  := $(patsubst docs/man/%.rst,$(OUT)/man/%.8,$(MAN_SRCS))


.PHONY: all bpf deps test unit integration fuzz bench demo man install clean vmlinux deb rpm
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BIN)

$(BIN): $(CMD_OBJS) $(LIBEHTTP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(LIBEHTTP) $(LDLIBS)

$(LIBEHTTP): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Every C object may include a skeleton; generate them all first (order-only).
$(OUT)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) bpf/vmlinux/$(ARCH)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/skel/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# BPF objects and skeletons only: `make bpf ARCH=arm64 OUT=build/arm64` cross-builds them.
bpf: $(BPF_OBJS) $(SKELS)

# Regenerate the checked-in per-architecture vmlinux.h (needs network access to Debian).
vmlinux:
	bpf/vmlinux/regen.sh

# ---- tests -----------------------------------------------------------------------------
deps:
	$(Q)sh packaging/deps.sh

$(UNIT_BIN): $(UNIT_SRCS) $(LIBEHTTP)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(UNIT_SRCS) $(LIBEHTTP) -lcriterion $(LDLIBS)

unit: $(UNIT_BIN)
	$(UNIT_BIN) --jobs 2

integration: $(BIN)
	tests/integration/run.sh

test: deps
	$(MAKE) all $(UNIT_BIN)
	$(MAKE) unit
	$(MAKE) integration

# ---- fuzzing ---------------------------------------------------------------------------
$(OUT)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -o $@ $< $$(sed -n '1s|^// fuzz-sources:||p' $<) $(LDLIBS)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# ---- benchmarks and demo ---------------------------------------------------------------
bench: all
	tests/bench/run.sh

demo: deps all
	tests/demo.sh

# ---- documentation and install ---------------------------------------------------------
$(OUT)/man/%.8: docs/man/%.rst
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rst2man --exit-status=2 $< > $@

man: $(MAN_PAGES)

install: $(BIN) $(MAN_PAGES)
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/ehttp
	install -d $(DESTDIR)$(MANDIR)/man8
	$(if $(MAN_PAGES),install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/)
	$(if $(wildcard packaging/bash-completion/ehttp),install -D -m 0644 packaging/bash-completion/ehttp $(DESTDIR)$(BASHCOMPDIR)/ehttp)
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

clean:
	rm -rf $(OUT)

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)
