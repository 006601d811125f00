// SPDX-License-Identifier: GPL-2.0-only
/*
 * Struct layouts from the runtime type descriptors every Go binary carries, DWARF or not:
 * moduledata → types/typelinks/itablinks (inline typelinks and itabs from Go 1.27) →
 * _type → structType fields. This is what makes
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

/*
 * moduledata offsets (64-bit) per generation; the first word holds the pclntab's address
 * (pcHeader from 1.16, pclntable's data pointer before). Until 1.26 the roots of the type
 * graph are two slices, typelinks ([]int32 offsets from types) and itablinks ([]*itab).
 * From 1.27 (cmd/link dodataSect, runtime moduleTypelinks/addModuleItabs) they are gone:
 * the typelink descriptors come first in [types+ptrsize, types+typedesclen), one after
 * the other, and the itabs sit inline at types+itaboffset, itabsize bytes.
 */
struct md_layout {
	int min_minor;
	bool inline_links; /* 1.27: typedesclen/itaboffset/itabsize instead of the slices */
	unsigned int text, etext, types, etypes, typelinks, itablinks;
	unsigned int typedesclen, itaboffset, itabsize;
};

#define MD_LINKS(minor, tx, ty, ety, tl, il)                                                \
	{ .min_minor = minor, .text = tx, .etext = tx + 8, .types = ty, .etypes = ety,          \
	  .typelinks = tl, .itablinks = il }

static const struct md_layout md_layouts[] = {
	/* 1.27: types, typedesclen, etypes, itaboffset, itabsize */
	{ .min_minor = 27, .inline_links = true, .text = 176, .etext = 184, .types = 296,
	  .typedesclen = 304, .etypes = 312, .itaboffset = 320, .itabsize = 328 },
	MD_LINKS(26, 176, 296, 304, 360, 384), /* 1.26: epclntab after gofunc */
	MD_LINKS(20, 176, 296, 304, 352, 376), /* 1.20–1.25: covctrs added */
	MD_LINKS(18, 176, 280, 288, 336, 360), /* 1.18–1.19: rodata, gofunc added */
	MD_LINKS(16, 176, 280, 288, 320, 344), /* 1.16–1.17: pcHeader first */
	MD_LINKS(13, 96, 200, 208, 240, 264),  /* 1.13–1.15: pclntable first */
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
	const struct md_layout *layout;
	uint64_t types, etypes;
	/* until 1.26 */
	uint64_t typelinks, ntypelinks, itablinks, nitablinks;
	/* from 1.27: byte lengths from types */
	uint64_t typedesclen, itaboffset, itabsize;
};

static bool rd(struct goelf *g, uint64_t a, uint64_t *v)
{
	return goelf_ptr(g, a, v);
}

static bool check_md_inline(struct goelf *g, uint64_t md, const struct md_layout *l,
			    struct moduledata_found *f)
{
	uint64_t span;

	if (!rd(g, md + l->typedesclen, &f->typedesclen) || !rd(g, md + l->itaboffset, &f->itaboffset) ||
	    !rd(g, md + l->itabsize, &f->itabsize))
		return false;
	span = f->etypes - f->types;
	/* typelinks, then the other types, then the itabs: all inside [types, etypes) */
	if (f->typedesclen < 8 || f->typedesclen > span || f->itaboffset < f->typedesclen ||
	    f->itaboffset > span || f->itabsize > span - f->itaboffset ||
	    (f->typedesclen == 8 && f->itabsize == 0))
		return false;
	return goelf_vbytes(g, f->types, f->typedesclen) &&
	       (!f->itabsize || goelf_vbytes(g, f->types + f->itaboffset, f->itabsize));
}

static bool check_md(struct goelf *g, uint64_t md, const struct md_layout *l,
		     struct moduledata_found *f)
{
	uint64_t text, etext, tlcap, ilcap;

	memset(f, 0, sizeof(*f));
	f->layout = l;
	if (!rd(g, md + l->text, &text) || !rd(g, md + l->etext, &etext) ||
	    !rd(g, md + l->types, &f->types) || !rd(g, md + l->etypes, &f->etypes))
		return false;
	if (text >= etext || f->types >= f->etypes || f->etypes - f->types > (1u << 30))
		return false;
	if (l->inline_links)
		return check_md_inline(g, md, l, f);
	if (!rd(g, md + l->typelinks, &f->typelinks) || !rd(g, md + l->typelinks + 8, &f->ntypelinks) ||
	    !rd(g, md + l->typelinks + 16, &tlcap) || !rd(g, md + l->itablinks, &f->itablinks) ||
	    !rd(g, md + l->itablinks + 8, &f->nitablinks) || !rd(g, md + l->itablinks + 16, &ilcap))
		return false;
	if (f->ntypelinks != tlcap || f->nitablinks != ilcap || f->ntypelinks > MAX_SLICE ||
	    f->nitablinks > MAX_SLICE || f->ntypelinks + f->nitablinks == 0)
		return false;
	/* the tables must be in the file */
	return goelf_vbytes(g, f->types, 1) &&
	       (!f->ntypelinks || goelf_vbytes(g, f->typelinks, f->ntypelinks * 4)) &&
	       (!f->nitablinks || goelf_vbytes(g, f->itablinks, f->nitablinks * 8));
}

/* Try the layouts of this Go version first, newest first, then the others (a binary
 * whose version is only guessed, or a newer Go that reuses one). */
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

static bool moduledata_at(struct goelf *g, uint64_t md, void *f)
{
	return check_md_any(g, md, g->info.go_minor, f);
}

static int find_moduledata(struct goelf *g, struct moduledata_found *f)
{
	const struct pclntab *t;
	uint64_t md;

	if (goelf_symbol(g, "runtime.firstmoduledata", &md, NULL) &&
	    check_md_any(g, md, g->info.go_minor, f))
		return 0;
	if (goelf_pclntab(g, &t))
		return -1;
	if (!t->vaddr)
		return goelf_fail(g, "pclntab address unknown: cannot locate moduledata");
	/* firstmoduledata sits in writable data and starts with the pclntab's address. */
	if (goelf_words_holding(g, t->vaddr, moduledata_at, f))
		return 0;
	return goelf_fail(g, "Go runtime type information not found (no moduledata layout of "
			     "Go 1.13 to 1.27 matches)");
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

/*
 * How many bytes the descriptor at @type spans with what follows it (uncommon part,
 * field/method/parameter arrays), as Go 1.27's abi.Type.DescriptorSize computes it; 0 when
 * @type is not a plausible descriptor. Used only to step through the 1.27 typelinks.
 */
static uint64_t descriptor_size(struct goelf *g, uint64_t type)
{
	const uint8_t *h = goelf_vbytes(g, type, T_HDR), *p;
	uint64_t base, add = 0, n;
	unsigned int kind;

	if (!h)
		return 0;
	kind = h[T_KIND] & KIND_MASK;
	switch (kind) {
	case K_ARRAY: base = 72; break;     /* Elem, Slice, Len */
	case K_CHAN: base = 64; break;      /* Elem, Dir */
	case K_MAP: base = 144; break;      /* Key, Elem, Group, Hasher, 6 words, Flags */
	case K_PTR: case K_SLICE: base = 56; break;
	case K_FUNC:                        /* InCount, OutCount; then the parameter types */
		if (!(p = goelf_vbytes(g, type + T_HDR, 4)))
			return 0;
		base = 56;
		add = ((uint64_t)ld16(p) + (ld16(p + 2) & 0x7fff)) * 8;
		break;
	case K_INTERFACE:                   /* PkgPath, Methods; then the imethods */
	case K_STRUCT:                      /* PkgPath, Fields; then the fields */
		if (!rd(g, type + 64, &n) || n > 4096)
			return 0;
		base = 80;
		add = n * (kind == K_STRUCT ? 24 : 8);
		break;
	default:
		if (kind == 0 || kind > 26) /* Invalid, or past UnsafePointer */
			return 0;
		base = T_HDR;
	}
	if (h[T_TFLAG] & TFLAG_UNCOMMON) { /* uncommon {pkgPath, mcount, xcount, moff, _} */
		if (!(p = goelf_vbytes(g, type + base, 16)))
			return 0;
		add += 16 + (uint64_t)ld16(p + 4) * 16;
	}
	return base + add;
}

/* Go 1.27's roots: the typelink descriptors one after the other (runtime moduleTypelinks),
 * and the inline itabs (runtime addModuleItabs). */
static void inline_roots(struct goelf *g, struct rtypes *rt, struct stack *st,
			 const struct moduledata_found *f)
{
	uint64_t td = f->types + 8, end = f->types + f->typedesclen, sz, p, n, fun0, inter;

	for (;;) {
		td = (td + 7) & ~7ull;
		if (td >= end || !(sz = descriptor_size(g, td)))
			break; /* the end, or a descriptor this reader does not know: stop here */
		push(rt, st, td);
		td += sz;
	}
	p = f->types + f->itaboffset;
	end = p + f->itabsize;
	while (p < end) {
		/* itab {inter, _type, hash u32, fun [n]uintptr}: 32 bytes, plus a word per
		 * method of the interface after the first when fun[0] != 0 */
		p = (p + 7) & ~7ull;
		if (p + 32 > end || !rd(g, p, &inter) || !rd(g, p + 24, &fun0) ||
		    !rd(g, inter + 64, &n) || !n || n > 4096)
			break;
		push(rt, st, inter);
		push_ptr(g, rt, st, p + 8);
		p += 32 + (fun0 ? (n - 1) * 8 : 0);
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

	if (f.layout->inline_links) {
		inline_roots(g, rt, &st, &f);
	} else {
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

/* ---- itabs ---------------------------------------------------------------------------- */

struct itab_want {
	const char *type, *iface;
	uint64_t found;
};

/* Is the itab at @itab the one of @w->type for @w->iface? (inter @0, _type @8) */
static bool itab_is(struct goelf *g, uint64_t itab, struct itab_want *w)
{
	char a[128], b[128];
	uint64_t inter, type;

	if (!rd(g, itab, &inter) || !rd(g, itab + 8, &type) ||
	    !type_string(g, g->rt, inter, a, sizeof(a)) || strcmp(a, w->iface) ||
	    !type_string(g, g->rt, type, b, sizeof(b)) || strcmp(b, w->type))
		return false;
	w->found = itab;
	return true;
}

int goelf_itab(struct goelf *g, const char *type, const char *iface, uint64_t *vaddr,
	       uint64_t *file_off)
{
	struct itab_want w = { .type = type, .iface = iface };
	struct moduledata_found f;
	char sym[300];
	uint64_t v, i, p, end, inter, fun0, n;

	/* Symbols first: "go:itab.*bufio.Writer,io.Writer" (Go 1.20-1.26), "go.itab." before. */
	snprintf(sym, sizeof(sym), "go:itab.%s,%s", type, iface);
	if (goelf_symbol(g, sym, &v, NULL))
		w.found = v;
	snprintf(sym, sizeof(sym), "go.itab.%s,%s", type, iface);
	if (!w.found && goelf_symbol(g, sym, &v, NULL))
		w.found = v;
	/* Else the runtime's own list: itablinks, or (Go 1.27) the itabs inline after the
	 * type descriptors, as addModuleItabs walks them. */
	if (!w.found) {
		if (load(g) || find_moduledata(g, &f))
			return -1;
		if (!f.layout->inline_links) {
			for (i = 0; i < f.nitablinks && !w.found; i++)
				if (rd(g, f.itablinks + i * 8, &p))
					itab_is(g, p, &w);
		} else {
			p = f.types + f.itaboffset;
			end = p + f.itabsize;
			while (p < end && !w.found) {
				p = (p + 7) & ~7ull;
				if (p + 32 > end || !rd(g, p, &inter) || !rd(g, p + 24, &fun0) ||
				    !rd(g, inter + 64, &n) || !n || n > 4096)
					break;
				if (!itab_is(g, p, &w))
					p += 32 + (fun0 ? (n - 1) * 8 : 0);
			}
		}
	}
	if (!w.found)
		return 1;
	*vaddr = w.found;
	if (!goelf_vaddr_off(g, w.found, file_off))
		return goelf_fail(g, "the itab of %s for %s is outside the file", type, iface);
	return 0;
}
