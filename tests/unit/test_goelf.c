// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Go binary reader's pure pieces on synthesized bytes, built from the documented
 * layouts: pclntab generations this machine's Go cannot produce (1.2, 1.16, 1.20+), the
 * pre-1.18 build info pointer form, modinfo, version strings, return scanning, and whole
 * tiny ELF images without section headers read end to end.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "go/goelf_int.h"

static void st16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void st32(uint8_t *p, uint32_t v) { st16(p, v); st16(p + 2, v >> 16); }
static void st64(uint8_t *p, uint64_t v) { st32(p, v); st32(p + 4, v >> 32); }
static void stptr(uint8_t *p, uint64_t v, unsigned int ps)
{
	if (ps == 8)
		st64(p, v);
	else
		st32(p, (uint32_t)v);
}

/* ---- uvarint ------------------------------------------------------------------------- */

Test(goelf_uvarint, decodes_and_rejects_truncation)
{
	const uint8_t one[] = { 0x05 }, two[] = { 0xac, 0x02 }, cut[] = { 0x80, 0x80 };
	uint64_t v = 0;

	cr_expect_eq(uvarint(one, one + 1, &v), 1);
	cr_expect_eq(v, 5);
	cr_expect_eq(uvarint(two, two + 2, &v), 2);
	cr_expect_eq(v, 300);
	cr_expect_eq(uvarint(cut, cut + 2, &v), 0, "a varint that runs off the end is malformed");
	cr_expect_eq(uvarint(two, two, &v), 0);
}

/* ---- pclntab ------------------------------------------------------------------------- */

struct fn {
	uint64_t entry;
	const char *name;
};

/*
 * Lay out a pclntab of generation @gen (pointer size @ps) for @n functions ending at @end,
 * as the linker does (src/debug/gosym/pclntab.go). Returns its size.
 */
static size_t build_pclntab(uint8_t *b, size_t cap, enum pcln_gen gen, unsigned int ps,
			    uint64_t text_start, const struct fn *f, size_t n, uint64_t end)
{
	uint32_t magic = gen == PCLN_12 ? 0xfffffffb : gen == PCLN_116 ? 0xfffffffa
			 : gen == PCLN_118 ? 0xfffffff0 : 0xfffffff1;
	size_t hdr = gen == PCLN_12 ? 8 + ps : 8 + (gen == PCLN_116 ? 7 : 8) * ps;
	size_t fsz = gen >= PCLN_118 ? 4 : ps; /* functab field size */
	size_t names = hdr, functab, funcs, i, pos;
	size_t name_off[8];

	memset(b, 0, cap);
	st32(b, magic);
	b[6] = gen == PCLN_12 && ps == 4 ? 4 : 1;
	b[7] = ps;
	stptr(b + 8, n, ps);
	/* names first (1.2 has them anywhere: offsets are from the table start) */
	if (gen == PCLN_12)
		names = hdr + (2 * n + 1) * fsz;
	pos = names;
	for (i = 0; i < n; i++) {
		name_off[i] = pos - (gen == PCLN_12 ? 0 : names);
		strcpy((char *)b + pos, f[i].name);
		pos += strlen(f[i].name) + 1;
	}
	pos = (pos + 7) & ~(size_t)7;
	functab = gen == PCLN_12 ? hdr : pos;
	funcs = gen == PCLN_12 ? pos : functab + (2 * n + 1) * fsz;
	if (gen != PCLN_12) {
		stptr(b + 8 + 1 * ps, 0, ps); /* nfiles */
		if (gen >= PCLN_118) {
			stptr(b + 8 + 2 * ps, text_start, ps);
			stptr(b + 8 + 3 * ps, names, ps);
			stptr(b + 8 + 7 * ps, functab, ps);
		} else {
			stptr(b + 8 + 2 * ps, names, ps);
			stptr(b + 8 + 6 * ps, functab, ps);
		}
	}
	for (i = 0; i <= n; i++) {
		uint64_t entry = i < n ? f[i].entry : end;
		uint64_t rec = funcs + i * 16;
		/* funcoff: from the table start in 1.2, from the functab after */
		uint64_t funcoff = rec - (gen == PCLN_12 ? 0 : functab);

		if (gen >= PCLN_118)
			st32(b + functab + 2 * i * fsz, (uint32_t)(entry - text_start));
		else
			stptr(b + functab + 2 * i * fsz, entry, ps);
		if (i == n)
			break;
		if (gen >= PCLN_118) {
			st32(b + functab + (2 * i + 1) * fsz, (uint32_t)funcoff);
			st32(b + rec, (uint32_t)(entry - text_start));
			st32(b + rec + 4, (uint32_t)name_off[i]);
		} else {
			stptr(b + functab + (2 * i + 1) * fsz, funcoff, ps);
			stptr(b + rec, entry, ps);
			st32(b + rec + ps, (uint32_t)name_off[i]);
		}
	}
	cr_assert_leq(funcs + n * 16, cap);
	return funcs + n * 16;
}

static const struct fn three[] = {
	{ 0x401000, "main.main" },
	{ 0x401010, "net/http.serverHandler.ServeHTTP" },
	{ 0x401040, "runtime.goexit1" },
};

static void check_three(enum pcln_gen gen, unsigned int ps)
{
	uint8_t buf[1024];
	size_t len = build_pclntab(buf, sizeof(buf), gen, ps, 0x401000, three, 3, 0x401080);
	struct pclntab t;
	char err[128];
	uint64_t entry, end;
	const char *name;
	size_t i;

	cr_assert_eq(pclntab_parse(&t, buf, len, 0, err, sizeof(err)), 0, "gen %d: %s", gen, err);
	cr_expect_eq(t.gen, gen);
	cr_expect_eq(t.nfunc, 3);
	for (i = 0; i < 3; i++) {
		cr_assert(pclntab_func(&t, i, &entry, &end, &name), "gen %d func %zu", gen, i);
		cr_expect_eq(entry, three[i].entry, "gen %d func %zu entry", gen, i);
		cr_expect_eq(end, i < 2 ? three[i + 1].entry : 0x401080);
		cr_expect_str_eq(name, three[i].name);
	}
	cr_expect_not(pclntab_func(&t, 3, &entry, &end, &name), "the sentinel is not a function");
	/* every truncation is refused by parse, or by the lookup that would read past it */
	for (i = 0; i < len; i++) {
		size_t k;

		if (pclntab_parse(&t, buf, i, 0, err, sizeof(err)))
			continue;
		for (k = 0; k < 3; k++)
			(void)pclntab_func(&t, k, &entry, &end, &name);
	}
}

Test(goelf_pclntab, go1_2_to_1_15) { check_three(PCLN_12, 8); }
Test(goelf_pclntab, go1_2_32bit_pointers) { check_three(PCLN_12, 4); }
Test(goelf_pclntab, go1_16_and_1_17) { check_three(PCLN_116, 8); }
Test(goelf_pclntab, go1_18_and_1_19) { check_three(PCLN_118, 8); }
Test(goelf_pclntab, go1_20_and_later) { check_three(PCLN_120, 8); }

Test(goelf_pclntab, refuses_bad_headers)
{
	uint8_t buf[1024];
	size_t len = build_pclntab(buf, sizeof(buf), PCLN_118, 8, 0x401000, three, 3, 0x401080);
	struct pclntab t;
	char err[128];

	buf[0] = 0xfe;
	cr_expect_eq(pclntab_parse(&t, buf, len, 0, err, sizeof(err)), -1);
	cr_expect(strstr(err, "magic"), "%s", err);
	buf[0] = 0xf0;
	buf[7] = 3;
	cr_expect_eq(pclntab_parse(&t, buf, len, 0, err, sizeof(err)), -1, "pointer size 3");
	buf[7] = 8;
	st64(buf + 8, 1u << 30);
	cr_expect_eq(pclntab_parse(&t, buf, len, 0, err, sizeof(err)), -1, "function count beyond the table");
}

Test(goelf_pclntab, name_outside_the_table_is_refused)
{
	uint8_t buf[1024];
	size_t len = build_pclntab(buf, sizeof(buf), PCLN_120, 8, 0x401000, three, 3, 0x401080);
	struct pclntab t;
	char err[128];
	uint64_t entry, end, funcoff;
	const char *name;

	cr_assert_eq(pclntab_parse(&t, buf, len, 0, err, sizeof(err)), 0);
	funcoff = ld32(buf + t.functab + 4);
	st32(buf + t.funcdata + funcoff + 4, 0x7ffffff0);
	cr_expect_not(pclntab_func(&t, 0, &entry, &end, &name));
	st32(buf + t.funcdata + funcoff + 4, 0x80000000u);
	cr_expect_not(pclntab_func(&t, 0, &entry, &end, &name), "negative name offset");
}

/* ---- build info ---------------------------------------------------------------------- */

static const char sentinel_start[] = "\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
static const char sentinel_end[] = "\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";
static const char modtext[] = "path\texample.com/app\n"
			      "mod\texample.com/app\t(devel)\t\n"
			      "dep\tgolang.org/x/net\tv0.1.0\th1:abc=\n"
			      "=>\t../net\t(devel)\t\n"
			      "dep\tgoogle.golang.org/grpc\tv1.50.0\th1:def=\n"
			      "build\t-buildmode=exe\n"
			      "build\tCGO_ENABLED=0\n"
			      "build\tGOARCH=amd64\n"
			      "build\tGOEXPERIMENT=noregabi\n";

static size_t wrapped_modinfo(uint8_t *b)
{
	size_t n = strlen(modtext);

	memcpy(b, sentinel_start, 16);
	memcpy(b + 16, modtext, n);
	memcpy(b + 16 + n, sentinel_end, 16);
	return n + 32;
}

static size_t inline_buildinfo(uint8_t *b, const char *version)
{
	uint8_t mod[1024];
	size_t n = wrapped_modinfo(mod), pos = 32, vl = strlen(version);

	memset(b, 0, 32);
	memcpy(b, BUILDINFO_MAGIC, 14);
	b[14] = 8;
	b[15] = 2;
	b[pos++] = (uint8_t)vl;
	memcpy(b + pos, version, vl);
	pos += vl;
	b[pos++] = (uint8_t)(n | 0x80); /* two-byte uvarint: the text is over 127 bytes */
	b[pos++] = (uint8_t)(n >> 7);
	memcpy(b + pos, mod, n);
	return pos + n;
}

/* A flat memory for the pointer form: vaddr == BASE + index. */
#define MEM_BASE 0x500000
static uint8_t flat[4096];

static bool flat_ptr(void *ctx, uint64_t vaddr, uint64_t *out)
{
	if (vaddr < MEM_BASE || !in_bounds(vaddr - MEM_BASE, 8, sizeof(flat)))
		return false;
	*out = ld64(flat + (vaddr - MEM_BASE));
	return true;
}

static const uint8_t *flat_bytes(void *ctx, uint64_t vaddr, uint64_t len)
{
	if (vaddr < MEM_BASE || !in_bounds(vaddr - MEM_BASE, len, sizeof(flat)))
		return NULL;
	return flat + (vaddr - MEM_BASE);
}

static const struct gmem flat_mem = { NULL, flat_ptr, flat_bytes };

/* Old form: the header points at two Go string headers {ptr, len} in data. */
static size_t pointer_buildinfo(uint8_t *b, const char *version)
{
	size_t n;

	memset(b, 0, 32);
	memcpy(b, BUILDINFO_MAGIC, 14);
	b[14] = 8;
	b[15] = 0;
	st64(b + 16, MEM_BASE + 0x100); /* &runtime.buildVersion */
	st64(b + 24, MEM_BASE + 0x110); /* &runtime.modinfo */
	memset(flat, 0, sizeof(flat));
	strcpy((char *)flat + 0x200, version);
	st64(flat + 0x100, MEM_BASE + 0x200);
	st64(flat + 0x108, strlen(version));
	n = wrapped_modinfo(flat + 0x300);
	st64(flat + 0x110, MEM_BASE + 0x300);
	st64(flat + 0x118, n);
	return 32;
}

static void check_modinfo(const char *text)
{
	struct modinfo mi;

	cr_assert_eq(modinfo_parse(text, &mi), 0);
	cr_expect_str_eq(mi.main_path, "example.com/app");
	cr_assert(mi.has_main);
	cr_assert_eq(mi.nmods, 3);
	cr_expect_str_eq(mi.mods[0].path, "example.com/app");
	cr_expect_str_eq(mi.mods[1].path, "golang.org/x/net");
	cr_expect_str_eq(mi.mods[1].version, "v0.1.0");
	cr_expect_str_eq(mi.mods[1].sum, "h1:abc=");
	cr_assert_not_null(mi.mods[1].replace_path, "=> replaces the dep above it");
	cr_expect_str_eq(mi.mods[1].replace_path, "../net");
	cr_expect_null(mi.mods[2].replace_path);
	cr_assert_eq(mi.nsettings, 4);
	cr_expect_str_eq(mi.settings[0].key, "-buildmode");
	cr_expect_str_eq(mi.settings[0].value, "exe");
	cr_expect_str_eq(mi.settings[3].value, "noregabi");
	modinfo_free(&mi);
}

Test(goelf_buildinfo, inline_form_go1_18_and_later)
{
	uint8_t b[1024];
	size_t n = inline_buildinfo(b, "go1.21.0 X:boringcrypto");
	struct buildinfo bi;
	char err[128];

	cr_assert_eq(buildinfo_parse(b, n, NULL, &bi, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(bi.version, "go1.21.0 X:boringcrypto");
	cr_assert_not_null(bi.modinfo);
	cr_expect_str_eq(bi.modinfo, modtext, "sentinels stripped");
	check_modinfo(bi.modinfo);
	buildinfo_free(&bi);
	for (size_t i = 0; i < n; i++) /* every truncation fails cleanly or parses a prefix */
		if (!buildinfo_parse(b, i, NULL, &bi, err, sizeof(err)))
			buildinfo_free(&bi);
}

Test(goelf_buildinfo, pointer_form_before_go1_18)
{
	uint8_t b[64];
	size_t n = pointer_buildinfo(b, "go1.16.15");
	struct buildinfo bi;
	char err[128];

	cr_assert_eq(buildinfo_parse(b, n, &flat_mem, &bi, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(bi.version, "go1.16.15");
	cr_expect_str_eq(bi.modinfo, modtext);
	buildinfo_free(&bi);
	st64(b + 16, 0xdeadbeef);
	cr_expect_eq(buildinfo_parse(b, n, &flat_mem, &bi, err, sizeof(err)), -1, "dangling pointer");
	cr_expect(strstr(err, "outside"), "%s", err);
}

Test(goelf_buildinfo, refuses_big_endian_and_garbage)
{
	uint8_t b[1024];
	size_t n = inline_buildinfo(b, "go1.20");
	struct buildinfo bi;
	char err[128];

	b[15] |= 1;
	cr_expect_eq(buildinfo_parse(b, n, NULL, &bi, err, sizeof(err)), -1);
	cr_expect(strstr(err, "big-endian"), "%s", err);
	b[0] = 0;
	cr_expect_eq(buildinfo_parse(b, n, NULL, &bi, err, sizeof(err)), -1);
}

Test(goelf_version, strings_seen_in_the_wild)
{
	static const struct {
		const char *in, *out;
		int minor;
		bool release;
	} cases[] = {
		{ "go1.20", "go1.20", 20, true },
		{ "go1.21.0", "go1.21.0", 21, true },
		{ "go1.22rc1", "go1.22rc1", 22, true },
		{ "go1.26-devel_36863d6194 Tue Jan 1", "go1.26-devel_36863d6194", 26, true },
		{ "go1.19.8 X:nodwarf5", "go1.19.8", 19, true },
		{ "go1.16.4b7", "go1.16.4b7", 16, true },
		{ "devel +571d93e977 Tue", "devel", 0, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		int minor;

		cr_expect_eq(go_version_parse(cases[i].in, out, sizeof(out), &minor), cases[i].release,
			     "%s", cases[i].in);
		cr_expect_str_eq(out, cases[i].out);
		cr_expect_eq(minor, cases[i].minor, "%s", cases[i].in);
	}
}

/* ---- return instructions ------------------------------------------------------------- */

Test(goelf_returns, amd64_decodes_instead_of_grepping)
{
	static const uint8_t code[] = {
		0xb8, 0xc3, 0xc3, 0xc3, 0xc3,             /* mov eax, 0xc3c3c3c3 */
		0x48, 0x8d, 0x05, 0xc3, 0x00, 0x00, 0x00, /* lea rax, [rip+0xc3] */
		0xf3, 0x0f, 0x1e, 0xfa,                   /* endbr64 */
		0xc3,                                     /* ret           @16 */
		0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,       /* nopw */
		0xc2, 0x08, 0x00,                         /* ret 8         @23 */
		0xc5, 0xfd, 0x6f, 0xc3,                   /* vmovdqa ymm0, ymm3 (VEX) */
		0xf3, 0xc3,                               /* rep ret       @30 */
		0xcb,                                     /* far ret: not Go's */
		0xcc,                                     /* int3 padding */
	};
	uint64_t *r = NULL;
	size_t n = 0;

	cr_assert_eq(scan_returns(GOELF_ARCH_AMD64, code, sizeof(code), 0x1000, &r, &n), 0);
	cr_assert_eq(n, 3, "got %zu returns", n);
	cr_expect_eq(r[0], 0x1000 + 16);
	cr_expect_eq(r[1], 0x1000 + 23);
	cr_expect_eq(r[2], 0x1000 + 30);
	free(r);
}

Test(goelf_returns, arm64_words)
{
	uint8_t code[20];
	uint64_t *r = NULL;
	size_t n = 0;

	st32(code, 0xd65f03c0);      /* ret */
	st32(code + 4, 0xaa0103e0);  /* mov x0, x1 */
	st32(code + 8, 0xd65f0020);  /* ret x1 */
	st32(code + 12, 0xd61f0020); /* br x1: not a return */
	st32(code + 16, 0x00c3d65f); /* a misaligned look-alike */
	cr_assert_eq(scan_returns(GOELF_ARCH_ARM64, code, sizeof(code), 0x2000, &r, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_eq(r[0], 0x2000);
	cr_expect_eq(r[1], 0x2008);
	free(r);
}

Test(goelf_returns, branch_to_wrapped_function)
{
	static const uint8_t jmp[] = { 0x90, 0xe9, 0xfa, 0x0f, 0x00, 0x00 }; /* jmp +0xffa */
	uint8_t bl[4];

	cr_expect(code_branches_to(GOELF_ARCH_AMD64, jmp, sizeof(jmp), 0x1000, 0x1000 + 6 + 0xffa));
	cr_expect_not(code_branches_to(GOELF_ARCH_AMD64, jmp, sizeof(jmp), 0x1000, 0x1000));
	st32(bl, 0x97fffffe); /* bl -8 */
	cr_expect(code_branches_to(GOELF_ARCH_ARM64, bl, 4, 0x2008, 0x2000));
}

/* ---- whole images: tiny Go-shaped ELF files without section headers ------------------ */

#define IMG_SIZE 0x4000
#define TEXT 0x401000
#define RODATA 0x402000
#define DATA 0x403000

static uint8_t img[IMG_SIZE];

static void phdr(uint8_t *p, uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t size)
{
	st32(p, PT_LOAD);
	st32(p + 4, flags);
	st64(p + 8, off);
	st64(p + 16, vaddr);
	st64(p + 24, vaddr);
	st64(p + 32, size);
	st64(p + 40, size);
	st64(p + 48, 0x1000);
}

/* Three functions; the second holds a 0xc3 byte that is not a return. */
static const uint8_t text[] = {
	/* main.main @0 */ 0x55, 0x5d, 0xc3, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
	0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
	/* net/http.serverHandler.ServeHTTP @0x10 */ 0xb8, 0xc3, 0xc3, 0xc3, 0xc3, 0x74, 0x01,
	0xc3, 0x31, 0xc0, 0xc3,
};

/*
 * Runtime type descriptors (src/internal/abi/type.go) and the moduledata pointing at
 * them, for Go 1.@minor: struct main.T { A int; b int } reached from *main.T in the
 * typelinks. Names are uvarint-prefixed from 1.17 (a big-endian u16 before); field
 * offsets are offset<<1|embedded before 1.19.
 */
#define TYPES (RODATA + 0x200)
static size_t put_name(uint8_t *p, const char *s, uint8_t flags, int minor)
{
	size_t n = strlen(s);

	p[0] = flags;
	if (minor >= 17) {
		p[1] = (uint8_t)n;
		memcpy(p + 2, s, n);
		return n + 2;
	}
	p[1] = 0;
	p[2] = (uint8_t)n;
	memcpy(p + 3, s, n);
	return n + 3;
}

/*
 * Go 1.27 (cmd/link dodataSect): no typelinks/itablinks slices. The typelink descriptors
 * come first, from types+8 to types+typedesclen, each followed by what belongs to it
 * (uncommon part, fields); the itabs sit inline at types+itaboffset. Here: *main.T is
 * the one typelink, then main.T with its fields, int, an interface main.I, and one itab
 * (main.I, *main.T) that only types_itab_only counts: then it is the only root.
 */
static bool types_itab_only;

static void add_types_1_27(void)
{
	uint8_t *t = img + 0x2200;
	const uint64_t ptr = 0x08, st = 0x40, fields = 0xa0, intt = 0xd0, iface = 0x100,
		       imethods = 0x150, itab = 0x158, names = 0x180;
	uint64_t n_T, n_int, n_ptr, n_main, n_A, n_b, n_I, n_m, pos = names, md = 0x3900;

	n_T = pos; pos += put_name(t + pos, "main.T", 1, 27);
	n_int = pos; pos += put_name(t + pos, "int", 1, 27);
	n_ptr = pos; pos += put_name(t + pos, "*main.T", 1, 27);
	n_main = pos; pos += put_name(t + pos, "main", 0, 27);
	n_A = pos; pos += put_name(t + pos, "A", 1, 27);
	n_b = pos; pos += put_name(t + pos, "b", 0, 27);
	n_I = pos; pos += put_name(t + pos, "main.I", 1, 27);
	n_m = pos; pos += put_name(t + pos, "M", 1, 27);
	cr_assert_leq(pos, 0x200);

	st64(t + ptr, 8);                    /* *main.T: 56 bytes, no uncommon part */
	t[ptr + 23] = 22;
	st32(t + ptr + 40, n_ptr);
	st64(t + ptr + 48, TYPES + st);
	st64(t + st, 16);                    /* main.T: 80 + uncommon 16, then its fields */
	t[st + 20] = 1;
	t[st + 23] = 25;
	st32(t + st + 40, n_T);
	st64(t + st + 56, TYPES + fields);
	st64(t + st + 64, 2);
	st64(t + st + 72, 2);
	st32(t + st + 80, n_main);
	st64(t + fields, TYPES + n_A);
	st64(t + fields + 8, TYPES + intt);
	st64(t + fields + 24, TYPES + n_b);
	st64(t + fields + 32, TYPES + intt);
	st64(t + fields + 40, 8);
	st64(t + intt, 8);
	t[intt + 23] = 2;
	st32(t + intt + 40, n_int);
	st64(t + iface, 16);                 /* main.I: one method */
	t[iface + 23] = 20;
	st32(t + iface + 40, n_I);
	st64(t + iface + 56, TYPES + imethods);
	st64(t + iface + 64, 1);
	st64(t + iface + 72, 1);
	st32(t + imethods, n_m);
	st64(t + itab, TYPES + iface);       /* itab {inter, _type, hash, fun[1]} */
	st64(t + itab + 8, TYPES + ptr);
	st64(t + itab + 24, TEXT);

	st64(img + md, RODATA);
	st64(img + md + 176, TEXT);
	st64(img + md + 184, TEXT + 0x20);
	st64(img + md + 296, TYPES);                                    /* types */
	st64(img + md + 304, types_itab_only ? 8 : st);                 /* typedesclen */
	st64(img + md + 312, TYPES + 0x200);                            /* etypes */
	st64(img + md + 320, itab);                                     /* itaboffset */
	st64(img + md + 328, types_itab_only ? 32 : 0);                 /* itabsize */
}

static void add_types(int minor)
{
	uint8_t *t = img + 0x2200; /* file offset of TYPES */
	const uint64_t st = 0x0, fields = 0x60, intt = 0xc0, ptr = 0x100, names = 0x180;
	uint64_t n_T, n_int, n_ptr, n_main, n_A, n_b, pos = names, md;
	/* moduledata offsets: text, etext, types, etypes, typelinks, itablinks */
	unsigned int L[6];

	n_T = pos; pos += put_name(t + pos, "main.T", 1, minor);
	n_int = pos; pos += put_name(t + pos, "int", 1, minor);
	n_ptr = pos; pos += put_name(t + pos, "*main.T", 1, minor);
	n_main = pos; pos += put_name(t + pos, "main", 0, minor);
	n_A = pos; pos += put_name(t + pos, "A", 1, minor);
	n_b = pos; pos += put_name(t + pos, "b", 0, minor);
	cr_assert_lt(pos, 0x200);

	st64(t + st, 16);          /* size */
	t[st + 20] = 1;            /* tflag: uncommon */
	t[st + 23] = 25;           /* struct */
	st32(t + st + 40, n_T);
	st64(t + st + 56, TYPES + fields);
	st64(t + st + 64, 2);
	st64(t + st + 72, 2);
	st32(t + st + 80, n_main); /* uncommon: pkgPath */
	st64(t + fields, TYPES + n_A);
	st64(t + fields + 8, TYPES + intt);
	st64(t + fields + 16, 0);
	st64(t + fields + 24, TYPES + n_b);
	st64(t + fields + 32, TYPES + intt);
	st64(t + fields + 40, minor >= 19 ? 8 : 8 << 1);
	st64(t + intt, 8);
	t[intt + 23] = 2;          /* int */
	st32(t + intt + 40, n_int);
	st64(t + ptr, 8);
	t[ptr + 23] = 22;          /* pointer */
	st32(t + ptr + 40, n_ptr);
	st64(t + ptr + 48, TYPES + st);
	st32(t + 0x1f0, ptr);      /* typelinks: []int32 */

	if (minor >= 20)
		memcpy(L, (unsigned int[]){ 176, 184, 296, 304, 352, 376 }, sizeof(L));
	else if (minor >= 18)
		memcpy(L, (unsigned int[]){ 176, 184, 280, 288, 336, 360 }, sizeof(L));
	else if (minor >= 16)
		memcpy(L, (unsigned int[]){ 176, 184, 280, 288, 320, 344 }, sizeof(L));
	else
		memcpy(L, (unsigned int[]){ 96, 104, 200, 208, 240, 264 }, sizeof(L));
	md = 0x3900; /* in the data segment; starts with the pclntab's address */
	st64(img + md, RODATA);
	st64(img + md + L[0], TEXT);
	st64(img + md + L[1], TEXT + 0x20);
	st64(img + md + L[2], TYPES);
	st64(img + md + L[3], TYPES + 0x200);
	st64(img + md + L[4], TYPES + 0x1f0);
	st64(img + md + L[4] + 8, 1);
	st64(img + md + L[4] + 16, 1);
}

static void build_image(enum pcln_gen gen, bool pointer_form, const char *version,
			uint16_t machine)
{
	uint8_t *e = img;
	size_t i;

	memset(img, 0, sizeof(img));
	memcpy(e, ELFMAG, SELFMAG);
	e[EI_CLASS] = ELFCLASS64;
	e[EI_DATA] = ELFDATA2LSB;
	e[EI_VERSION] = EV_CURRENT;
	st16(e + 16, ET_EXEC);
	st16(e + 18, machine);
	st32(e + 20, EV_CURRENT);
	st64(e + 24, TEXT);
	st64(e + 32, 64); /* e_phoff */
	st16(e + 52, 64); /* e_ehsize */
	st16(e + 54, 56); /* e_phentsize */
	st16(e + 56, 3);  /* e_phnum */
	phdr(e + 64, PF_R | PF_X, 0x1000, TEXT, 0x100);
	phdr(e + 64 + 56, PF_R, 0x2000, RODATA, 0x400);
	phdr(e + 64 + 112, PF_R | PF_W, 0x3000, DATA, 0xc00);
	memcpy(img + 0x1000, text, sizeof(text));
	if (machine == EM_AARCH64) { /* word-aligned: ret, nop, ret x1 */
		for (i = 0; i < 0x30; i += 4)
			st32(img + 0x1000 + i, 0xd503201f);
		st32(img + 0x1000 + 0x8, 0xd65f03c0);
		st32(img + 0x1000 + 0x18, 0xd65f0020);
	}
	build_pclntab(img + 0x2000, 0x200, gen, 8, TEXT, three, 2, TEXT + 0x20);
	if (atoi(version + 4) >= 26) /* the header's textStart is 0: moduledata.text says */
		st64(img + 0x2000 + 8 + 2 * 8, 0);
	if (atoi(version + 4) >= 27)
		add_types_1_27();
	else
		add_types(atoi(version + 4));
	if (pointer_form) {
		uint8_t b[64];
		size_t n = pointer_buildinfo(b, version);

		/* the flat memory becomes the data segment right after the header */
		memcpy(img + 0x3000, b, n);
		for (i = 16; i < 32; i += 8)
			st64(img + 0x3000 + i, ld64(b + i) - MEM_BASE + DATA);
		memcpy(img + 0x3100, flat + 0x100, 0x700);
		st64(img + 0x3100, DATA + 0x200);
		st64(img + 0x3110, DATA + 0x300);
	} else {
		inline_buildinfo(img + 0x3000, version);
	}
}

static struct goelf *open_image(void)
{
	char err[GOELF_ERR_MAX];
	struct goelf *g = goelf_open_mem(img, sizeof(img), err, sizeof(err));

	cr_assert_not_null(g, "%s", err);
	return g;
}

Test(goelf_image, go1_16_pointer_buildinfo_stack_abi)
{
	const struct goelf_info *in;
	struct goelf_funcs fs;
	struct goelf *g;

	build_image(PCLN_116, true, "go1.16.15", EM_X86_64);
	g = open_image();
	cr_assert_eq(goelf_info(g, &in), 0, "%s", goelf_error(g));
	cr_expect_str_eq(in->go_version, "go1.16.15");
	cr_expect_str_eq(in->version_source, "build info");
	cr_expect_str_eq(in->pclntab_gen, "1.16");
	cr_expect_eq(in->abi, GOELF_ABI_STACK, "amd64 before 1.17 passes arguments on the stack");
	cr_expect_str_eq(in->g_register, "tls");
	cr_expect_eq(in->nmodules, 3);
	cr_assert_eq(goelf_find_funcs(g, NULL, NULL, &fs), 0, "%s", goelf_error(g));
	cr_expect_str_eq(fs.source, "pclntab");
	cr_assert_eq(fs.n, 2);
	cr_expect_str_eq(fs.v[1].name, "net/http.serverHandler.ServeHTTP");
	cr_expect_eq(fs.v[1].address, TEXT + 0x10);
	cr_expect_eq(fs.v[1].offset, 0x1010);
	cr_expect_eq(fs.v[1].size, 0x10);
	cr_assert_eq(fs.v[1].nreturns, 2, "the 0xc3 immediates are not returns");
	cr_expect_eq(fs.v[1].returns[0], TEXT + 0x17);
	cr_expect_eq(fs.v[1].returns[1], TEXT + 0x1a);
	goelf_funcs_free(&fs);
	goelf_close(g);
}

Test(goelf_image, go1_14_pclntab_1_2)
{
	const struct goelf_info *in;
	struct goelf_funcs fs;
	struct goelf *g;

	build_image(PCLN_12, true, "go1.14.15", EM_X86_64);
	g = open_image();
	cr_assert_eq(goelf_info(g, &in), 0, "%s", goelf_error(g));
	cr_expect_str_eq(in->go_version, "go1.14.15");
	cr_expect_str_eq(in->pclntab_gen, "1.2");
	cr_assert_eq(goelf_find_funcs(g, NULL, NULL, &fs), 0, "%s", goelf_error(g));
	cr_assert_eq(fs.n, 2);
	cr_expect_str_eq(fs.v[0].name, "main.main");
	cr_expect_eq(fs.v[0].nreturns, 1);
	goelf_funcs_free(&fs);
	goelf_close(g);
}

Test(goelf_image, go1_21_inline_buildinfo_register_abi_unless_disabled)
{
	const struct goelf_info *in;
	struct goelf *g;

	build_image(PCLN_120, false, "go1.21.0", EM_X86_64);
	g = open_image();
	cr_assert_eq(goelf_info(g, &in), 0, "%s", goelf_error(g));
	cr_expect_str_eq(in->go_version, "go1.21.0");
	cr_expect_str_eq(in->pclntab_gen, "1.20");
	/* the modinfo says GOEXPERIMENT=noregabi */
	cr_expect_eq(in->abi, GOELF_ABI_STACK);
	goelf_close(g);
}

Test(goelf_image, arm64_go1_17_is_stack_abi_with_g_in_x28)
{
	const struct goelf_info *in;
	struct goelf_funcs fs;
	struct goelf *g;

	build_image(PCLN_116, true, "go1.17.13", EM_AARCH64);
	g = open_image();
	cr_assert_eq(goelf_info(g, &in), 0, "%s", goelf_error(g));
	cr_expect_eq(in->arch, GOELF_ARCH_ARM64);
	cr_expect_eq(in->abi, GOELF_ABI_STACK);
	cr_expect_str_eq(in->g_register, "x28");
	cr_assert_eq(goelf_find_funcs(g, NULL, NULL, &fs), 0);
	cr_assert_eq(fs.n, 2);
	cr_assert_eq(fs.v[0].nreturns, 1);
	cr_expect_eq(fs.v[0].returns[0], TEXT + 8);
	cr_assert_eq(fs.v[1].nreturns, 1);
	cr_expect_eq(fs.v[1].returns[0], TEXT + 0x18);
	goelf_funcs_free(&fs);
	goelf_close(g);
}

Test(goelf_image, version_from_the_pclntab_when_build_info_is_gone)
{
	const struct goelf_info *in;
	struct goelf *g;

	build_image(PCLN_118, false, "go1.19.8", EM_X86_64);
	memset(img + 0x3000, 0, 0x100);
	g = open_image();
	cr_assert_eq(goelf_info(g, &in), 0, "%s", goelf_error(g));
	cr_expect_str_eq(in->go_version, "go1.18-go1.19");
	cr_expect(strstr(in->version_source, "pclntab"), "%s", in->version_source);
	cr_expect_eq(in->abi, GOELF_ABI_REGISTER);
	goelf_close(g);
}

Test(goelf_image, too_old_unsupported_and_not_go)
{
	char err[GOELF_ERR_MAX];

	build_image(PCLN_12, true, "go1.10.8", EM_X86_64);
	cr_expect_null(goelf_open_mem(img, sizeof(img), err, sizeof(err)));
	cr_expect(strstr(err, "too old"), "%s", err);
	build_image(PCLN_118, false, "go1.19.8", EM_RISCV);
	cr_expect_null(goelf_open_mem(img, sizeof(img), err, sizeof(err)));
	cr_expect(strstr(err, "unsupported architecture"), "%s", err);
	build_image(PCLN_118, false, "go1.19.8", EM_X86_64);
	memset(img + 0x2000, 0, 0x200);
	memset(img + 0x3000, 0, 0x100);
	cr_expect_null(goelf_open_mem(img, sizeof(img), err, sizeof(err)));
	cr_expect(strstr(err, "not a Go binary"), "%s", err);
	build_image(PCLN_118, false, "go1.19.8", EM_X86_64);
	cr_expect_null(goelf_open_mem(img, 0x2800, err, sizeof(err)), "truncated");
	cr_expect(strstr(err, "truncated"), "%s", err);
}

static void check_struct_T(const char *version, enum pcln_gen gen, bool pointer_form)
{
	struct goelf_struct s;
	struct goelf *g;

	build_image(gen, pointer_form, version, EM_X86_64);
	g = open_image();
	cr_assert_eq(goelf_struct(g, "main.T", GOELF_ONLY_RUNTIME, &s), 0, "%s: %s", version,
		     goelf_error(g));
	cr_expect_eq(s.source, GOELF_SRC_RUNTIME);
	cr_expect_eq(s.size, 16);
	cr_assert_eq(s.nfields, 2, "%s", version);
	cr_expect_str_eq(s.fields[0].name, "A");
	cr_expect_eq(s.fields[0].offset, 0);
	cr_expect_str_eq(s.fields[0].type, "int");
	cr_expect_eq(s.fields[0].size, 8);
	cr_expect_str_eq(s.fields[1].name, "b");
	cr_expect_eq(s.fields[1].offset, 8, "%s: field offset encoding", version);
	goelf_struct_free(&s);
	cr_expect_eq(goelf_struct(g, "main.U", GOELF_ONLY_RUNTIME, &s), 1, "absent type");
	goelf_close(g);
}

Test(goelf_runtime_types, go1_14_moduledata_and_u16_names) { check_struct_T("go1.14.15", PCLN_12, true); }
Test(goelf_runtime_types, go1_16_offset_shifted) { check_struct_T("go1.16.15", PCLN_116, true); }
Test(goelf_runtime_types, go1_18_varint_names_offset_shifted) { check_struct_T("go1.18.10", PCLN_118, false); }
Test(goelf_runtime_types, go1_19_plain_offsets) { check_struct_T("go1.19.8", PCLN_118, false); }
Test(goelf_runtime_types, go1_21_moduledata_with_coverage_counters) { check_struct_T("go1.21.0", PCLN_120, false); }
Test(goelf_runtime_types, go1_27_inline_typelinks) { check_struct_T("go1.27.0", PCLN_120, false); }
Test(goelf_runtime_types, go1_27_itabs_alone_are_roots)
{
	types_itab_only = true;
	check_struct_T("go1.27.0", PCLN_120, false);
	types_itab_only = false;
}

/* From 1.26 the pclntab header holds no textStart: entries are offsets from
 * moduledata.text, found through the moduledata that points at the table. */
Test(goelf_image, go1_26_entries_from_moduledata_text)
{
	struct goelf_funcs fs;
	struct goelf *g;

	build_image(PCLN_120, false, "go1.27.0", EM_X86_64);
	cr_assert_eq(ld64(img + 0x2000 + 24), 0);
	g = open_image();
	cr_assert_eq(goelf_find_funcs(g, NULL, NULL, &fs), 0, "%s", goelf_error(g));
	cr_assert_eq(fs.n, 2);
	cr_expect_eq(fs.v[1].address, TEXT + 0x10);
	cr_expect_eq(fs.v[1].nreturns, 2);
	goelf_funcs_free(&fs);
	goelf_close(g);
}

/* runtime.buildVersion's string header {ptr, len} at file offset @hdr, its bytes at @str */
static void put_build_version(size_t hdr, size_t str, const char *v)
{
	strcpy((char *)img + str, v);
	st64(img + hdr, DATA + (str - 0x3000));
	st64(img + hdr + 8, strlen(v));
}

static const char *version_without_build_info(const char *source_has)
{
	static char v[64];
	const struct goelf_info *in;
	struct goelf *g = open_image();

	cr_assert_eq(goelf_info(g, &in), 0, "%s", goelf_error(g));
	snprintf(v, sizeof(v), "%s", in->go_version);
	cr_expect(strstr(in->version_source, source_has), "%s: %s", v, in->version_source);
	goelf_close(g);
	return v;
}

Test(goelf_image, version_from_runtime_build_version_when_build_info_is_gone_or_damaged)
{
	const struct goelf_info *in;
	struct goelf *g;

	build_image(PCLN_120, false, "go1.27.0", EM_X86_64);
	memset(img + 0x3000, 0, 0x100);
	put_build_version(0x3bc0, 0x3bd0, "go1.27.0");
	cr_expect_str_eq(version_without_build_info("runtime.buildVersion string in data (no build info)"),
			 "go1.27.0");

	/* damaged: the version's length runs past the blob; not fatal */
	build_image(PCLN_120, false, "go1.27.0", EM_X86_64);
	put_build_version(0x3bc0, 0x3bd0, "go1.27.0");
	img[0x3000 + 32] = 0xff;
	img[0x3000 + 33] = 0x7f;
	cr_expect_str_eq(version_without_build_info("build info damaged: Go build info truncated"), "go1.27.0");
	g = open_image();
	cr_assert_eq(goelf_info(g, &in), 0);
	cr_expect(in->version_exact);
	cr_expect_eq(in->go_minor, 27);
	cr_expect_null(in->main_path, "no modules without build info");
	goelf_close(g);

	/* a release the pclntab generation rules out is some package's string, not the runtime's */
	build_image(PCLN_120, false, "go1.27.0", EM_X86_64);
	memset(img + 0x3000, 0, 0x100);
	put_build_version(0x3bc0, 0x3bd0, "go1.19.8");
	cr_expect_str_eq(version_without_build_info("pclntab magic"), "go1.20+");

	/* two different candidates: neither is trusted */
	build_image(PCLN_120, false, "go1.27.0", EM_X86_64);
	memset(img + 0x3000, 0, 0x100);
	put_build_version(0x3bc0, 0x3bd0, "go1.27.0");
	put_build_version(0x3b80, 0x3be0, "go1.26.1");
	cr_expect_str_eq(version_without_build_info("pclntab magic (Go 1.20+; no build info)"), "go1.20+");
}

/* Every truncation and every single-byte corruption of a whole image fails cleanly. */
Test(goelf_image, truncations_and_byte_flips_never_crash)
{
	char err[GOELF_ERR_MAX];
	static uint8_t copy[IMG_SIZE];
	size_t len, i;

	build_image(PCLN_118, false, "go1.19.8", EM_X86_64);
	memcpy(copy, img, sizeof(img));
	for (len = 0; len <= sizeof(img); len += 61) {
		struct goelf *g = goelf_open_mem(copy, len, err, sizeof(err));

		if (g) {
			struct goelf_struct s;
			struct goelf_funcs fs;

			if (!goelf_find_funcs(g, NULL, NULL, &fs))
				goelf_funcs_free(&fs);
			if (!goelf_struct(g, "main.T", GOELF_ONLY_RUNTIME, &s))
				goelf_struct_free(&s);
			goelf_close(g);
		}
	}
	for (i = 0; i < 0x3a00; i += 3) {
		struct goelf *g;

		memcpy(copy, img, sizeof(img));
		copy[i] ^= 0xa5;
		g = goelf_open_mem(copy, sizeof(copy), err, sizeof(err));
		if (g) {
			struct goelf_struct s;
			struct goelf_funcs fs;

			if (!goelf_find_funcs(g, NULL, NULL, &fs))
				goelf_funcs_free(&fs);
			if (!goelf_struct(g, "main.T", GOELF_ONLY_RUNTIME, &s))
				goelf_struct_free(&s);
			goelf_close(g);
		}
	}
}

/* With EHTTP_FUZZ_SEEDS=DIR the images are written there: the fuzz corpus seeds. */
Test(goelf_image, write_fuzz_seeds)
{
	static const struct {
		const char *name, *version;
		enum pcln_gen gen;
		bool pointer_form;
		uint16_t machine;
	} seeds[] = {
		{ "go114-amd64", "go1.14.15", PCLN_12, true, EM_X86_64 },
		{ "go116-amd64", "go1.16.15", PCLN_116, true, EM_X86_64 },
		{ "go119-amd64", "go1.19.8", PCLN_118, false, EM_X86_64 },
		{ "go121-arm64", "go1.21.0", PCLN_120, false, EM_AARCH64 },
		{ "go127-amd64", "go1.27.0", PCLN_120, false, EM_X86_64 },
		{ "go127-arm64", "go1.27.0", PCLN_120, false, EM_AARCH64 },
	};
	const char *dir = getenv("EHTTP_FUZZ_SEEDS");

	if (!dir)
		return;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[512];
		FILE *f;

		build_image(seeds[i].gen, seeds[i].pointer_form, seeds[i].version, seeds[i].machine);
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		cr_assert_not_null(f, "%s", path);
		fwrite(img, 1, sizeof(img), f);
		fclose(f);
	}
}

/* Without build info a 1.18-generation pclntab means 1.18 or 1.19: the two field offset
 * encodings are told apart by whether the fields fit the struct. */
Test(goelf_runtime_types, offset_encoding_when_only_the_pclntab_dates_the_binary)
{
	static const char *const versions[] = { "go1.18.10", "go1.19.8" };

	for (size_t i = 0; i < 2; i++) {
		struct goelf_struct s;
		struct goelf *g;

		build_image(PCLN_118, false, versions[i], EM_X86_64);
		memset(img + 0x3000, 0, 0x100); /* build info gone */
		g = open_image();
		cr_assert_eq(goelf_struct(g, "main.T", GOELF_ONLY_RUNTIME, &s), 0, "%s", goelf_error(g));
		cr_assert_eq(s.nfields, 2);
		cr_expect_eq(s.fields[1].offset, 8, "built as %s", versions[i]);
		goelf_struct_free(&s);
		goelf_close(g);
	}
}

/*
 * PIE without section headers: the moduledata's pointers are zero in the file and set by
 * R_X86_64_RELATIVE relocations, found through PT_DYNAMIC (DT_RELA, DT_RELASZ).
 */
Test(goelf_runtime_types, pie_pointers_from_relocations_via_the_dynamic_segment)
{
	static const unsigned int md_words[] = { 0, 176, 184, 280, 288, 336 };
	const uint64_t md = 0x3900, dyn = 0x3b00, rela = 0x3b40; /* md ends at 0x3a68 */
	const struct goelf_info *in;
	struct goelf_struct s;
	struct goelf *g;
	size_t i, k = 0;

	build_image(PCLN_118, false, "go1.19.8", EM_X86_64);
	st16(img + 16, ET_DYN);
	st16(img + 56, 4);
	st32(img + 64 + 3 * 56, PT_DYNAMIC);
	st32(img + 64 + 3 * 56 + 4, PF_R | PF_W);
	st64(img + 64 + 3 * 56 + 8, dyn);
	st64(img + 64 + 3 * 56 + 16, DATA + (dyn - 0x3000));
	st64(img + 64 + 3 * 56 + 32, 48);
	for (i = 0; i < sizeof(md_words) / sizeof(md_words[0]); i++, k++) {
		uint8_t *r = img + rela + k * 24;

		st64(r, DATA + (md - 0x3000) + md_words[i]);
		st64(r + 8, 8 /* R_X86_64_RELATIVE */);
		st64(r + 16, ld64(img + md + md_words[i]));
		st64(img + md + md_words[i], 0); /* only the relocation knows */
	}
	/* and the struct's fields slice pointer */
	st64(img + rela + k * 24, TYPES + 56);
	st64(img + rela + k * 24 + 8, 8);
	st64(img + rela + k * 24 + 16, ld64(img + 0x2200 + 56));
	st64(img + 0x2200 + 56, 0);
	k++;
	st64(img + dyn, DT_RELA);
	st64(img + dyn + 8, DATA + (rela - 0x3000));
	st64(img + dyn + 16, DT_RELASZ);
	st64(img + dyn + 24, k * 24);
	g = open_image();
	cr_assert_eq(goelf_info(g, &in), 0, "%s", goelf_error(g));
	cr_expect(in->pie);
	cr_assert_eq(goelf_struct(g, "main.T", GOELF_ONLY_RUNTIME, &s), 0, "%s", goelf_error(g));
	cr_assert_eq(s.nfields, 2);
	cr_expect_eq(s.fields[1].offset, 8);
	goelf_struct_free(&s);
	goelf_close(g);
}

Test(goelf_image, devel_build_is_dated_by_its_pclntab)
{
	const struct goelf_info *in;
	struct goelf *g;

	build_image(PCLN_120, false, "devel +571d93e977 Tue Jan 1 00:00:00 2030 +0000", EM_X86_64);
	g = open_image();
	cr_assert_eq(goelf_info(g, &in), 0, "%s", goelf_error(g));
	cr_expect_str_eq(in->go_version, "devel +571d93e977");
	cr_expect(strstr(in->version_source, "pclntab magic (Go 1.20+"), "%s", in->version_source);
	cr_expect_not(in->version_exact);
	cr_expect_eq(in->go_minor, 20);
	goelf_close(g);
}

/* roundTrip's shape around persistConn.roundTrip: CALL; NOPW; TEST RBX, RBX; JE ok;
 * error: XOR EAX, EAX; RET; NOP padding; ok: XOR EBX, EBX; RET. The callee at +0x80. */
static const uint8_t result_code[0x23] = {
	0xe8, 0x7b, 0x00, 0x00, 0x00,             /* 0x00 call +0x80 */
	0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,       /* 0x05 nopw */
	0x48, 0x85, 0xdb,                         /* 0x0b test rbx, rbx */
	0x74, 0x10,                               /* 0x0e je 0x20 */
	0x31, 0xc0, 0xc3,                         /* 0x10 xor eax, eax; ret */
	0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, /* 0x13 padding */
	0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
	0x31, 0xdb, 0xc3,                         /* 0x20 xor ebx, ebx; ret */
};

static int result_check_of(const uint8_t *code, size_t n, struct goelf_result_check *rc)
{
	struct goelf_func f = { .name = "net/http.(*Transport).roundTrip", .address = TEXT,
				.offset = 0x1000, .size = n };
	struct goelf *g;
	int ret;

	build_image(PCLN_120, false, "go1.21.13", EM_X86_64);
	memcpy(img + 0x1000, code, n);
	img[0x1080] = 0xc3;
	g = open_image();
	ret = goelf_result_check(g, &f, TEXT + 0x80, rc);
	goelf_close(g);
	return ret;
}

Test(goelf_probepoints, result_check_stands_for_the_success_rets)
{
	struct goelf_result_check rc;

	cr_assert_eq(result_check_of(result_code, sizeof(result_code), &rc), 0);
	cr_expect_eq(rc.check, TEXT + 0x0e);
	cr_assert_eq(rc.nrets, 1);
	cr_expect_eq(rc.rets[0], TEXT + 0x22, "the error's RET at +0x12 stays probed");
}

Test(goelf_probepoints, result_check_refuses_other_shapes)
{
	struct goelf_result_check rc;
	uint8_t code[sizeof(result_code)];

	/* another way into the success branch: its RET is not the JE's alone */
	memcpy(code, result_code, sizeof(code));
	memcpy(code + 0x10, (uint8_t[]){ 0xeb, 0x0e }, 2); /* jmp 0x20 */
	cr_expect_eq(result_check_of(code, sizeof(code), &rc), 1);
	cr_expect_eq(rc.nrets, 0);
	/* the success branch going back: into the loop, or the error's way */
	memcpy(code, result_code, sizeof(code));
	memcpy(code + 0x20, (uint8_t[]){ 0xeb, 0xee }, 2); /* jmp 0x10 */
	cr_expect_eq(result_check_of(code, sizeof(code), &rc), 1);
	/* the error tested otherwise (RCX, the data word) */
	memcpy(code, result_code, sizeof(code));
	memcpy(code + 0x0b, (uint8_t[]){ 0x48, 0x85, 0xc9 }, 3);
	cr_expect_eq(result_check_of(code, sizeof(code), &rc), 1);
	/* a second call to the callee */
	memcpy(code, result_code, sizeof(code));
	memcpy(code + 0x13, (uint8_t[]){ 0xe8, 0x68, 0x00, 0x00, 0x00 }, 5); /* call +0x80 */
	cr_expect_eq(result_check_of(code, sizeof(code), &rc), 1);
	/* padding something jumps to falls into the branch */
	memcpy(code, result_code, sizeof(code));
	memcpy(code + 0x10, (uint8_t[]){ 0xeb, 0x0c }, 2); /* jmp 0x1e, a NOP before it */
	cr_expect_eq(result_check_of(code, sizeof(code), &rc), 1);
}
