// SPDX-License-Identifier: GPL-2.0-only
/*
 * .go.buildinfo: the Go version and module information the linker records. Two forms
 * (cmd/link/internal/ld/data.go, src/debug/buildinfo): since 1.18 the strings follow the
 * 32-byte header inline as uvarint-prefixed bytes; before, the header holds the addresses
 * of two Go string headers (runtime.buildVersion, runtime.modinfo).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goelf_int.h"

/* modinfo is wrapped in 16-byte sentinels (runtime/debug/mod.go). */
#define MODINFO_SENTINEL 16

static char *dup_modinfo(const uint8_t *p, uint64_t len)
{
	char *s;

	if (len >= 33 && p[len - 17] == '\n') {
		p += MODINFO_SENTINEL;
		len -= 2 * MODINFO_SENTINEL;
	}
	if (!len)
		return NULL;
	s = malloc(len + 1);
	if (s) {
		memcpy(s, p, len);
		s[len] = 0;
	}
	return s;
}

static char *dup_bytes(const uint8_t *p, uint64_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = 0;
	}
	return s;
}

/* Strings are bounded so a corrupt length cannot make us allocate gigabytes. */
#define BUILDINFO_STR_MAX (1u << 24)

static const uint8_t *old_string(const struct gmem *mem, uint64_t hdr_addr, unsigned int ps,
				 uint64_t *len)
{
	uint64_t str, n;

	if (!mem || !mem->ptr(mem->ctx, hdr_addr, &str) || !mem->ptr(mem->ctx, hdr_addr + ps, &n))
		return NULL;
	if (ps == 4) { /* ptr() reads 8 bytes on 64-bit targets only */
		str &= 0xffffffff;
		n &= 0xffffffff;
	}
	if (n > BUILDINFO_STR_MAX)
		return NULL;
	*len = n;
	return n ? mem->bytes(mem->ctx, str, n) : (const uint8_t *)"";
}

int buildinfo_parse(const uint8_t *data, size_t size, const struct gmem *mem,
		    struct buildinfo *out, char *err, size_t errlen)
{
	unsigned int ps;
	uint8_t flags;

	memset(out, 0, sizeof(*out));
	if (size < BUILDINFO_HDR || memcmp(data, BUILDINFO_MAGIC, 14)) {
		snprintf(err, errlen, "no Go build info magic");
		return -1;
	}
	ps = data[14];
	flags = data[15];
	if (ps != 4 && ps != 8) {
		snprintf(err, errlen, "corrupt Go build info (pointer size %u)", ps);
		return -1;
	}
	if (flags & 1) {
		snprintf(err, errlen, "big-endian Go binaries are not supported");
		return -1;
	}
	if (flags & 2) {
		const uint8_t *p = data + BUILDINFO_HDR, *end = data + size;
		uint64_t n;
		size_t used;

		used = uvarint(p, end, &n);
		if (!used || n > (uint64_t)(end - p - used))
			goto trunc;
		p += used;
		out->version = dup_bytes(p, n);
		p += n;
		used = uvarint(p, end, &n);
		if (!used || n > (uint64_t)(end - p - used))
			goto trunc;
		p += used;
		out->modinfo = dup_modinfo(p, n);
	} else {
		const uint8_t *s;
		uint64_t vaddr_v, vaddr_m, n;

		if (!in_bounds(16, 2 * ps, size))
			goto trunc;
		vaddr_v = ldptr(data + 16, ps);
		vaddr_m = ldptr(data + 16 + ps, ps);
		s = old_string(mem, vaddr_v, ps, &n);
		if (!s) {
			snprintf(err, errlen, "Go build info points outside the file (corrupt?)");
			return -1;
		}
		out->version = dup_bytes(s, n);
		s = old_string(mem, vaddr_m, ps, &n);
		if (s)
			out->modinfo = dup_modinfo(s, n);
	}
	if (!out->version || !out->version[0]) {
		buildinfo_free(out);
		snprintf(err, errlen, "Go build info without a version");
		return -1;
	}
	return 0;
trunc:
	buildinfo_free(out);
	snprintf(err, errlen, "Go build info truncated");
	return -1;
}

void buildinfo_free(struct buildinfo *bi)
{
	free(bi->version);
	free(bi->modinfo);
	memset(bi, 0, sizeof(*bi));
}

/* Split @line in place on tabs into at most @max fields. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = 0;
	}
	return n;
}

static void *grow(void *v, size_t n, size_t elem)
{
	/* doubling at powers of two */
	if (n && (n & (n - 1)))
		return v;
	return realloc(v, (n ? 2 * n : 4) * elem);
}

int modinfo_parse(const char *text, struct modinfo *mi)
{
	char *line, *next;
	size_t last = 0; /* the module a "=>" line replaces */

	memset(mi, 0, sizeof(*mi));
	mi->storage = strdup(text ? text : "");
	if (!mi->storage)
		return -1;
	for (line = mi->storage; line && *line; line = next) {
		char *f[5];
		size_t nf;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		nf = split_tabs(line, f, 5);
		if (!strcmp(f[0], "path") && nf >= 2) {
			mi->main_path = f[1];
		} else if ((!strcmp(f[0], "mod") || !strcmp(f[0], "dep")) && nf >= 2) {
			struct goelf_module *m, *v;
			bool is_main = !strcmp(f[0], "mod");

			v = grow(mi->mods, mi->nmods, sizeof(*v));
			if (!v)
				return -1;
			mi->mods = v;
			if (is_main && !mi->has_main) {
				/* the main module goes first */
				memmove(v + 1, v, mi->nmods * sizeof(*v));
				last = 0;
				mi->has_main = true;
			} else {
				last = mi->nmods;
			}
			m = &v[last];
			mi->nmods++;
			memset(m, 0, sizeof(*m));
			m->path = f[1];
			m->version = nf > 2 ? f[2] : "";
			m->sum = nf > 3 ? f[3] : "";
		} else if (!strcmp(f[0], "=>") && nf >= 2 && mi->nmods) {
			/* replaces the module on the previous line */
			struct goelf_module *m = &mi->mods[last];

			m->replace_path = f[1];
			m->replace_version = nf > 2 ? f[2] : "";
			m->replace_sum = nf > 3 ? f[3] : "";
		} else if (!strcmp(f[0], "build") && nf >= 2) {
			struct goelf_setting *v = grow(mi->settings, mi->nsettings, sizeof(*v));
			char *eq = strchr(f[1], '=');

			if (!v)
				return -1;
			mi->settings = v;
			v[mi->nsettings].key = f[1];
			v[mi->nsettings].value = "";
			if (eq) {
				*eq = 0;
				v[mi->nsettings].value = eq + 1;
			}
			/* a quoted value may hold tabs: undo the split */
			for (size_t i = 2; i < nf; i++)
				f[i][-1] = '\t';
			mi->nsettings++;
		}
	}
	return 0;
}

void modinfo_free(struct modinfo *mi)
{
	free(mi->mods);
	free(mi->settings);
	free(mi->storage);
	memset(mi, 0, sizeof(*mi));
}

bool go_version_parse(const char *s, char *out, size_t outlen, int *minor)
{
	size_t n = strcspn(s, " \t\n");
	const char *p;
	long m;

	if (n >= outlen)
		n = outlen - 1;
	memmove(out, s, n); /* may parse in place */
	out[n] = 0;
	*minor = 0;
	if (strncmp(out, "go1", 3))
		return false;
	p = out + 3;
	if (*p == 0)
		return true; /* "go1" */
	if (*p != '.' || !isdigit((unsigned char)p[1]))
		return false;
	m = strtol(p + 1, NULL, 10);
	if (m <= 0 || m > 1000)
		return false;
	*minor = (int)m;
	return true;
}
