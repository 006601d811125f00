// SPDX-License-Identifier: GPL-2.0-only
/*
 * Functions by name: from .symtab when present (exact sizes), otherwise from the pclntab
 * (size = up to the next function, alignment padding included). Each comes with its file
 * offset, which is what a uprobe attaches to, and the address of every return.
 */
#include <stdlib.h>
#include <string.h>

#include "goelf_int.h"

struct collect {
	struct goelf_funcs *out;
	size_t cap;
	bool (*match)(const char *name, void *arg);
	void *arg;
	int err;
	uint64_t scanned, budget; /* code bytes decoded so far, and the most we will */
};

/*
 * Real functions do not overlap, so decoding them all reads each code byte once. A
 * crafted symbol table could make every symbol span all the code: give up past a few
 * times the code's size rather than take quadratic time.
 */
static uint64_t scan_budget(struct goelf *g)
{
	uint64_t code = 0;
	size_t i;

	for (i = 0; i < g->nsegs; i++)
		if (g->segs[i].flags & PF_X)
			code += g->segs[i].filesz;
	return 4 * code + (1u << 20);
}

static const struct gseg *exec_seg(struct goelf *g, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < g->nsegs; i++)
		if ((g->segs[i].flags & PF_X) && vaddr >= g->segs[i].vaddr &&
		    vaddr - g->segs[i].vaddr < g->segs[i].filesz)
			return &g->segs[i];
	return NULL;
}

static void add_func(struct goelf *g, struct collect *c, const char *name, uint64_t addr,
		     uint64_t size)
{
	const struct gseg *s = exec_seg(g, addr);
	struct goelf_func *f;
	uint64_t rel, avail;

	if (!s || c->err)
		return; /* not code in this file (an undefined or bogus entry) */
	if (c->out->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct goelf_func *v = realloc(c->out->v, nc * sizeof(*v));

		if (!v) {
			c->err = -1;
			return;
		}
		c->out->v = v;
		c->cap = nc;
	}
	f = &c->out->v[c->out->n];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	if (!f->name) {
		c->err = -1;
		return;
	}
	c->out->n++;
	rel = addr - s->vaddr;
	avail = s->filesz - rel;
	f->address = addr;
	f->offset = s->off + rel;
	/* a corrupt size cannot reach past the segment's bytes in the file */
	f->size = size < avail ? size : avail;
	c->scanned += f->size;
	if (c->scanned > c->budget) {
		c->err = -2;
		return;
	}
	if (scan_returns(g->arch, g->data + f->offset, f->size, addr,
			 &f->returns, &f->nreturns))
		c->err = -1;
}

static bool from_symtab(struct goelf *g, const GElf_Sym *sym, const char *name, void *arg)
{
	struct collect *c = arg;

	if (GELF_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_value ||
	    sym->st_shndx == SHN_UNDEF)
		return false;
	if (!c->match || c->match(name, c->arg))
		add_func(g, c, name, sym->st_value, sym->st_size);
	return c->err != 0;
}

static int cmp_name(const void *a, const void *b)
{
	const struct goelf_func *fa = a, *fb = b;
	int c = strcmp(fa->name, fb->name);

	return c ? c : fa->address < fb->address ? -1 : fa->address > fb->address;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct goelf_func *fa = a, *fb = b;

	return fa->address < fb->address ? -1 : fa->address > fb->address;
}

/*
 * The pclntab names an ABI wrapper (".abi0" in the symbol table) like the function it
 * wraps; a probe belongs on the real one. Drop an entry whose code branches straight to
 * another entry of the same name.
 */
static void drop_abi_wrappers(struct goelf *g, struct goelf_funcs *fs)
{
	size_t i, j, k, out = 0;

	if (fs->n < 2)
		return;
	qsort(fs->v, fs->n, sizeof(*fs->v), cmp_name);
	for (i = 0; i < fs->n; i = j) {
		for (j = i + 1; j < fs->n && !strcmp(fs->v[i].name, fs->v[j].name); j++)
			;
		/* a wrapper and its function come in pairs: a crowd of one name is corrupt
		 * or generated, and comparing it pairwise would be quadratic */
		for (k = i; k < j; k++) {
			struct goelf_func *f = &fs->v[k];
			bool wrapper = false;
			size_t m;

			for (m = i; m < j && !wrapper && j - i > 1 && j - i <= 8; m++)
				wrapper = m != k && code_branches_to(g->arch, g->data + f->offset,
								     f->size, f->address, fs->v[m].address);
			if (wrapper) {
				free(f->name);
				free(f->returns);
			} else {
				fs->v[out++] = *f;
			}
		}
	}
	fs->n = out;
	qsort(fs->v, fs->n, sizeof(*fs->v), cmp_addr);
}

int goelf_find_funcs(struct goelf *g, bool (*match)(const char *name, void *arg), void *arg,
		     struct goelf_funcs *out)
{
	struct collect c = { .out = out, .match = match, .arg = arg, .budget = scan_budget(g) };

	memset(out, 0, sizeof(*out));
	if (goelf_has_symtab(g)) {
		out->source = "symtab";
		symtab_walk(g, from_symtab, &c);
	} else {
		const struct pclntab *t;
		uint64_t i;

		if (goelf_pclntab(g, &t))
			return -1;
		out->source = "pclntab";
		for (i = 0; i < t->nfunc && !c.err; i++) {
			uint64_t entry, end;
			const char *name;

			if (!pclntab_func(t, i, &entry, &end, &name)) {
				goelf_funcs_free(out);
				return goelf_fail(g, "corrupt pclntab entry %llu", (unsigned long long)i);
			}
			if (!match || match(name, arg))
				add_func(g, &c, name, entry, end - entry);
		}
		if (!c.err)
			drop_abi_wrappers(g, out);
	}
	if (c.err) {
		goelf_funcs_free(out);
		if (c.err == -2)
			return goelf_fail(g, "corrupt symbol table: functions overlap");
		return goelf_fail(g, "out of memory");
	}
	return 0;
}

void goelf_funcs_free(struct goelf_funcs *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->v[i].name);
		free(fs->v[i].returns);
	}
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

/* ---- struct layouts: DWARF, runtime types ------------------------------------------- */

int goelf_struct(struct goelf *g, const char *name, enum goelf_source_pref pref,
		 struct goelf_struct *out)
{
	int rc = 1;

	memset(out, 0, sizeof(*out));
	if (pref == GOELF_PREFER_AUTO || pref == GOELF_ONLY_DWARF) {
		if (g->info.has_dwarf)
			rc = goelf_dwarf_struct(g, name, out);
		else if (pref == GOELF_ONLY_DWARF)
			return goelf_fail(g, "no DWARF in this binary");
		/* corrupt DWARF (-1) or no such type (1): the runtime types may still say */
		if (rc == 0 || pref == GOELF_ONLY_DWARF)
			return rc;
	}
	if (pref == GOELF_PREFER_AUTO || pref == GOELF_ONLY_RUNTIME)
		rc = goelf_rt_struct(g, name, out);
	return rc;
}

void goelf_struct_free(struct goelf_struct *s)
{
	size_t i;

	for (i = 0; i < s->nfields; i++) {
		free(s->fields[i].name);
		free(s->fields[i].type);
	}
	free(s->fields);
	free(s->name);
	memset(s, 0, sizeof(*s));
}
