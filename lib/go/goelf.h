/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a Go ELF binary for instrumentation: build info, ABI, function addresses with
 * every return instruction, and struct layouts from DWARF or from the runtime type
 * descriptors every Go binary carries. No BPF here: the uprobe loader and the fuzz
 * harness use this directly. Every offset read from the file is bounds-checked.
 */
#ifndef EHTTP_GOELF_H
#define EHTTP_GOELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct goelf;

enum goelf_arch { GOELF_ARCH_AMD64, GOELF_ARCH_ARM64 };
enum goelf_abi { GOELF_ABI_REGISTER, GOELF_ABI_STACK };

/* Where a struct layout came from. */
enum goelf_source {
	GOELF_SRC_NONE,
	GOELF_SRC_DWARF,   /* DWARF debug info */
	GOELF_SRC_RUNTIME, /* runtime type descriptors (moduledata → types) */
	GOELF_SRC_TABLE,   /* built-in table keyed by Go version: last resort */
};

/* Which layout sources a lookup may use; AUTO is DWARF, then runtime, then table. */
enum goelf_source_pref { GOELF_PREFER_AUTO, GOELF_ONLY_DWARF, GOELF_ONLY_RUNTIME, GOELF_ONLY_TABLE };

#define GOELF_ERR_MAX 256

/* Open and map @path (no copy). NULL on failure with the reason in @err. */
struct goelf *goelf_open(const char *path, char *err, size_t errlen);
/* Same over bytes the caller keeps alive until goelf_close (fuzzing, tests). */
struct goelf *goelf_open_mem(const void *data, size_t size, char *err, size_t errlen);
void goelf_close(struct goelf *g);
/* The reason of the last failed call on @g. */
const char *goelf_error(const struct goelf *g);

struct goelf_module {
	const char *path, *version, *sum;
	const char *replace_path, *replace_version, *replace_sum; /* NULL when not replaced */
};

struct goelf_setting {
	const char *key, *value;
};

struct goelf_info {
	enum goelf_arch arch;
	bool pie;            /* ET_DYN: addresses are link-time, add the load bias */
	bool has_symtab;     /* .symtab present: function addresses come from it */
	bool has_dwarf;      /* .debug_info present */
	bool dynamic;        /* PT_INTERP present */
	const char *go_version;     /* "go1.19.8"; a range such as "go1.18-go1.19" when only the pclntab says */
	const char *version_source; /* how go_version was found */
	int go_minor;               /* 19 for go1.19.8; the lowest possible when not exact */
	bool version_exact;         /* false when only the pclntab generation says */
	const char *pclntab_gen;    /* "1.2", "1.16", "1.18", "1.20" */
	enum goelf_abi abi;
	const char *g_register;     /* where the current goroutine is: "r14", "x28", "tls" */
	const char *main_path;      /* "path" line of the build info, NULL when absent */
	const struct goelf_module *modules; /* main module first (when known), then deps */
	size_t nmodules;
	bool has_main_module;
	const struct goelf_setting *settings; /* build settings: -buildmode, CGO_ENABLED, GOARCH... */
	size_t nsettings;
};

/* Build info, Go version and ABI (reads .go.buildinfo and the pclntab header only). */
int goelf_info(struct goelf *g, const struct goelf_info **out);
const char *goelf_arch_name(enum goelf_arch arch);
const char *goelf_abi_name(enum goelf_abi abi);
const char *goelf_source_name(enum goelf_source src);

struct goelf_func {
	char *name;
	uint64_t address; /* link-time virtual address of the entry */
	uint64_t offset;  /* file offset of the entry: where a uprobe attaches */
	uint64_t size;
	uint64_t *returns; /* virtual address of every return instruction inside */
	size_t nreturns;
};

struct goelf_funcs {
	struct goelf_func *v;
	size_t n;
	const char *source; /* "symtab" or "pclntab" */
};

/* Functions whose name @match accepts (all when NULL), with their returns. */
int goelf_find_funcs(struct goelf *g, bool (*match)(const char *name, void *arg), void *arg,
		     struct goelf_funcs *out);
void goelf_funcs_free(struct goelf_funcs *fs);

/* ---- cheap probe points (lib/go/probepoints.c; x86-64 only, false/none elsewhere) -------- */
/* The stack check's conditional jump near @f's entry: a probe there sees the entry's
 * registers, and passes twice when the stack grows (the jump taken, then not). */
bool goelf_entry_jump(struct goelf *g, const struct goelf_func *f, uint64_t *addr);

struct goelf_call {
	uint64_t call;       /* address of a direct CALL to the target */
	bool call_emulated;  /* the kernel emulates a probe on it (no single-step) */
	uint64_t after;      /* the first probe point once the callee returned; 0: none found */
	bool after_emulated;
};
/* Append to (*out, *n) every direct call from @f to @target. 0, or -1 out of memory. */
int goelf_calls_to(struct goelf *g, const struct goelf_func *f, uint64_t target,
		   struct goelf_call **out, size_t *n);

#define GOELF_SUCCESS_MAX_RETS 8
struct goelf_result_check {
	uint64_t check;                  /* the JE on the call's error result */
	uint64_t rets[GOELF_SUCCESS_MAX_RETS]; /* @f's RETs that only the JE's success branch reaches */
	size_t nrets;
};
/*
 * Where @f tests the results of its one direct call to @callee, (value, error): CALL;
 * NOPs; TEST RBX, RBX (the error's itab); JE to a success branch that nothing else
 * enters. A probe on the JE, emulated, sees the results with the error nil on the branch
 * taken, and stands for the RETs that branch ends in. 0 and @out filled; 1 when @f has
 * no such shape (or is not x86-64); -1 out of memory.
 */
int goelf_result_check(struct goelf *g, const struct goelf_func *f, uint64_t callee,
		       struct goelf_result_check *out);

/* ---- map layouts (lib/go/maps.c) -------------------------------------------------------- */
enum goelf_map_kind { GOELF_MAP_NONE, GOELF_MAP_BUCKETS, GOELF_MAP_SWISS };
#define GOELF_MAP_GROUP_MAX 512

/* Where a probe finds the entries of a map[string][]string; offsets in bytes. */
struct goelf_map_layout {
	enum goelf_map_kind kind;
	enum goelf_source source; /* DWARF, or the table by version */
	int64_t count_off;        /* hmap.count, Map.used */
	int64_t flags_off, b_off, buckets_off, oldbuckets_off;              /* hmap */
	int64_t dir_ptr_off, dir_len_off, table_groups_off, table_mask_off; /* Swiss */
	/* one bucket (group) of 8 slots: slot i's full byte is at i (tophash, ctrl) */
	uint64_t group_size, key_off, key_stride, elem_off, elem_stride;
	uint64_t overflow_off; /* buckets only */
};
/* The layout of net/http.Header in @g: 0 known, 1 not known for this binary, -1 error. */
int goelf_header_map(struct goelf *g, struct goelf_map_layout *out);

struct goelf_field {
	char *name;
	uint64_t offset;
	int64_t size;  /* -1 when unknown */
	char *type;    /* type name, NULL when unknown */
	bool embedded;
};

struct goelf_struct {
	char *name;
	int64_t size; /* -1 when unknown */
	enum goelf_source source;
	struct goelf_field *fields;
	size_t nfields;
};

/* The layout of struct type @name ("net/http.Request"). 0 found, 1 not in the binary, -1 error. */
int goelf_struct(struct goelf *g, const char *name, enum goelf_source_pref pref,
		 struct goelf_struct *out);
void goelf_struct_free(struct goelf_struct *s);

/*
 * The itab of concrete type @type ("*bufio.Writer") for interface @iface ("io.Writer"):
 * what the first word of an interface value holding that type is. Its link-time
 * address and file offset; from the symbol table, else the runtime's itab list.
 * 0 found, 1 not in the binary, -1 error.
 */
int goelf_itab(struct goelf *g, const char *type, const char *iface, uint64_t *vaddr,
	       uint64_t *file_off);

/* ---- what ehttp instruments (lib/go/instrument.c) -------------------------------------- */
struct goelf_want_func {
	const char *name;
	bool required; /* absent from an HTTP Go binary only if the binary changed shape */
};
extern const struct goelf_want_func goelf_want_funcs[];
extern const size_t goelf_want_funcs_count;

struct goelf_want_field {
	const char *strct, *field;
};
extern const struct goelf_want_field goelf_want_fields[];
extern const size_t goelf_want_fields_count;

struct goelf_field_offset {
	const char *strct, *field;
	int64_t offset; /* -1 when not found by any allowed source */
	enum goelf_source source;
};

/* Offsets of every wanted field (goelf_want_fields order) into @out. */
int goelf_want_offsets(struct goelf *g, enum goelf_source_pref pref,
		       struct goelf_field_offset *out);
/* The wanted functions present in the binary, in table order. */
int goelf_want_functions(struct goelf *g, struct goelf_funcs *out);

#endif
