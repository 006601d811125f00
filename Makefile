# ehttp — build, test, fuzz, bench and package.
#
#   make            build build/ehttp
#   make test       unit tests (Criterion) and integration tests (root, real servers)
#   make test-go-versions  ehttp offsets, and the traceparent read from the Header map, on
#                   every Go release Debian ships, every variant
#   make test-vm    integration tests inside Debian's 5.10, 6.1 and 6.12 kernels (qemu)
#   make fuzz       libFuzzer harnesses for every parser, FUZZ_SECONDS each
#   make bench      benchmarks (figures on stdout, no pass/fail on timing); one or some
#                   with BENCH="tests/bench/bench_propagate.sh ..."
#   make demo       the README's main job
#   make install    DESTDIR/PREFIX aware (make uninstall undoes it)
#   make man        man pages (build/man/*.8)
#   make deb        Debian package (build/deb/*.deb), with dpkg-buildpackage
#   make rpm        RPM package (build/rpm/RPMS/*/*.rpm), with rpmbuild
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
CPPFLAGS   += -D_GNU_SOURCE -DEHTTP_VERSION='"$(VERSION)"' -Ilib -I$(OUT)/skel -I$(OUT)/gen -Ibpf -MMD -MP
LDLIBS     += $(shell $(PKG_CONFIG) --libs libbpf jansson libnghttp2 2>/dev/null || echo -lbpf -ljansson -lnghttp2) -lelf -ldw -lZydis -lz -lm -lpthread \
              -lprotobuf-c -lcurl -lmicrohttpd

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Ibpf/vmlinux/$(ARCH) \
              -Wall -Wno-unused-function $(if $(filter 1,$(WERROR)),-Werror)

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,$(OUT)/skel/%.skel.h,$(BPF_SRCS))
LIB_SRCS   := $(sort $(wildcard lib/*.c lib/*/*.c))
# Protocol buffers: lib/*/NAME.proto -> $(OUT)/gen/NAME.pb-c.{c,h} (protoc-c).
PROTO_SRCS := $(sort $(wildcard lib/*/*.proto))
PROTO_HDRS := $(patsubst %.proto,$(OUT)/gen/%.pb-c.h,$(notdir $(PROTO_SRCS)))
PROTO_OBJS := $(patsubst %.proto,$(OUT)/gen/%.pb-c.o,$(notdir $(PROTO_SRCS)))
LIB_OBJS   := $(patsubst %.c,$(OUT)/%.o,$(LIB_SRCS)) $(PROTO_OBJS)
CMD_SRCS   := $(sort $(wildcard cmd/*.c))
CMD_OBJS   := $(patsubst %.c,$(OUT)/%.o,$(CMD_SRCS))
LIBEHTTP   := $(OUT)/libehttp.a
BIN        := $(OUT)/ehttp

UNIT_SRCS  := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN   := $(OUT)/tests/unit-tests

FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/*_fuzz.c))
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
# Parsers are pure and small: the fuzz build compiles only the lib/ sources a harness
# names in its first line ("// fuzz-sources: lib/a.c lib/b.c"; $(OUT) stands for the
# build directory, for generated sources).
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -std=gnu11 -D_GNU_SOURCE -DEHTTP_VERSION='"$(VERSION)"' -Ilib -Ibpf -I$(OUT)/gen

# Man pages: docs/man/NAME.rst -> build/man/NAME.8. Sources are staged in build/man/src
# next to what is generated from them (the command list of ehttp(8)), so that
# `.. include::` finds both the shared docs/man/*.inc and the generated files.
MAN_SRCS   := $(sort $(wildcard docs/man/*.rst))
MAN_CMDS   := $(filter docs/man/ehttp-%.rst,$(MAN_SRCS))
MAN_INCS   := $(patsubst docs/man/%,$(OUT)/man/src/%,$(wildcard docs/man/*.inc)) \
              $(OUT)/man/src/commands.inc $(OUT)/man/src/see-also.inc
MAN_PAGES  := $(patsubst docs/man/%.rst,$(OUT)/man/%.8,$(MAN_SRCS))


.PHONY: all bpf deps test test-go-versions test-vm unit integration fuzz bench demo man install uninstall clean vmlinux deb rpm FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BIN)

$(BIN): $(CMD_OBJS) $(LIBEHTTP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(LIBEHTTP) $(LDLIBS)

$(LIBEHTTP): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Every C object may include a skeleton or a protobuf header; generate them all first
# (order-only).
$(OUT)/%.o: %.c | $(SKELS) $(PROTO_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/gen/%.pb-c.c $(OUT)/gen/%.pb-c.h: lib/export/%.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)protoc-c --c_out=$(@D) -I$(<D) $<

$(OUT)/gen/%.pb-c.o: $(OUT)/gen/%.pb-c.c
	$(call msg,CC,$@)
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

# `make test` checks three Go releases; this every one tests/go_toolchains.sh can fetch,
# in every build variant, arm64 included (cold: about a minute per release and variant
# family to build the standard library; cached under EHTTP_CACHE after).
GO_VERSIONS ?= $(shell bash -c '. tests/go_toolchains.sh && echo $$GO_VERSIONS_ALL')
GO_VARIANTS ?= $(shell bash -c '. tests/go_toolchains.sh && echo $$GO_VARIANTS')
test-go-versions: deps $(BIN)
	EHTTP_GO_VERSIONS="$(GO_VERSIONS)" EHTTP_GO_VARIANTS="$(GO_VARIANTS)" \
		tests/integration/run.sh tests/integration/test_offsets_versions.sh \
		tests/integration/test_go_headers.sh

# The kernel matrix (tests/vm/run.sh): KERNELS="5.10 6.12-lockdown" runs some only.
test-vm: deps all
	tests/vm/run.sh $(KERNELS)

# ---- fuzzing ---------------------------------------------------------------------------
$(OUT)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) | $(PROTO_HDRS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -o $@ $< $$(sed -n '1s|^// fuzz-sources:||p' $< | sed 's|$$(OUT)|$(OUT)|g') $(LDLIBS)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# ---- benchmarks and demo ---------------------------------------------------------------
bench: all
	tests/bench/run.sh $(BENCH)

demo: deps all
	tests/demo.sh

# ---- documentation and install ---------------------------------------------------------
# Pages get the version for their footer (":Version:"), unless they set one.
$(OUT)/man/src/%.rst: docs/man/%.rst VERSION
	$(Q)mkdir -p $(@D)
	$(Q)if grep -q '^:Version:' $<; then cp $< $@; \
	else sed '/^:Manual section:/a :Version: ehttp $(VERSION)' $< > $@; fi

$(OUT)/man/src/%.inc: docs/man/%.inc
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

# The list of command pages, rewritten only when it changes (a page added or removed).
$(OUT)/man/src/pages.list: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(MAN_CMDS)' | cmp -s - $@ || echo '$(MAN_CMDS)' > $@

# Regenerated when a command page is added or removed, or its subtitle changes.
$(OUT)/man/src/commands.inc $(OUT)/man/src/see-also.inc: $(MAN_CMDS) $(OUT)/man/src/pages.list docs/man/index.sh
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)docs/man/index.sh $(basename $(@F)) $(MAN_CMDS) > $@

$(OUT)/man/%.8: $(OUT)/man/src/%.rst $(MAN_INCS)
	$(call msg,MAN,$@)
	$(Q)rst2man --exit-status=2 $< > $@

man: $(MAN_PAGES)

# The Debian and RPM packages install through this rule too. Docs: the README and
# docs/*.md (formats, design).
install: $(BIN) $(MAN_PAGES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/ehttp
	$(Q)install -d $(DESTDIR)$(MANDIR)/man8
	$(Q)install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/
	$(Q)install -D -m 0644 packaging/bash-completion/ehttp $(DESTDIR)$(BASHCOMPDIR)/ehttp
	$(Q)install -d $(DESTDIR)$(DOCDIR)
	$(Q)install -m 0644 README.md $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/ehttp $(DESTDIR)$(BASHCOMPDIR)/ehttp \
		$(patsubst $(OUT)/man/%,$(DESTDIR)$(MANDIR)/man8/%,$(MAN_PAGES))
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)

# ---- packages --------------------------------------------------------------------------
# Both are built from one source tarball of this tree (uncommitted changes included),
# which is rewritten only when its contents change: an unchanged tree is not rebuilt.
DIST       := ehttp-$(VERSION)
TARBALL    := $(OUT)/$(DIST).tar.gz
PKG_LOG     = $(if $(filter 1,$(V)),,>$(1) 2>&1 || { tail -n 40 $(1); exit 1; })

$(TARBALL): FORCE
	$(Q)packaging/dist.sh $@ $(VERSION)

# Debian wants debian/ at the top of the source: unpack the tarball under build/deb,
# put packaging/deb there as debian/, build unsigned binary packages.
$(OUT)/deb/stamp: $(TARBALL)
	$(call msg,DEB,$(OUT)/deb)
	$(Q)v=$$(dpkg-parsechangelog -l packaging/deb/changelog -S Version); [ "$$v" = "$(VERSION)" ] || \
		{ echo "Error: packaging/deb/changelog is at $$v, VERSION is $(VERSION)" >&2; exit 1; }
	$(Q)rm -rf $(OUT)/deb && mkdir -p $(OUT)/deb
	$(Q)tar -C $(OUT)/deb -xzf $(TARBALL)
	$(Q)cp -a $(OUT)/deb/$(DIST)/packaging/deb $(OUT)/deb/$(DIST)/debian
	$(Q)cd $(OUT)/deb/$(DIST) && dpkg-buildpackage -b -us -uc -j2 $(call PKG_LOG,../build.log)
	$(Q)touch $@

deb: $(OUT)/deb/stamp

# rpmbuild resolves BuildRequires against the RPM database, which is empty on Debian:
# --nodeps (the Debian build dependencies above are the same libraries and tools).
# On a Debian host, also: the compiler flags are Debian's hardened ones (plain rpm's
# optflags are only -O2 -g), and brp-compress, which needs bash but says #!/bin/sh,
# runs under bash so that man pages are compressed.
RPM_HOST_DEFS = $(if $(wildcard /usr/bin/dpkg-buildflags),\
	--define "optflags $$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS) $$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS)" \
	--define "build_ldflags $$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS)" \
	--define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}')
$(OUT)/rpm/stamp: $(TARBALL) packaging/rpm/ehttp.spec
	$(call msg,RPM,$(OUT)/rpm)
	$(Q)v=$$(rpmspec -q --srpm --qf '%{VERSION}' packaging/rpm/ehttp.spec 2>/dev/null); [ "$$v" = "$(VERSION)" ] || \
		{ echo "Error: packaging/rpm/ehttp.spec is at $$v, VERSION is $(VERSION)" >&2; exit 1; }
	$(Q)rm -rf $(OUT)/rpm && mkdir -p $(OUT)/rpm/SOURCES
	$(Q)cp $(TARBALL) $(OUT)/rpm/SOURCES/
	$(Q)rpmbuild -bb --nodeps --define "_topdir $(abspath $(OUT)/rpm)" $(RPM_HOST_DEFS) packaging/rpm/ehttp.spec \
		$(call PKG_LOG,$(OUT)/rpm/build.log)
	$(Q)touch $@

rpm: $(OUT)/rpm/stamp

clean:
	rm -rf $(OUT)

FORCE:

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d)
