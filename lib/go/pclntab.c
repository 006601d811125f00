// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Go pclntab: function names and entry addresses, present even in stripped binaries.
 * Four generations (magic → Go): 0xfffffffb 1.2–1.15, 0xfffffffa 1.16–1.17,
 * 0xfffffff0 1.18–1.19, 0xfffffff1 1.20+. Layouts follow src/debug/gosym/pclntab.go.
 */
#include <stdio.h>
#include <string.h>

#include "goelf_int.h"

size_t uvarint(const uint8_t *p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int shift = 0;
	size_t i;

	for (i = 0; p + i < end && i < 10; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80)) {
			*out = v;
			return i + 1;
		}
		shift += 7;
	}
	return 0;
}

int pclntab_magic_gen(uint32_t magic)
{
	switch (magic) {
	case 0xfffffffb: return PCLN_12;
	case 0xfffffffa: return PCLN_116;
	case 0xfffffff0: return PCLN_118;
	case 0xfffffff1: return PCLN_120;
	}
	return 0;
}

const char *pclntab_gen_name(enum pcln_gen gen)
{
	switch (gen) {
	case PCLN_12: return "1.2";
	case PCLN_116: return "1.16";
	case PCLN_118: return "1.18";
	case PCLN_120: return "1.20";
	}
	return "?";
}

/* Size of one functab field: entry offsets became u32 in 1.18. */
static unsigned int field_size(const struct pclntab *t)
{
	return t->gen >= PCLN_118 ? 4 : t->ptrsize;
}

static uint64_t functab_word(const struct pclntab *t, uint64_t idx)
{
	uint64_t off = t->functab + idx * field_size(t);
	uint64_t raw;

	if (t->gen >= PCLN_118)
		return ld32(t->data + off);
	raw = ldptr(t->data + off, t->ptrsize);
	/* Before 1.18 entries are absolute addresses: relocated in PIE. */
	if (t->reloc && !(idx & 1) && t->vaddr)
		return t->reloc(t->reloc_ctx, t->vaddr + off, raw);
	return raw;
}

int pclntab_parse(struct pclntab *t, const uint8_t *data, size_t size, uint64_t vaddr,
		  char *err, size_t errlen)
{
	uint64_t hdr_words, word[8], table_bytes;
	unsigned int i, ps;
	int gen;

	memset(t, 0, sizeof(*t));
	if (size < 16) {
		snprintf(err, errlen, "pclntab truncated (%zu bytes)", size);
		return -1;
	}
	gen = pclntab_magic_gen(ld32(data));
	if (!gen) {
		snprintf(err, errlen, "unknown pclntab magic 0x%08x", ld32(data));
		return -1;
	}
	if (data[4] || data[5] || (data[6] != 1 && data[6] != 2 && data[6] != 4) ||
	    (data[7] != 4 && data[7] != 8)) {
		snprintf(err, errlen, "corrupt pclntab header");
		return -1;
	}
	t->data = data;
	t->size = size;
	t->vaddr = vaddr;
	t->gen = gen;
	t->quantum = data[6];
	t->ptrsize = ps = data[7];

	hdr_words = gen == PCLN_12 ? 1 : gen == PCLN_116 ? 7 : 8;
	if (!in_bounds(8, hdr_words * ps, size)) {
		snprintf(err, errlen, "pclntab header truncated");
		return -1;
	}
	for (i = 0; i < hdr_words; i++)
		word[i] = ldptr(data + 8 + i * ps, ps);
	t->nfunc = word[0];

	switch (gen) {
	case PCLN_12:
		t->funcnametab = 0;
		t->funcdata = 0;
		t->functab = 8 + ps;
		break;
	case PCLN_116:
		t->funcnametab = word[2];
		t->funcdata = t->functab = word[6];
		break;
	default:
		t->text_start = word[2];
		t->funcnametab = word[3];
		t->funcdata = t->functab = word[7];
		break;
	}
	/* nfunc+1 pairs (the last entry is the end sentinel), all inside the table. */
	if (t->nfunc == 0 || t->nfunc > size / 8) {
		snprintf(err, errlen, "implausible pclntab function count %llu",
			 (unsigned long long)t->nfunc);
		return -1;
	}
	table_bytes = (t->nfunc * 2 + 1) * field_size(t);
	if (t->funcnametab >= size || !in_bounds(t->functab, table_bytes, size)) {
		snprintf(err, errlen, "pclntab tables outside the table (truncated?)");
		return -1;
	}
	return 0;
}

bool pclntab_func(const struct pclntab *t, uint64_t i, uint64_t *entry, uint64_t *end,
		  const char **name)
{
	uint64_t funcoff, fd, nameoff_at, nameoff, s;
	unsigned int sz0 = t->gen >= PCLN_118 ? 4 : t->ptrsize;
	const uint8_t *nul;

	if (i >= t->nfunc)
		return false;
	*entry = functab_word(t, 2 * i);
	*end = functab_word(t, 2 * i + 2);
	if (t->gen >= PCLN_118) {
		*entry += t->text_start;
		*end += t->text_start;
	}
	if (*end < *entry)
		return false;
	if (!name)
		return true;
	funcoff = functab_word(t, 2 * i + 1);
	fd = t->funcdata + funcoff;
	if (fd < funcoff) /* overflow */
		return false;
	/* _func: entry (uintptr, u32 from 1.18), then nameOff int32. */
	nameoff_at = fd + sz0;
	if (nameoff_at < fd || !in_bounds(nameoff_at, 4, t->size))
		return false;
	nameoff = (uint64_t)(int64_t)(int32_t)ld32(t->data + nameoff_at);
	if ((int64_t)nameoff < 0)
		return false;
	s = t->funcnametab + nameoff;
	if (s < nameoff || s >= t->size)
		return false;
	nul = memchr(t->data + s, 0, t->size - s);
	if (!nul)
		return false;
	*name = (const char *)t->data + s;
	return true;
}
