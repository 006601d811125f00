// SPDX-License-Identifier: GPL-2.0-only
/*
 * Struct layouts from the runtime type descriptors every Go binary carries, DWARF or not:
 * moduledata → types/typelinks/itablinks → _type → structType fields. This is what makes
 * stripped binaries of Go releases no table knows yet readable. Layouts: src/runtime
 * (type.go, symtab.go), src/internal/abi/type.go; see the notes next to each offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goelf_int.h"

/* _type (abi.Type), 48 bytes from Go 1.14 to today. */
#define T_SIZE 0
#define T_TFLAG 20
#define T_KIND 23
#define T_STR 40
#define T_HDR 48
#define TFLAG_UNCOMMON 1
#define TFLAG_EXTRASTAR 2
#define KIND_MASK 0x1f

enum kind {
	K_ARRAY = 17, K_CHAN = 18, K_FUNC = 19, K_INTERFACE = 20, K_MAP = 21,
	K_PTR = 22, K_SLICE = 23, K_STRUCT = 25,
};

/* moduledata offsets (64-bit) per generation; "pc" is the word holding the pclntab
 * address (pcHeader from 1.16, pclntable's data pointer before). */
struct md_layout {
	int min_minor;
	unsigned int pc, text, etext, types, etypes, typelinks, itablinks;
};

static const struct md_layout md_layouts[] = {
	{ 26, 0, 176, 184, 296, 304, 360, 384 }, /* 1.26: epclntab after gofunc */
	{ 20, 0, 176, 184, 296, 304, 352, 376 }, /* 1.20–1.25: covctrs added */
	{ 18, 0, 176, 184, 280, 288, 336, 360 }, /* 1.18–1.19: rodata, gofunc added */
	{ 16, 0, 176, 184, 280, 288, 320, 344 }, /* 1.16–1.17: pcHeader first */
	{ 13, 0, 96, 104, 200, 208, 240, 264 },  /* 1.13–1.15: pclntable first */
};

#define MAX_SLICE (1u << 24)

struct rt_entry {
	char *name; /* "net/http.Request" */
	uint64_t type;
};

struct rtypes {
	uint64_t types, etypes;
	int minor;
	bool varint_names;   /* name length: uvarint from 1.17, big-endian u16 before */
	/* visited set (open addressing over type addresses) */
	uint64_t *seen;
	size_t seen_cap, seen_n;
	struct rt_entry *idx;
	size_t n, cap;
	uint64_t edges, max_edges; /* references followed, and the most we follow */
};

struct moduledata_found {
	uint64_t types, etypes, typelinks, ntypelinks, itablinks, nitablinks;
};

static bool rd(struct goelf *g, uint64_t a, uint64_t *v)
{
	return goelf_ptr(g, a, v);
}

static bool check_md(struct goelf *g, uint64_t md, const struct md_layout *l,
		     struct moduledata_found *f)
{
	uint64_t text, etext, tlcap, ilcap;

	if (!rd(g, md + l->text, &text) || !rd(g, md + l->etext, &etext) ||
	    !rd(g, md + l->types, &f->types) || !rd(g, md + l->etypes, &f->etypes) ||
	    !rd(g, md + l->typelinks, &f->typelinks) || !rd(g, md + l->typelinks + 8, &f->ntypelinks) ||
	    !rd(g, md + l->typelinks + 16, &tlcap) || !rd(g, md + l->itablinks, &f->itablinks) ||
	    !rd(g, md + l->itablinks + 8, &f->nitablinks) || !rd(g, md + l->itablinks + 16, &ilcap))
		return false;
	if (text >= etext || f->types >= f->etypes || f->etypes - f->types > (1u << 30) ||
	    f->ntypelinks != tlcap || f->nitablinks != ilcap || f->ntypelinks > MAX_SLICE ||
	    f->nitablinks > MAX_SLICE || f->ntypelinks + f->nitablinks == 0)
		return false;
	/* the tables must be in the file */
	return goelf_vbytes(g, f->types, 1) &&
	       (!f->ntypelinks || goelf_vbytes(g, f->typelinks, f->ntypelinks * 4)) &&
	       (!f->nitablinks || goelf_vbytes(g, f->itablinks, f->nitablinks * 8));
}

/* Try the layout of this Go version first, then the others (a newer Go may reuse one). */
static bool check_md_any(struct goelf *g, uint64_t md, int minor, struct moduledata_found *f)
{
	size_t i, n = sizeof(md_layouts) / sizeof(md_layouts[0]);

	for (i = 0; i < n; i++)
		if (minor >= md_layouts[i].min_minor && check_md(g, md, &md_layouts[i], f))
			return true;
	for (i = 0; i < n; i++)
		if (check_md(g, md, &md_layouts[i], f))
			return true;
	return false;
}

static int find_moduledata(struct goelf *g, struct moduledata_found *f)
{
	const struct pclntab *t;
	uint64_t md, pc;
	size_t i, k;

	if (goelf_symbol(g, "runtime.firstmoduledata", &md, NULL) &&
	    check_md_any(g, md, g->info.go_minor, f))
		return 0;
	if (goelf_pclntab(g, &t))
		return -1;
	pc = t->vaddr;
	if (!pc)
		return goelf_fail(g, "pclntab address unknown: cannot locate moduledata");
	/* firstmoduledata sits in writable data and starts with the pclntab's address. */
	for (i = 0; i < g->nsegs; i++) {
		const struct gseg *s = &g->segs[i];

		if (!(s->flags & PF_W))
			continue;
		for (k = 0; k + 8 <= s->filesz; k += 8)
			if (ld64(g->data + s->off + k) == pc &&
			    check_md_any(g, s->vaddr + k, g->info.go_minor, f))
				return 0;
	}
	/* PIE: the word is zero in the file and set by a relocation. */
	if (g->etype == ET_DYN) {
		goelf_load_relocs(g);
		for (k = 0; k < g->nrel; k++)
			if (g->rels[k].addend == pc && check_md_any(g, g->rels[k].off, g->info.go_minor, f))
				return 0;
	}
	return goelf_fail(g, "Go runtime type information not found (moduledata)");
}

/* ---- names and types ----------------------------------------------------------------- */

/* A name (runtime/type.go "name"): flags byte, length, bytes. */
static bool name_at(struct goelf *g, struct rtypes *rt, uint64_t addr, const char **s,
		    size_t *len, uint8_t *flags)
{
	const uint8_t *p = goelf_vbytes(g, addr, 3);
	uint64_t n;
	size_t used;

	if (!p)
		return false;
	*flags = p[0];
	if (rt->varint_names) {
		const uint8_t *q = goelf_vbytes(g, addr + 1, 1);
		uint8_t buf[10];
		size_t k;

		if (!q)
			return false;
		/* the varint may end before 10 bytes of file do: copy what exists */
		for (k = 0; k < sizeof(buf) && (q = goelf_vbytes(g, addr + 1 + k, 1)); k++)
			buf[k] = *q;
		used = uvarint(buf, buf + k, &n);
		if (!used)
			return false;
	} else {
		n = (uint64_t)p[1] << 8 | p[2];
		used = 2;
	}
	if (n > 4096)
		return false;
	p = goelf_vbytes(g, addr + 1 + used, n);
	if (!p && n)
		return false;
	*s = (const char *)p;
	*len = n;
	return true;
}

static bool name_off(struct goelf *g, struct rtypes *rt, int32_t off, const char **s,
		     size_t *len, uint8_t *flags)
{
	if (off < 0)
		return false;
	return name_at(g, rt, rt->types + (uint64_t)off, s, len, flags);
}

/* The type's string, e.g. "*http.Request", into @buf. */
static bool type_string(struct goelf *g, struct rtypes *rt, uint64_t type, char *buf, size_t buflen)
{
	const uint8_t *h = goelf_vbytes(g, type, T_HDR);
	const char *s;
	size_t len;
	uint8_t fl;

	if (!h || !name_off(g, rt, (int32_t)ld32(h + T_STR), &s, &len, &fl))
		return false;
	if ((h[T_TFLAG] & TFLAG_EXTRASTAR) && len && s[0] == '*') {
		s++;
		len--;
	}
	snprintf(buf, buflen, "%.*s", (int)len, s);
	return true;
}

static size_t uncommon_offset(unsigned int kind)
{
	switch (kind) {
	case K_STRUCT: return 80;
	case K_PTR: case K_SLICE: return 56;
	case K_ARRAY: return 72;
	case K_CHAN: return 64;
	case K_FUNC: return 56;
	case K_INTERFACE: return 80;
	case K_MAP: return 0; /* layout changed across versions: do not rely on it */
	default: return T_HDR;
	}
}

/* ---- the walk ------------------------------------------------------------------------- */

static bool seen_add(struct rtypes *rt, uint64_t a)
{
	size_t i;

	if (rt->seen_n * 2 >= rt->seen_cap) {
		size_t nc = rt->seen_cap ? rt->seen_cap * 2 : 4096, j;
		uint64_t *v = calloc(nc, sizeof(*v));

		if (!v)
			return false;
		for (j = 0; j < rt->seen_cap; j++) {
			uint64_t x = rt->seen[j];

			if (!x)
				continue;
			for (i = (x * 0x9e3779b97f4a7c15ull) >> 20 & (nc - 1); v[i]; i = (i + 1) & (nc - 1))
				;
			v[i] = x;
		}
		free(rt->seen);
		rt->seen = v;
		rt->seen_cap = nc;
	}
	for (i = (a * 0x9e3779b97f4a7c15ull) >> 20 & (rt->seen_cap - 1); rt->seen[i];
	     i = (i + 1) & (rt->seen_cap - 1))
		if (rt->seen[i] == a)
			return false;
	rt->seen[i] = a;
	rt->seen_n++;
	return true;
}

struct stack {
	uint64_t *v;
	size_t n, cap;
};

static void push(struct rtypes *rt, struct stack *st, uint64_t a)
{
	/* A real binary has a few references per type; a crafted one could claim 65535
	 * methods on every type: stop following past a multiple of the table's size. */
	if (++rt->edges > rt->max_edges)
		return;
	if (a < rt->types || a >= rt->etypes || !seen_add(rt, a))
		return;
	if (st->n == st->cap) {
		size_t nc = st->cap ? st->cap * 2 : 1024;
		uint64_t *v = realloc(st->v, nc * sizeof(*v));

		if (!v)
			return;
		st->v = v;
		st->cap = nc;
	}
	st->v[st->n++] = a;
}

static void push_ptr(struct goelf *g, struct rtypes *rt, struct stack *st, uint64_t at)
{
	uint64_t v;

	if (rd(g, at, &v))
		push(rt, st, v);
}

static void push_off(struct goelf *g, struct rtypes *rt, struct stack *st, uint64_t at)
{
	const uint8_t *p = goelf_vbytes(g, at, 4);
	int32_t off;

	if (!p)
		return;
	off = (int32_t)ld32(p);
	if (off > 0)
		push(rt, st, rt->types + (uint64_t)off);
}

static void index_named(struct goelf *g, struct rtypes *rt, uint64_t type, const uint8_t *h)
{
	char str[512];
	const char *pkg, *dot;
	size_t pkglen;
	uint8_t fl;
	const uint8_t *u = goelf_vbytes(g, type + uncommon_offset(K_STRUCT), 4);
	struct rt_entry *e;

	if (!(h[T_TFLAG] & TFLAG_UNCOMMON) || !u || !type_string(g, rt, type, str, sizeof(str)) ||
	    !name_off(g, rt, (int32_t)ld32(u), &pkg, &pkglen, &fl) || !pkglen)
		return;
	dot = strchr(str, '.'); /* "http.Request": the package name has no dot */
	if (!dot)
		return;
	if (rt->n == rt->cap) {
		size_t nc = rt->cap ? rt->cap * 2 : 512;
		struct rt_entry *v = realloc(rt->idx, nc * sizeof(*v));

		if (!v)
			return;
		rt->idx = v;
		rt->cap = nc;
	}
	e = &rt->idx[rt->n];
	if (asprintf(&e->name, "%.*s%s", (int)pkglen, pkg, dot) < 0)
		return;
	e->type = type;
	rt->n++;
}

/* Follow every type reference out of @type; index it when it is a named struct. */
static void visit(struct goelf *g, struct rtypes *rt, struct stack *st, uint64_t type)
{
	const uint8_t *h = goelf_vbytes(g, type, T_HDR);
	unsigned int kind;
	uint64_t p, n, i, uoff;

	if (!h)
		return;
	kind = h[T_KIND] & KIND_MASK;
	switch (kind) {
	case K_PTR: case K_SLICE: case K_CHAN:
		push_ptr(g, rt, st, type + 48);
		break;
	case K_ARRAY:
		push_ptr(g, rt, st, type + 48);
		push_ptr(g, rt, st, type + 56);
		break;
	case K_MAP:
		push_ptr(g, rt, st, type + 48);
		push_ptr(g, rt, st, type + 56);
		break;
	case K_STRUCT:
		if (rd(g, type + 56, &p) && rd(g, type + 64, &n) && n <= 4096)
			for (i = 0; i < n; i++)
				push_ptr(g, rt, st, p + i * 24 + 8);
		index_named(g, rt, type, h);
		break;
	case K_FUNC: {
		const uint8_t *c = goelf_vbytes(g, type + 48, 4);
		uint64_t params = type + 56 + ((h[T_TFLAG] & TFLAG_UNCOMMON) ? 16 : 0);

		if (!c)
			break;
		n = (uint64_t)ld16(c) + (ld16(c + 2) & 0x7fff);
		for (i = 0; i < n; i++)
			push_ptr(g, rt, st, params + i * 8);
		break;
	}
	case K_INTERFACE:
		/* imethods: {name nameOff, typ typeOff} */
		if (rd(g, type + 56, &p) && rd(g, type + 64, &n) && n <= 4096)
			for (i = 0; i < n; i++)
				push_off(g, rt, st, p + i * 8 + 4);
		break;
	}
	/* Methods of named types: {name, mtyp typeOff, ifn, tfn}. */
	uoff = uncommon_offset(kind);
	if ((h[T_TFLAG] & TFLAG_UNCOMMON) && uoff) {
		const uint8_t *u = goelf_vbytes(g, type + uoff, 16);

		if (u) {
			uint16_t mcount = ld16(u + 4);
			uint32_t moff = ld32(u + 8);

			for (i = 0; i < mcount; i++)
				push_off(g, rt, st, type + uoff + moff + i * 16 + 4);
		}
	}
}

static int cmp_rt(const void *a, const void *b)
{
	return strcmp(((const struct rt_entry *)a)->name, ((const struct rt_entry *)b)->name);
}

static int load(struct goelf *g)
{
	struct moduledata_found f;
	struct rtypes *rt;
	struct stack st = { 0 };
	const uint8_t *tl;
	uint64_t i;

	if (g->rt_state)
		return g->rt_state > 0 ? 0 : -1;
	g->rt_state = -1;
	if (find_moduledata(g, &f))
		return -1;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return goelf_fail(g, "out of memory");
	g->rt = rt;
	rt->types = f.types;
	rt->etypes = f.etypes;
	rt->minor = g->info.go_minor;
	rt->max_edges = 4 * (rt->etypes - rt->types) + (1u << 20);
	rt->varint_names = rt->minor >= 17;

	tl = f.ntypelinks ? goelf_vbytes(g, f.typelinks, f.ntypelinks * 4) : NULL;
	for (i = 0; tl && i < f.ntypelinks; i++)
		push(rt, &st, rt->types + ld32(tl + i * 4));
	for (i = 0; i < f.nitablinks; i++) {
		uint64_t itab;

		/* itab: inter @0, _type @8 */
		if (rd(g, f.itablinks + i * 8, &itab)) {
			push_ptr(g, rt, &st, itab);
			push_ptr(g, rt, &st, itab + 8);
		}
	}
	while (st.n)
		visit(g, rt, &st, st.v[--st.n]);
	free(st.v);
	free(rt->seen);
	rt->seen = NULL;
	if (rt->n)
		qsort(rt->idx, rt->n, sizeof(*rt->idx), cmp_rt);
	g->rt_state = 1;
	return 0;
}

void goelf_rt_free(struct goelf *g)
{
	struct rtypes *rt = g->rt;
	size_t i;

	if (!rt)
		return;
	for (i = 0; i < rt->n; i++)
		free(rt->idx[i].name);
	free(rt->idx);
	free(rt->seen);
	free(rt);
	g->rt = NULL;
}

/*
 * Field offsets: offset<<1|embedded for Go 1.9–1.18, plain from 1.19. When only the
 * pclntab generation dates the binary (1.18 or 1.19), the plain reading must lay the
 * fields out one after the other inside the struct.
 */
static bool plain_offsets(struct goelf *g, struct rtypes *rt, uint64_t fields, uint64_t n,
			  uint64_t size)
{
	uint64_t i, off, typ, end = 0;
	const uint8_t *th;

	if (g->info.version_exact || rt->minor >= 20)
		return rt->minor >= 19;
	if (rt->minor < 18)
		return false;
	for (i = 0; i < n; i++) {
		if (!rd(g, fields + i * 24 + 16, &off) || !rd(g, fields + i * 24 + 8, &typ) ||
		    !(th = goelf_vbytes(g, typ, T_HDR)) || off < end)
			return false;
		end = off + ld64(th + T_SIZE);
		if (end < off || end > size)
			return false;
	}
	return true;
}

int goelf_rt_struct(struct goelf *g, const char *name, struct goelf_struct *out)
{
	struct rtypes *rt;
	struct rt_entry key = { (char *)name, 0 }, *e;
	const uint8_t *h;
	uint64_t fields, n, i;
	bool plain;

	if (load(g))
		return -1;
	rt = g->rt;
	e = rt->n ? bsearch(&key, rt->idx, rt->n, sizeof(*rt->idx), cmp_rt) : NULL;
	if (!e)
		return 1;
	h = goelf_vbytes(g, e->type, 80);
	if (!h || !rd(g, e->type + 56, &fields) || !rd(g, e->type + 64, &n) || n > 4096)
		return goelf_fail(g, "corrupt type descriptor for %s", name);
	memset(out, 0, sizeof(*out));
	out->source = GOELF_SRC_RUNTIME;
	out->name = strdup(name);
	out->size = (int64_t)ld64(h + T_SIZE);
	out->fields = calloc(n ? n : 1, sizeof(*out->fields));
	if (!out->name || !out->fields) {
		goelf_struct_free(out);
		return goelf_fail(g, "out of memory");
	}
	plain = plain_offsets(g, rt, fields, n, (uint64_t)out->size);
	for (i = 0; i < n; i++) {
		struct goelf_field *f = &out->fields[i];
		uint64_t nameptr, typ, off;
		const uint8_t *th;
		const char *s;
		size_t len;
		uint8_t fl;
		char tbuf[256];

		if (!rd(g, fields + i * 24, &nameptr) || !rd(g, fields + i * 24 + 8, &typ) ||
		    !rd(g, fields + i * 24 + 16, &off) || !name_at(g, rt, nameptr, &s, &len, &fl)) {
			goelf_struct_free(out);
			return goelf_fail(g, "corrupt field %llu of %s", (unsigned long long)i, name);
		}
		out->nfields++;
		f->name = strndup(s ? s : "", len);
		f->offset = plain ? off : off >> 1;
		f->embedded = plain ? (fl & 8) != 0 : (off & 1) != 0;
		f->size = -1;
		th = goelf_vbytes(g, typ, T_HDR);
		if (th) {
			f->size = (int64_t)ld64(th + T_SIZE);
			if (type_string(g, rt, typ, tbuf, sizeof(tbuf)))
				f->type = strdup(tbuf);
		}
		if (!f->name) {
			goelf_struct_free(out);
			return goelf_fail(g, "out of memory");
		}
	}
	return 0;
}
