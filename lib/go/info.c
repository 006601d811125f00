// SPDX-License-Identifier: GPL-2.0-only
/* What a Go binary says about itself: version (and how we know it), modules, ABI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goelf_int.h"

#define GO_MIN_MINOR 13 /* build info and the type layouts we read start here */
#define BUILDINFO_SCAN 65536

/* The blob: the section, or (no section headers) a 16-byte aligned scan of the first
 * 64 KiB of writable, non-executable segments (src/debug/buildinfo looks at the first
 * only, which in a PIE is the relocated read-only data). */
static const uint8_t *find_buildinfo(struct goelf *g, size_t *len)
{
	uint64_t off, size;
	size_t i, k;

	if (goelf_section(g, ".go.buildinfo", &off, &size, NULL)) {
		*len = size;
		return g->data + off;
	}
	for (i = 0; i < g->nsegs; i++) {
		const struct gseg *s = &g->segs[i];
		uint64_t lim = s->filesz < BUILDINFO_SCAN ? s->filesz : BUILDINFO_SCAN;

		if (!(s->flags & PF_W) || (s->flags & PF_X))
			continue;
		for (k = 0; k + BUILDINFO_HDR <= lim; k += 16) {
			const uint8_t *p = g->data + s->off + k;

			if (!memcmp(p, BUILDINFO_MAGIC, 14)) {
				*len = s->filesz - k;
				return p;
			}
		}
		/* PIE puts a writable .data.rel.ro first: look at the next one too. */
	}
	return NULL;
}

/* runtime.buildVersion is a Go string header: {ptr, len}. */
static bool version_from_symbol(struct goelf *g, char *out, size_t outlen)
{
	uint64_t addr, ptr, len;
	const uint8_t *s;

	if (!goelf_symbol(g, "runtime.buildVersion", &addr, NULL) || !goelf_ptr(g, addr, &ptr) ||
	    !goelf_ptr(g, addr + 8, &len) || len == 0 || len >= outlen ||
	    !(s = goelf_vbytes(g, ptr, len)))
		return false;
	memcpy(out, s, len);
	out[len] = 0;
	return true;
}

/* Does [s, s+len) read like a Go release string ("go1.27.3", "go1.22rc1 X:nodwarf5")? */
static bool looks_like_version(const uint8_t *s, uint64_t len)
{
	uint64_t i;

	if (len < 5 || len > 48 || memcmp(s, "go1.", 4) || s[4] < '0' || s[4] > '9')
		return false;
	for (i = 5; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* The lowest and highest minor a pclntab generation allows. */
static void gen_minors(enum pcln_gen gen, int *lo, int *hi)
{
	*lo = gen == PCLN_12 ? 2 : gen == PCLN_116 ? 16 : gen == PCLN_118 ? 18 : 20;
	*hi = gen == PCLN_12 ? 15 : gen == PCLN_116 ? 17 : gen == PCLN_118 ? 19 : 1000;
}

struct version_scan {
	char found[64];
	int n;          /* candidates that agree with found */
	bool conflict;  /* two different ones */
};

static void version_candidate(struct goelf *g, struct version_scan *vs, uint64_t ptr,
			      uint64_t len_at, const struct pclntab *t)
{
	char v[64];
	const uint8_t *s;
	uint64_t len;
	int minor, lo, hi;

	if (!goelf_ptr(g, len_at, &len) || len < 5 || len >= sizeof(v) || !(s = goelf_vbytes(g, ptr, len)) ||
	    !looks_like_version(s, len))
		return;
	memcpy(v, s, len);
	v[len] = 0;
	if (!go_version_parse(v, v, sizeof(v), &minor))
		return;
	gen_minors(t->gen, &lo, &hi);
	if (minor < lo || minor > hi)
		return; /* a string some package holds, not this runtime's */
	if (!vs->n) {
		snprintf(vs->found, sizeof(vs->found), "%s", v);
	} else if (strcmp(vs->found, v)) {
		vs->conflict = true;
		return;
	}
	vs->n++;
}

/*
 * runtime.buildVersion without symbols: a Go string header {ptr, len} in writable data
 * whose bytes are a release string the pclntab generation allows. In a PIE the pointer
 * is zero in the file and set by a relocation. Refused when two different ones exist.
 */
static bool version_from_data(struct goelf *g, const struct pclntab *t, char *out, size_t outlen)
{
	struct version_scan vs = { .n = 0 };
	size_t i, k;

	for (i = 0; i < g->nsegs; i++) {
		const struct gseg *s = &g->segs[i];

		if (!(s->flags & PF_W) || (s->flags & PF_X))
			continue;
		for (k = 0; k + 16 <= s->filesz && !vs.conflict; k += 8) {
			uint64_t ptr = ld64(g->data + s->off + k), len = ld64(g->data + s->off + k + 8);

			/* cheap filter before any lookup: a small length after a nonzero word */
			if (ptr && len >= 5 && len < 48)
				version_candidate(g, &vs, ptr, s->vaddr + k + 8, t);
		}
	}
	if (g->etype == ET_DYN) {
		goelf_load_relocs(g);
		for (k = 0; k < g->nrel && !vs.conflict; k++)
			version_candidate(g, &vs, g->rels[k].addend, g->rels[k].off + 8, t);
	}
	if (!vs.n || vs.conflict)
		return false;
	snprintf(out, outlen, "%s", vs.found);
	return true;
}

static const char *setting(const struct modinfo *mi, const char *key)
{
	size_t i;

	for (i = 0; i < mi->nsettings; i++)
		if (!strcmp(mi->settings[i].key, key))
			return mi->settings[i].value;
	return NULL;
}

int goelf_load_info(struct goelf *g)
{
	struct goelf_info *in = &g->info;
	const struct pclntab *t = NULL;
	char err[GOELF_ERR_MAX] = "";
	const uint8_t *bi;
	const char *exp;
	size_t bilen = 0, i;
	uint64_t a, b;
	bool have_bi = false, have_pcln;
	char *dv = NULL, bi_state[GOELF_ERR_MAX / 2] = "";
	int minor = 0;

	if (g->info_loaded)
		return g->info_rc;
	g->info_loaded = true;
	g->info_rc = -1;

	in->arch = g->arch;
	in->pie = g->etype == ET_DYN;
	in->has_symtab = goelf_has_symtab(g);
	in->has_dwarf = goelf_section(g, ".debug_info", &a, &b, NULL) ||
			goelf_section(g, ".zdebug_info", &a, &b, NULL);
	if (!elf_getphdrnum(g->elf, &i)) {
		size_t n = i;

		for (i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(g->elf, (int)i, &ph) && ph.p_type == PT_INTERP)
				in->dynamic = true;
		}
	}

	/* Damaged build info is not fatal: the version has other sources, and the
	 * reason is kept for the report. */
	bi = find_buildinfo(g, &bilen);
	if (bi) {
		struct gmem mem;

		goelf_mem(g, &mem);
		if (!buildinfo_parse(bi, bilen, &mem, &g->bi, err, sizeof(err)))
			have_bi = true;
		if (have_bi && modinfo_parse(g->bi.modinfo, &g->mi))
			return goelf_fail(g, "out of memory");
	}
	have_pcln = !goelf_pclntab(g, &t);
	if (!have_bi && !have_pcln) {
		if (g->pcln_state < 0 && strstr(g->err, "corrupt"))
			return -1; /* the pclntab's own reason is the better one */
		if (err[0])
			return goelf_fail(g, "%s, and no pclntab", err);
		return goelf_fail(g, "not a Go binary (no Go build info, no pclntab)");
	}
	/* what the build info's absence is called in version_source */
	if (!have_bi)
		snprintf(bi_state, sizeof(bi_state), "%s%s", err[0] ? "build info damaged: " : "no build info",
			 err);
	if (have_pcln)
		in->pclntab_gen = pclntab_gen_name(t->gen);

	/* The version: build info, else runtime.buildVersion, else DWARF, else the pclntab. */
	if (have_bi && go_version_parse(g->bi.version, g->version, sizeof(g->version), &minor)) {
		snprintf(g->version_source, sizeof(g->version_source), "build info");
	} else if (version_from_symbol(g, g->version, sizeof(g->version)) &&
		   go_version_parse(g->version, g->version, sizeof(g->version), &minor)) {
		snprintf(g->version_source, sizeof(g->version_source), "symbol runtime.buildVersion%s%s%s",
			 bi_state[0] ? " (" : "", bi_state, bi_state[0] ? ")" : "");
	} else if (in->has_dwarf && (dv = goelf_dwarf_producer_version(g)) &&
		   go_version_parse(dv, g->version, sizeof(g->version), &minor)) {
		snprintf(g->version_source, sizeof(g->version_source), "DWARF producer%s%s%s",
			 bi_state[0] ? " (" : "", bi_state, bi_state[0] ? ")" : "");
	} else if (have_pcln && !have_bi && version_from_data(g, t, g->version, sizeof(g->version)) &&
		   go_version_parse(g->version, g->version, sizeof(g->version), &minor)) {
		snprintf(g->version_source, sizeof(g->version_source),
			 "runtime.buildVersion string in data (%s)", bi_state);
	} else if (have_pcln) {
		static const char *const range[] = { [0] = "go1.2-go1.15", [1] = "go1.16-go1.17",
						     [2] = "go1.18-go1.19", [3] = "go1.20+" };
		int idx = t->gen == PCLN_12 ? 0 : t->gen == PCLN_116 ? 1 : t->gen == PCLN_118 ? 2 : 3;
		static const int low[] = { 13, 16, 18, 20 };

		/* A devel build still says what it is: keep "devel +hash" */
		if (have_bi && !strncmp(g->bi.version, "devel ", 6))
			snprintf(g->version, sizeof(g->version), "devel %.*s",
				 (int)strcspn(g->bi.version + 6, " "), g->bi.version + 6);
		else if (have_bi)
			snprintf(g->version, sizeof(g->version), "%.*s",
				 (int)strcspn(g->bi.version, " "), g->bi.version);
		else
			snprintf(g->version, sizeof(g->version), "%s", range[idx]);
		snprintf(g->version_source, sizeof(g->version_source), "pclntab magic (Go %s; %s)",
			 range[idx] + 2, have_bi ? "build info names no release" : bi_state);
		minor = low[idx];
	} else {
		free(dv);
		return goelf_fail(g, "Go build info names no release (%s) and there is no pclntab",
				  g->bi.version);
	}
	free(dv);
	if (minor && minor < GO_MIN_MINOR)
		return goelf_fail(g, "%s is too old: ehttp reads Go 1.%d and later", g->version,
				  GO_MIN_MINOR);
	in->version_exact = !strstr(g->version_source, "pclntab");
	in->go_version = g->version;
	in->version_source = g->version_source;
	in->go_minor = minor;

	/* Register ABI: amd64 from 1.17, arm64 from 1.18 (abi-internal.md), unless disabled. */
	exp = setting(&g->mi, "GOEXPERIMENT");
	in->abi = (g->arch == GOELF_ARCH_AMD64 ? minor >= 17 : minor >= 18) &&
			  !(exp && strstr(exp, "noregabi"))
		  ? GOELF_ABI_REGISTER
		  : GOELF_ABI_STACK;
	if (g->arch == GOELF_ARCH_ARM64)
		in->g_register = "x28"; /* always, with either ABI */
	else
		in->g_register = in->abi == GOELF_ABI_REGISTER ? "r14" : "tls";

	in->main_path = g->mi.main_path;
	in->modules = g->mi.mods;
	in->nmodules = g->mi.nmods;
	in->has_main_module = g->mi.has_main;
	in->settings = g->mi.settings;
	in->nsettings = g->mi.nsettings;
	g->info_rc = 0;
	return 0;
}

int goelf_info(struct goelf *g, const struct goelf_info **out)
{
	if (goelf_load_info(g))
		return -1;
	*out = &g->info;
	return 0;
}
