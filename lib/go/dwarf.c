// SPDX-License-Identifier: GPL-2.0-only
/*
 * Struct layouts from DWARF (libdw). The Go linker emits every type as a top-level DIE
 * named with its full import path ("net/http.Request"), all of them in the runtime
 * package's compile unit (cmd/link/internal/ld/dwarf.go). The index is built from that
 * unit first, which skips walking every function's DIEs; only when a name is not there
 * are the other units indexed too. Lookups are then a binary search.
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
	Elf *elf;      /* the debug-only image libdw reads */
	uint8_t *image;
	struct dw_entry *idx;
	size_t n, cap;
	int indexed; /* 0 nothing, 1 the runtime unit, 2 every unit */
};

/* What type lookups need; libdw decompresses every debug section it is given, and the
 * line, frame, location and range tables are most of a Go binary's DWARF. */
static const char *const wanted_sections[] = {
	".debug_info", ".debug_abbrev", ".debug_str", ".debug_line_str", ".debug_str_offsets",
	".zdebug_info", ".zdebug_abbrev", ".zdebug_str",
};
#define NWANTED (sizeof(wanted_sections) / sizeof(wanted_sections[0]))

/*
 * A relocatable ELF image holding only the wanted debug sections, still compressed, for
 * libdw: [ELF header][section bytes][.shstrtab][section headers].
 */
static uint8_t *debug_image(struct goelf *g, size_t *size)
{
	GElf_Shdr found[NWANTED];
	const char *names[NWANTED];
	size_t n = 0, i, shstrndx, pos, strsz = 1, strpos, shoff;
	Elf_Scn *scn = NULL;
	uint8_t *img;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;

	if (!g->has_shdrs || elf_getshdrstrndx(g->elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(g->elf, scn)) && n < NWANTED) {
		GElf_Shdr shdr;
		const char *name;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_PROGBITS ||
		    !(name = elf_strptr(g->elf, shstrndx, shdr.sh_name)))
			continue;
		for (i = 0; i < NWANTED && strcmp(name, wanted_sections[i]); i++)
			;
		if (i == NWANTED || !in_bounds(shdr.sh_offset, shdr.sh_size, g->size))
			continue;
		names[n] = wanted_sections[i];
		found[n++] = shdr;
		strsz += strlen(wanted_sections[i]) + 1;
	}
	if (!n)
		return NULL;
	pos = sizeof(Elf64_Ehdr);
	for (i = 0; i < n; i++)
		pos = ((pos + 7) & ~(size_t)7) + found[i].sh_size;
	strpos = pos;
	shoff = (strpos + strsz + 7) & ~(size_t)7;
	*size = shoff + (n + 2) * sizeof(Elf64_Shdr);
	img = calloc(1, *size);
	if (!img)
		return NULL;
	eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, g->data, EI_NIDENT);
	eh->e_type = ET_REL;
	eh->e_machine = g->arch == GOELF_ARCH_ARM64 ? EM_AARCH64 : EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shoff = shoff;
	eh->e_shnum = n + 2;
	eh->e_shstrndx = 1;
	sh = (Elf64_Shdr *)(img + shoff);
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_STRTAB;
	sh[1].sh_offset = strpos;
	sh[1].sh_size = strsz;
	sh[1].sh_addralign = 1;
	pos = sizeof(Elf64_Ehdr);
	strsz = 1;
	strcpy((char *)img + strpos + strsz, ".shstrtab");
	sh[1].sh_name = strsz;
	strsz += sizeof(".shstrtab");
	for (i = 0; i < n; i++) {
		Elf64_Shdr *d = &sh[i + 2];

		pos = (pos + 7) & ~(size_t)7;
		memcpy(img + pos, g->data + found[i].sh_offset, found[i].sh_size);
		d->sh_name = strsz;
		strcpy((char *)img + strpos + strsz, names[i]);
		strsz += strlen(names[i]) + 1;
		d->sh_type = SHT_PROGBITS;
		d->sh_flags = found[i].sh_flags & SHF_COMPRESSED;
		d->sh_offset = pos;
		d->sh_size = found[i].sh_size;
		d->sh_addralign = found[i].sh_addralign ? found[i].sh_addralign : 1;
		pos += found[i].sh_size;
	}
	sh[1].sh_size = strsz;
	return img;
}

static struct dw_state *dw_state(struct goelf *g)
{
	struct dw_state *st;
	size_t size;

	if (g->dwarf_tried)
		return g->dwarf;
	g->dwarf_tried = true;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->image = debug_image(g, &size);
	if (st->image)
		st->elf = elf_memory((char *)st->image, size);
	st->dw = dwarf_begin_elf(st->elf ? st->elf : g->elf, DWARF_C_READ, NULL);
	if (!st->dw) {
		if (st->elf)
			elf_end(st->elf);
		free(st->image);
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
	if (st->elf)
		elf_end(st->elf);
	free(st->image);
	free(st->idx);
	free(st);
	g->dwarf = NULL;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct dw_entry *)a)->name, ((const struct dw_entry *)b)->name);
}

static int index_cu(struct dw_state *st, Dwarf_Die *cu)
{
	Dwarf_Die die;
	int rc;

	if (dwarf_child(cu, &die) != 0)
		return 0;
	do {
		const char *name;

		if (dwarf_tag(&die) != DW_TAG_structure_type || !(name = dwarf_diename(&die)))
			continue;
		if (st->n == st->cap) {
			size_t nc = st->cap ? st->cap * 2 : 1024;
			struct dw_entry *v = realloc(st->idx, nc * sizeof(*v));

			if (!v)
				return -1;
			st->idx = v;
			st->cap = nc;
		}
		st->idx[st->n++] = (struct dw_entry){ name, dwarf_dieoffset(&die) };
	} while ((rc = dwarf_siblingof(&die, &die)) == 0);
	return rc < 0 ? -1 : 0;
}

/* Index the runtime unit (@all false), or every other unit (@all true). */
static int build_index(struct dw_state *st, bool all)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	st->indexed = all ? 2 : 1;
	while (dwarf_nextcu(st->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		const char *name;
		bool runtime;

		if (!dwarf_offdie(st->dw, off + hsize, &cu))
			return -1;
		off = next;
		name = dwarf_diename(&cu);
		runtime = name && !strcmp(name, "runtime");
		if (runtime != all && index_cu(st, &cu))
			return -1;
	}
	if (st->n)
		qsort(st->idx, st->n, sizeof(*st->idx), cmp_entry);
	return 0;
}

static struct dw_entry *lookup(struct dw_state *st, const char *name)
{
	struct dw_entry key = { name, 0 };

	return st->n ? bsearch(&key, st->idx, st->n, sizeof(*st->idx), cmp_entry) : NULL;
}

static char *type_name(Dwarf_Die *type)
{
	const char *n = dwarf_diename(type);

	return n ? strdup(n) : NULL;
}

int goelf_dwarf_struct(struct goelf *g, const char *name, struct goelf_struct *out)
{
	struct dw_state *st = dw_state(g);
	struct dw_entry *e;
	Dwarf_Die die, m;
	Dwarf_Word w;
	Dwarf_Attribute attr;
	size_t cap = 0;
	int rc;

	if (!st)
		return goelf_fail(g, "unreadable DWARF: %s", dwarf_errmsg(-1));
	if (!st->indexed && build_index(st, false))
		return goelf_fail(g, "corrupt DWARF: %s", dwarf_errmsg(-1));
	e = lookup(st, name);
	if (!e && st->indexed == 1) {
		if (build_index(st, true))
			return goelf_fail(g, "corrupt DWARF: %s", dwarf_errmsg(-1));
		e = lookup(st, name);
	}
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
