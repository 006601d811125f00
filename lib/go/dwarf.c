// SPDX-License-Identifier: GPL-2.0-only
/*
 * Struct layouts from DWARF (libdw). The Go linker emits every type as a top-level DIE
 * named with its full import path ("net/http.Request"); one pass indexes the struct DIEs
 * by name, lookups are then a binary search.
 */
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "goelf_int.h"

#define DW_AT_go_embedded_field 0x2903

struct dw_entry {
	const char *name;
	Dwarf_Off off;
};

struct dw_state {
	Dwarf *dw;
	struct dw_entry *idx;
	size_t n;
	bool indexed;
};

static struct dw_state *dw_state(struct goelf *g)
{
	struct dw_state *st;

	if (g->dwarf_tried)
		return g->dwarf;
	g->dwarf_tried = true;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->dw = dwarf_begin_elf(g->elf, DWARF_C_READ, NULL);
	if (!st->dw) {
		free(st);
		return NULL;
	}
	g->dwarf = st;
	return st;
}

void goelf_dwarf_close(struct goelf *g)
{
	struct dw_state *st = g->dwarf;

	if (!st)
		return;
	dwarf_end(st->dw);
	free(st->idx);
	free(st);
	g->dwarf = NULL;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct dw_entry *)a)->name, ((const struct dw_entry *)b)->name);
}

static int build_index(struct dw_state *st)
{
	Dwarf_Off off = 0, next;
	size_t hsize, cap = 0;

	st->indexed = true;
	while (dwarf_nextcu(st->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		int rc;

		if (!dwarf_offdie(st->dw, off + hsize, &cu))
			return -1;
		off = next;
		if (dwarf_child(&cu, &die) != 0)
			continue;
		do {
			const char *name;

			if (dwarf_tag(&die) != DW_TAG_structure_type || !(name = dwarf_diename(&die)))
				continue;
			if (st->n == cap) {
				size_t nc = cap ? cap * 2 : 1024;
				struct dw_entry *v = realloc(st->idx, nc * sizeof(*v));

				if (!v)
					return -1;
				st->idx = v;
				cap = nc;
			}
			st->idx[st->n++] = (struct dw_entry){ name, dwarf_dieoffset(&die) };
		} while ((rc = dwarf_siblingof(&die, &die)) == 0);
		if (rc < 0)
			return -1;
	}
	if (st->n)
		qsort(st->idx, st->n, sizeof(*st->idx), cmp_entry);
	return 0;
}

static char *type_name(Dwarf_Die *type)
{
	const char *n = dwarf_diename(type);

	return n ? strdup(n) : NULL;
}

int goelf_dwarf_struct(struct goelf *g, const char *name, struct goelf_struct *out)
{
	struct dw_state *st = dw_state(g);
	struct dw_entry key = { name, 0 }, *e;
	Dwarf_Die die, m;
	Dwarf_Word w;
	Dwarf_Attribute attr;
	size_t cap = 0;
	int rc;

	if (!st)
		return goelf_fail(g, "unreadable DWARF: %s", dwarf_errmsg(-1));
	if (!st->indexed && build_index(st))
		return goelf_fail(g, "corrupt DWARF: %s", dwarf_errmsg(-1));
	e = st->n ? bsearch(&key, st->idx, st->n, sizeof(*st->idx), cmp_entry) : NULL;
	if (!e)
		return 1;
	if (!dwarf_offdie(st->dw, e->off, &die))
		return goelf_fail(g, "corrupt DWARF: %s", dwarf_errmsg(-1));
	memset(out, 0, sizeof(*out));
	out->source = GOELF_SRC_DWARF;
	out->name = strdup(name);
	out->size = dwarf_attr(&die, DW_AT_byte_size, &attr) && !dwarf_formudata(&attr, &w)
			    ? (int64_t)w
			    : -1;
	if (dwarf_child(&die, &m) != 0)
		return out->name ? 0 : goelf_fail(g, "out of memory");
	do {
		struct goelf_field *f;
		Dwarf_Die type;
		bool flag = false;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if (out->nfields == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct goelf_field *v = realloc(out->fields, nc * sizeof(*v));

			if (!v) {
				goelf_struct_free(out);
				return goelf_fail(g, "out of memory");
			}
			out->fields = v;
			cap = nc;
		}
		f = &out->fields[out->nfields++];
		memset(f, 0, sizeof(*f));
		f->name = strdup(dwarf_diename(&m) ? dwarf_diename(&m) : "");
		f->size = -1;
		if (dwarf_attr(&m, DW_AT_data_member_location, &attr) && !dwarf_formudata(&attr, &w))
			f->offset = w;
		if (dwarf_attr(&m, DW_AT_go_embedded_field, &attr) && !dwarf_formflag(&attr, &flag))
			f->embedded = flag;
		if (dwarf_attr(&m, DW_AT_type, &attr) && dwarf_formref_die(&attr, &type)) {
			f->type = type_name(&type);
			if (dwarf_attr(&type, DW_AT_byte_size, &attr) && !dwarf_formudata(&attr, &w))
				f->size = (int64_t)w;
			else if (!dwarf_aggregate_size(&type, &w))
				f->size = (int64_t)w;
		}
	} while ((rc = dwarf_siblingof(&m, &m)) == 0);
	return 0;
}

char *goelf_dwarf_producer_version(struct goelf *g)
{
	struct dw_state *st = dw_state(g);
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf_Die cu;
	Dwarf_Attribute attr;
	const char *p;

	if (!st || dwarf_nextcu(st->dw, off, &next, &hsize, NULL, NULL, NULL) ||
	    !dwarf_offdie(st->dw, off + hsize, &cu) || !dwarf_attr(&cu, DW_AT_producer, &attr) ||
	    !(p = dwarf_formstring(&attr)))
		return NULL;
	/* "Go cmd/compile go1.19.8; regabi" */
	p = strstr(p, "go1");
	return p ? strndup(p, strcspn(p, "; ")) : NULL;
}
