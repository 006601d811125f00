/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals of the Go binary reader, shared by lib/go/ and its unit tests. */
#ifndef EHTTP_GOELF_INT_H
#define EHTTP_GOELF_INT_H

#include <gelf.h>
#include <stdarg.h>

#include "goelf.h"

#define GOELF_MAX_SEGS 32

/* Little-endian loads from bytes the caller has bounds-checked. */
static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static inline uint64_t ldptr(const uint8_t *p, unsigned int ptrsize)
{
	return ptrsize == 8 ? ld64(p) : ld32(p);
}

/* Is [off, off+len) inside [0, size)? Overflow-proof. */
static inline bool in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/*
 * Reads through virtual addresses: what the buildinfo (old form) and runtime-type parsers
 * need from a binary. ptr() resolves a pointer-sized word, relocation addends included.
 */
struct gmem {
	void *ctx;
	bool (*ptr)(void *ctx, uint64_t vaddr, uint64_t *out);
	const uint8_t *(*bytes)(void *ctx, uint64_t vaddr, uint64_t len);
};

/* ---- uvarint ---- */
/* Decode a uvarint from [p, end); returns bytes used, 0 when malformed or truncated. */
size_t uvarint(const uint8_t *p, const uint8_t *end, uint64_t *out);

/* ---- pclntab (pclntab.c) ---- */
enum pcln_gen { PCLN_12 = 12, PCLN_116 = 116, PCLN_118 = 118, PCLN_120 = 120 };

struct pclntab {
	const uint8_t *data;
	size_t size;
	uint64_t vaddr; /* of data[0], 0 when unknown */
	enum pcln_gen gen;
	uint8_t quantum, ptrsize;
	uint64_t nfunc;
	uint64_t text_start;     /* 1.18+: entries are offsets from it */
	uint64_t funcnametab;    /* offsets into data */
	uint64_t funcdata;       /* _func records are at funcdata + funcoff */
	uint64_t functab;        /* the {entry, funcoff} table */
	/* Optional: resolve a pointer-sized word at @vaddr whose raw file value is @raw
	 * (relocated PIE pclntabs before 1.18). */
	uint64_t (*reloc)(void *ctx, uint64_t vaddr, uint64_t raw);
	void *reloc_ctx;
};

/* Which generation a magic belongs to; 0 when none. */
int pclntab_magic_gen(uint32_t magic);
const char *pclntab_gen_name(enum pcln_gen gen);
/* Validate the header and tables of @data; on failure returns -1 with @err set. */
int pclntab_parse(struct pclntab *t, const uint8_t *data, size_t size, uint64_t vaddr,
		  char *err, size_t errlen);
/* Function @i: entry, end (next entry) and NUL-terminated name inside the table.
 * Returns false when any of it lies outside the table. */
bool pclntab_func(const struct pclntab *t, uint64_t i, uint64_t *entry, uint64_t *end,
		  const char **name);

/* ---- build info (buildinfo.c) ---- */
#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_HDR 32

struct buildinfo {
	char *version;  /* as stored, e.g. "go1.19.8" or "devel +abc ..." */
	char *modinfo;  /* sentinels stripped; NULL when empty */
};

/* Parse the blob that starts with the magic; @mem resolves pointers (old form). */
int buildinfo_parse(const uint8_t *data, size_t size, const struct gmem *mem,
		    struct buildinfo *out, char *err, size_t errlen);
void buildinfo_free(struct buildinfo *bi);

struct modinfo {
	char *main_path;
	bool has_main;
	struct goelf_module *mods; /* main first when has_main */
	size_t nmods;
	struct goelf_setting *settings;
	size_t nsettings;
	char *storage; /* all strings point in here */
};
int modinfo_parse(const char *text, struct modinfo *out);
void modinfo_free(struct modinfo *mi);

/* "go1.19.8 X:nodwarf5" to "go1.19.8"; minor number or 0; false when not a release. */
bool go_version_parse(const char *s, char *out, size_t outlen, int *minor);

/* ---- return instructions (returns.c) ---- */
/* Append to (*ret, *n) the address (base + offset) of every return instruction in @code. */
int scan_returns(enum goelf_arch arch, const uint8_t *code, size_t len, uint64_t base,
		 uint64_t **ret, size_t *n);

bool code_branches_to(enum goelf_arch arch, const uint8_t *code, size_t len, uint64_t base,
		      uint64_t target);

/* ---- the open binary ---- */
struct gseg {
	uint64_t vaddr, memsz, off, filesz;
	uint32_t flags;
};

struct rtypes;

struct goelf {
	Elf *elf;
	int fd;
	const uint8_t *data;
	size_t size;
	bool unmap;
	char err[GOELF_ERR_MAX];

	enum goelf_arch arch;
	uint16_t etype;
	struct gseg segs[GOELF_MAX_SEGS];
	size_t nsegs;
	bool has_shdrs;

	/* relocations with addends (R_*_RELATIVE), sorted by address */
	bool relocs_loaded;
	struct grel {
		uint64_t off, addend;
	} *rels;
	size_t nrel;

	bool symtab_checked;
	Elf_Scn *symtab;

	int pcln_state; /* 0 not tried, 1 ok, -1 failed */
	struct pclntab pcln;

	bool info_loaded;
	int info_rc;
	struct goelf_info info;
	struct buildinfo bi;
	struct modinfo mi;
	char version[64];
	char version_source[GOELF_ERR_MAX];

	bool dwarf_tried;
	void *dwarf; /* Dwarf * */

	int rt_state;
	struct rtypes *rt;
};

int goelf_fail(struct goelf *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes at file offset / virtual address, NULL when outside the file. */
const uint8_t *goelf_file(struct goelf *g, uint64_t off, uint64_t len);
const uint8_t *goelf_vbytes(struct goelf *g, uint64_t vaddr, uint64_t len);
/* File offset of @vaddr inside a loaded segment's file bytes; false when none. */
bool goelf_vaddr_off(struct goelf *g, uint64_t vaddr, uint64_t *off);
/* A pointer-sized word at @vaddr, a relocation's addend when one applies. */
bool goelf_ptr(struct goelf *g, uint64_t vaddr, uint64_t *out);
void goelf_mem(struct goelf *g, struct gmem *mem);
/* Section by name: file range and address; false when absent or outside the file. */
bool goelf_section(struct goelf *g, const char *name, uint64_t *off, uint64_t *size,
		   uint64_t *addr);
/* A symbol's value and size from .symtab; false when absent. */
bool goelf_symbol(struct goelf *g, const char *name, uint64_t *value, uint64_t *size);
bool goelf_has_symtab(struct goelf *g);
/* Walk .symtab: @fn returns true to stop. */
void symtab_walk(struct goelf *g,
		 bool (*fn)(struct goelf *g, const GElf_Sym *sym, const char *name, void *arg),
		 void *arg);
/* Call @fn with the address of each pointer-sized word in writable data that holds @value,
 * in the file or (PIE) through a relocation's addend, until @fn returns true. */
bool goelf_words_holding(struct goelf *g, uint64_t value,
			 bool (*fn)(struct goelf *g, uint64_t at, void *arg), void *arg);
int goelf_pclntab(struct goelf *g, const struct pclntab **out);
int goelf_load_info(struct goelf *g);
void goelf_load_relocs(struct goelf *g);

/* ---- DWARF (dwarf.c) and runtime types (rtypes.c) ---- */
int goelf_dwarf_struct(struct goelf *g, const char *name, struct goelf_struct *out);
char *goelf_dwarf_producer_version(struct goelf *g);
void goelf_dwarf_close(struct goelf *g);
int goelf_rt_struct(struct goelf *g, const char *name, struct goelf_struct *out);
void goelf_rt_free(struct goelf *g);

#endif
