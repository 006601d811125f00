// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening a Go binary: map it, check it is an ELF we read (64-bit little-endian x86-64 or
 * arm64, complete), and find the Go structures (build info, pclntab) on demand. Every
 * read goes through goelf_file/goelf_vbytes, which check bounds against the file size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goelf_int.h"


int goelf_fail(struct goelf *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->err, sizeof(g->err), fmt, ap);
	va_end(ap);
	return -1;
}

const char *goelf_error(const struct goelf *g)
{
	return g->err[0] ? g->err : "unknown error";
}

const char *goelf_arch_name(enum goelf_arch arch)
{
	return arch == GOELF_ARCH_ARM64 ? "arm64" : "amd64";
}

const char *goelf_abi_name(enum goelf_abi abi)
{
	return abi == GOELF_ABI_REGISTER ? "register" : "stack";
}

const char *goelf_source_name(enum goelf_source src)
{
	switch (src) {
	case GOELF_SRC_DWARF: return "dwarf";
	case GOELF_SRC_RUNTIME: return "runtime";
	case GOELF_SRC_TABLE: return "table";
	default: return "none";
	}
}

const uint8_t *goelf_file(struct goelf *g, uint64_t off, uint64_t len)
{
	return in_bounds(off, len, g->size) ? g->data + off : NULL;
}

bool goelf_vaddr_off(struct goelf *g, uint64_t vaddr, uint64_t *off)
{
	size_t i;

	for (i = 0; i < g->nsegs; i++) {
		const struct gseg *s = &g->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			*off = s->off + (vaddr - s->vaddr);
			return true;
		}
	}
	return false;
}

const uint8_t *goelf_vbytes(struct goelf *g, uint64_t vaddr, uint64_t len)
{
	size_t i;

	for (i = 0; i < g->nsegs; i++) {
		const struct gseg *s = &g->segs[i];

		if (vaddr >= s->vaddr && in_bounds(vaddr - s->vaddr, len, s->filesz))
			return goelf_file(g, s->off + (vaddr - s->vaddr), len);
	}
	return NULL;
}

bool goelf_ptr(struct goelf *g, uint64_t vaddr, uint64_t *out)
{
	const uint8_t *p;

	if (g->etype == ET_DYN) {
		size_t lo = 0, hi;

		goelf_load_relocs(g);
		hi = g->nrel;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (g->rels[mid].off == vaddr) {
				*out = g->rels[mid].addend;
				return true;
			}
			if (g->rels[mid].off < vaddr)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	p = goelf_vbytes(g, vaddr, 8);
	if (!p)
		return false;
	*out = ld64(p);
	return true;
}

static bool mem_ptr(void *ctx, uint64_t vaddr, uint64_t *out)
{
	return goelf_ptr(ctx, vaddr, out);
}

static const uint8_t *mem_bytes(void *ctx, uint64_t vaddr, uint64_t len)
{
	return goelf_vbytes(ctx, vaddr, len);
}

void goelf_mem(struct goelf *g, struct gmem *mem)
{
	mem->ctx = g;
	mem->ptr = mem_ptr;
	mem->bytes = mem_bytes;
}

bool goelf_section(struct goelf *g, const char *name, uint64_t *off, uint64_t *size,
		   uint64_t *addr)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (!g->has_shdrs || elf_getshdrstrndx(g->elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(g->elf, shstrndx, sh.sh_name);
		if (!n || strcmp(n, name))
			continue;
		if (!in_bounds(sh.sh_offset, sh.sh_size, g->size))
			return false;
		*off = sh.sh_offset;
		*size = sh.sh_size;
		if (addr)
			*addr = sh.sh_addr;
		return true;
	}
	return false;
}

static Elf_Scn *find_symtab(struct goelf *g)
{
	Elf_Scn *scn = NULL;

	if (g->symtab_checked)
		return g->symtab;
	g->symtab_checked = true;
	while (g->has_shdrs && (scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB && sh.sh_size &&
		    sh.sh_entsize == sizeof(Elf64_Sym) && in_bounds(sh.sh_offset, sh.sh_size, g->size)) {
			g->symtab = scn;
			break;
		}
	}
	return g->symtab;
}

bool goelf_has_symtab(struct goelf *g)
{
	return find_symtab(g) != NULL;
}

/* Walk .symtab: @fn returns true to stop. */
void symtab_walk(struct goelf *g, bool (*fn)(struct goelf *g, const GElf_Sym *sym,
						      const char *name, void *arg), void *arg)
{
	Elf_Scn *scn = find_symtab(g);
	Elf_Data *d;
	GElf_Shdr sh;
	size_t i, n;

	if (!scn || !gelf_getshdr(scn, &sh) || !(d = elf_getdata(scn, NULL)))
		return;
	n = d->d_size / sizeof(Elf64_Sym);
	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(d, (int)i, &sym))
			break;
		name = elf_strptr(g->elf, sh.sh_link, sym.st_name);
		if (name && fn(g, &sym, name, arg))
			return;
	}
}

struct sym_find {
	const char *name;
	uint64_t value, size;
	bool found;
};

static bool sym_find_one(struct goelf *g, const GElf_Sym *sym, const char *name, void *arg)
{
	struct sym_find *f = arg;

	if (strcmp(name, f->name))
		return false;
	f->value = sym->st_value;
	f->size = sym->st_size;
	f->found = true;
	return true;
}

bool goelf_symbol(struct goelf *g, const char *name, uint64_t *value, uint64_t *size)
{
	struct sym_find f = { .name = name };

	symtab_walk(g, sym_find_one, &f);
	if (f.found) {
		*value = f.value;
		if (size)
			*size = f.size;
	}
	return f.found;
}

/* ---- relocations ---------------------------------------------------------------------- */

static void add_relas(struct goelf *g, const uint8_t *p, uint64_t size, size_t *cap)
{
	uint32_t relative = g->arch == GOELF_ARCH_ARM64 ? 1027 /* R_AARCH64_RELATIVE */
							: 8 /* R_X86_64_RELATIVE */;
	uint64_t i;

	for (i = 0; i + 24 <= size; i += 24) {
		uint64_t info = ld64(p + i + 8);

		if ((uint32_t)info != relative)
			continue;
		if (g->nrel == *cap) {
			size_t nc = *cap ? *cap * 2 : 1024;
			struct grel *v = realloc(g->rels, nc * sizeof(*v));

			if (!v)
				return;
			g->rels = v;
			*cap = nc;
		}
		g->rels[g->nrel].off = ld64(p + i);
		g->rels[g->nrel].addend = ld64(p + i + 16);
		g->nrel++;
	}
}

static int cmp_rel(const void *a, const void *b)
{
	const struct grel *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static void sort_relocs(struct goelf *g)
{
	size_t i;

	/* The linker sorts them; check before paying for a sort. */
	for (i = 1; i < g->nrel && g->rels[i - 1].off <= g->rels[i].off; i++)
		;
	if (i < g->nrel)
		qsort(g->rels, g->nrel, sizeof(*g->rels), cmp_rel);
}

void goelf_load_relocs(struct goelf *g)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0, n, i;
	bool any = false;

	if (g->relocs_loaded)
		return;
	g->relocs_loaded = true;
	while (g->has_shdrs && (scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		const uint8_t *p;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !(sh.sh_flags & SHF_ALLOC))
			continue;
		p = goelf_file(g, sh.sh_offset, sh.sh_size);
		if (p) {
			add_relas(g, p, sh.sh_size, &cap);
			any = true;
		}
	}
	/* No section headers: DT_RELA/DT_RELASZ from the dynamic segment. */
	if (!any && !elf_getphdrnum(g->elf, &n)) {
		for (i = 0; i < n; i++) {
			GElf_Phdr ph;
			const uint8_t *d;
			uint64_t k, rela = 0, relasz = 0;

			if (!gelf_getphdr(g->elf, (int)i, &ph) || ph.p_type != PT_DYNAMIC)
				continue;
			d = goelf_file(g, ph.p_offset, ph.p_filesz);
			for (k = 0; d && k + 16 <= ph.p_filesz; k += 16) {
				uint64_t tag = ld64(d + k), val = ld64(d + k + 8);

				if (tag == DT_RELA)
					rela = val;
				else if (tag == DT_RELASZ)
					relasz = val;
				else if (tag == DT_NULL)
					break;
			}
			if (rela && relasz) {
				const uint8_t *p = goelf_vbytes(g, rela, relasz);

				if (p)
					add_relas(g, p, relasz, &cap);
			}
		}
	}
	sort_relocs(g);
}

/* ---- open/close ----------------------------------------------------------------------- */

static int check_elf(struct goelf *g)
{
	GElf_Ehdr eh;
	size_t n, i, shnum;
	Elf_Scn *scn = NULL;

	if (elf_kind(g->elf) != ELF_K_ELF)
		return goelf_fail(g, "not an ELF file");
	if (!gelf_getehdr(g->elf, &eh))
		return goelf_fail(g, "corrupt ELF header: %s", elf_errmsg(-1));
	if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_AARCH64)
		return goelf_fail(g, "unsupported architecture (ELF machine %u): ehttp reads x86-64 and arm64",
				  eh.e_machine);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return goelf_fail(g, "unsupported ELF class: ehttp reads 64-bit little-endian binaries");
	g->arch = eh.e_machine == EM_AARCH64 ? GOELF_ARCH_ARM64 : GOELF_ARCH_AMD64;
	g->etype = eh.e_type;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return goelf_fail(g, "not an executable (ELF type %u)", eh.e_type);
	if (elf_getphdrnum(g->elf, &n))
		return goelf_fail(g, "corrupt program headers: %s", elf_errmsg(-1));
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(g->elf, (int)i, &ph))
			return goelf_fail(g, "corrupt program header %zu", i);
		if (ph.p_type != PT_LOAD || !ph.p_filesz)
			continue;
		if (!in_bounds(ph.p_offset, ph.p_filesz, g->size))
			return goelf_fail(g, "truncated or corrupt: a loaded segment ends past the end of the file");
		if (g->nsegs < GOELF_MAX_SEGS)
			g->segs[g->nsegs++] = (struct gseg){ ph.p_vaddr, ph.p_memsz, ph.p_offset,
							     ph.p_filesz, ph.p_flags };
	}
	if (!g->nsegs)
		return goelf_fail(g, "no loadable segment");
	if (elf_getshdrnum(g->elf, &shnum) || shnum == 0)
		return 0; /* section headers stripped: we work from segments */
	g->has_shdrs = true;
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return goelf_fail(g, "corrupt section header");
		if (sh.sh_type != SHT_NOBITS && !in_bounds(sh.sh_offset, sh.sh_size, g->size))
			return goelf_fail(g, "truncated or corrupt: a section ends past the end of the file");
	}
	return 0;
}

static struct goelf *open_common(struct goelf *g, char *err, size_t errlen)
{
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		goelf_close(g);
		return NULL;
	}
	g->elf = elf_memory((char *)g->data, g->size);
	if (!g->elf) {
		snprintf(err, errlen, "not an ELF file");
		goelf_close(g);
		return NULL;
	}
	if (check_elf(g) || goelf_load_info(g)) {
		snprintf(err, errlen, "%s", g->err);
		goelf_close(g);
		return NULL;
	}
	return g;
}

struct goelf *goelf_open(const char *path, char *err, size_t errlen)
{
	struct goelf *g;
	struct stat st;
	void *map;

	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (g->fd < 0 || fstat(g->fd, &st)) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goelf_close(g);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		goelf_close(g);
		return NULL;
	}
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		snprintf(err, errlen, "%s: not an ELF file (%lld bytes)", path, (long long)st.st_size);
		goelf_close(g);
		return NULL;
	}
	/* Private and writable so libelf may never touch the file; pages are shared until
	 * written, which libelf does not do for native-endian files. */
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, g->fd, 0);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
		goelf_close(g);
		return NULL;
	}
	g->data = map;
	g->size = st.st_size;
	g->unmap = true;
	if (!open_common(g, err, errlen)) {
		char tmp[GOELF_ERR_MAX];

		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "%s: %s", path, tmp);
		return NULL;
	}
	return g;
}

struct goelf *goelf_open_mem(const void *data, size_t size, char *err, size_t errlen)
{
	struct goelf *g = calloc(1, sizeof(*g));
	void *copy;

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->fd = -1;
	if (size < sizeof(Elf64_Ehdr)) {
		snprintf(err, errlen, "not an ELF file (%zu bytes)", size);
		goelf_close(g);
		return NULL;
	}
	/* libelf takes a writable image: give it a private copy (tests and fuzzing only). */
	copy = malloc(size);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		goelf_close(g);
		return NULL;
	}
	memcpy(copy, data, size);
	g->data = copy;
	g->size = size;
	return open_common(g, err, errlen);
}

void goelf_close(struct goelf *g)
{
	if (!g)
		return;
	goelf_rt_free(g);
	goelf_dwarf_close(g);
	if (g->elf)
		elf_end(g->elf);
	if (g->data) {
		if (g->unmap)
			munmap((void *)g->data, g->size);
		else
			free((void *)g->data);
	}
	if (g->fd >= 0)
		close(g->fd);
	free(g->rels);
	buildinfo_free(&g->bi);
	modinfo_free(&g->mi);
	free(g);
}

/* ---- pclntab -------------------------------------------------------------------------- */

static uint64_t pcln_reloc(void *ctx, uint64_t vaddr, uint64_t raw)
{
	uint64_t v;

	return goelf_ptr(ctx, vaddr, &v) ? v : raw;
}

static bool in_exec_seg(struct goelf *g, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < g->nsegs; i++)
		if ((g->segs[i].flags & PF_X) && vaddr >= g->segs[i].vaddr &&
		    vaddr - g->segs[i].vaddr < g->segs[i].memsz)
			return true;
	return false;
}

bool goelf_words_holding(struct goelf *g, uint64_t value,
			 bool (*fn)(struct goelf *g, uint64_t at, void *arg), void *arg)
{
	size_t i, k;

	for (i = 0; i < g->nsegs; i++) {
		const struct gseg *s = &g->segs[i];

		if (!(s->flags & PF_W))
			continue;
		for (k = 0; k + 8 <= s->filesz; k += 8)
			if (ld64(g->data + s->off + k) == value && fn(g, s->vaddr + k, arg))
				return true;
	}
	/* PIE: the word is zero in the file and set by a relocation. */
	if (g->etype == ET_DYN) {
		goelf_load_relocs(g);
		for (k = 0; k < g->nrel; k++)
			if (g->rels[k].addend == value && fn(g, g->rels[k].off, arg))
				return true;
	}
	return false;
}

static bool text_of_moduledata(struct goelf *g, uint64_t md, void *text)
{
	return goelf_ptr(g, md + 176, text) && in_exec_seg(g, *(uint64_t *)text);
}

/*
 * moduledata.text for the moduledata that points at the pclntab at @pcvaddr: from Go 1.26
 * the pclntab header no longer holds textStart (it needed a relocation), and the runtime
 * reads moduledata.text instead (@176 on 64-bit since 1.16). moduledata starts with the
 * pclntab's address.
 */
static bool moduledata_text(struct goelf *g, uint64_t pcvaddr, uint64_t *text)
{
	return goelf_words_holding(g, pcvaddr, text_of_moduledata, text);
}

/* Parse a candidate table at file offset @off (up to @size bytes) and check it describes code. */
static int try_pclntab(struct goelf *g, uint64_t off, uint64_t size, uint64_t vaddr)
{
	struct pclntab t;
	char err[GOELF_ERR_MAX];
	uint64_t entry, end, v, a;
	const char *name;

	if (pclntab_parse(&t, g->data + off, size, vaddr, err, sizeof(err)))
		return goelf_fail(g, "%s", err);
	if (t.gen < PCLN_118 && g->etype == ET_DYN) {
		t.reloc = pcln_reloc;
		t.reloc_ctx = g;
	}
	if (t.gen >= PCLN_118) {
		/* textStart may be unrelocated in PIE, and is 0 from 1.26: the relocation,
		 * then moduledata.text, then .text say where. */
		if (g->etype == ET_DYN && vaddr && goelf_ptr(g, vaddr + 8 + 2 * t.ptrsize, &v) && v)
			t.text_start = v;
		if (!t.text_start && vaddr && moduledata_text(g, vaddr, &v))
			t.text_start = v;
		if (!t.text_start && goelf_section(g, ".text", &v, &v, &a))
			t.text_start = a;
	}
	if (!pclntab_func(&t, 0, &entry, &end, &name) || !in_exec_seg(g, entry))
		return goelf_fail(g, "pclntab does not describe this binary's code (corrupt?)");
	g->pcln = t;
	return 0;
}

int goelf_pclntab(struct goelf *g, const struct pclntab **out)
{
	uint64_t off, size, addr, end;
	size_t i;

	if (g->pcln_state) {
		*out = &g->pcln;
		return g->pcln_state > 0 ? 0 : -1;
	}
	g->pcln_state = -1;
	if (goelf_section(g, ".gopclntab", &off, &size, &addr) ||
	    goelf_section(g, ".data.rel.ro.gopclntab", &off, &size, &addr)) {
		if (try_pclntab(g, off, size, addr))
			return -1;
		goto ok;
	}
	if (goelf_symbol(g, "runtime.pclntab", &addr, NULL) &&
	    goelf_symbol(g, "runtime.epclntab", &end, NULL) && end > addr &&
	    goelf_vaddr_off(g, addr, &off) && in_bounds(off, end - addr, g->size)) {
		if (!try_pclntab(g, off, end - addr, addr))
			goto ok;
	}
	/* Section headers gone: scan read-only segments for a valid header. */
	for (i = 0; i < g->nsegs; i++) {
		const struct gseg *s = &g->segs[i];
		uint64_t k;

		if (s->flags & PF_X && g->nsegs > 1)
			continue;
		for (k = 0; k + 16 <= s->filesz; k += 8) {
			const uint8_t *p = g->data + s->off + k;

			if (p[4] || p[5] || !pclntab_magic_gen(ld32(p)))
				continue;
			if (!try_pclntab(g, s->off + k, s->filesz - k, s->vaddr + k))
				goto ok;
		}
	}
	return goelf_fail(g, "no Go pclntab found: not a Go binary, or a corrupt one");
ok:
	g->pcln_state = 1;
	*out = &g->pcln;
	return 0;
}
