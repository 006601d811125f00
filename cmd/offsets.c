// SPDX-License-Identifier: GPL-2.0-only
/* ehttp offsets: everything needed to instrument a Go binary, read from the binary. */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "go/goelf.h"
#include "jsonw.h"
#include "main.h"

static const struct cli_help offsets_help = {
	.usage = "ehttp offsets BINARY [--source SOURCE]\n"
		 "ehttp offsets BINARY TYPE [--source SOURCE]\n"
		 "ehttp offsets BINARY --func PATTERN\n"
		 "ehttp offsets help",
	.description =
		"Read a Go binary (x86-64 or arm64, stripped or not) and print what ehttp needs\n"
		"to instrument it: Go version, ABI, modules, the functions it probes with the\n"
		"address of every return instruction, and the struct field offsets its probes\n"
		"read. With TYPE (e.g. net/http.Request), every field of that struct. With\n"
		"--func, the functions whose names match PATTERN (a glob; without wildcards,\n"
		"a substring).\n",
	.help_exact = true, /* "ehttp offsets he" reads the binary "he" */
};

struct offsets_opts {
	int source;          /* enum goelf_source_pref */
	const char *pattern; /* --func */
};

/* In the order of enum goelf_source_pref. */
static const char *const source_names[] = { "auto", "dwarf", "runtime", "table", NULL };

static const struct opt offsets_opts[] = {
	{ "source", 0, "auto|dwarf|runtime|table",
	  "where struct layouts come from; auto (the default)\n"
	  "is DWARF, then runtime type descriptors, then the\n"
	  "built-in table",
	  OPT_CHOICE(struct offsets_opts, source, source_names) },
	{ "func", 0, "PATTERN", "the functions whose names match PATTERN instead",
	  OPT_STRING(struct offsets_opts, pattern) },
	{ NULL },
};

static void func_jsonw(struct jsonw *w, const struct goelf_func *f)
{
	size_t i;

	jsonw_start_object(w);
	jsonw_string_field(w, "name", f->name);
	jsonw_uint_field(w, "address", f->address);
	jsonw_uint_field(w, "offset", f->offset);
	jsonw_uint_field(w, "size", f->size);
	jsonw_name(w, "returns");
	jsonw_start_array(w);
	for (i = 0; i < f->nreturns; i++)
		jsonw_uint(w, f->returns[i]);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

static void func_text(const struct goelf_func *f)
{
	size_t i;

	printf("  %s\n    address 0x%" PRIx64 "  offset 0x%" PRIx64 "  size %" PRIu64 "\n", f->name,
	       f->address, f->offset, f->size);
	printf("    returns");
	for (i = 0; i < f->nreturns; i++)
		printf(" 0x%" PRIx64, f->returns[i]);
	printf("%s\n", f->nreturns ? "" : " none");
}

static void funcs_jsonw(struct jsonw *w, const struct goelf_funcs *fs)
{
	size_t i;

	jsonw_start_array(w);
	for (i = 0; i < fs->n; i++)
		func_jsonw(w, &fs->v[i]);
	jsonw_end_array(w);
}

struct pattern {
	const char *text;
	bool glob;
};

static bool match_pattern(const char *name, void *arg)
{
	const struct pattern *p = arg;

	return p->glob ? fnmatch(p->text, name, 0) == 0 : strstr(name, p->text) != NULL;
}

static int show_funcs(struct goelf *g, const char *pattern)
{
	struct pattern p = { pattern, strpbrk(pattern, "*?[") != NULL };
	struct goelf_funcs fs;
	size_t i;

	if (goelf_find_funcs(g, match_pattern, &p, &fs)) {
		p_err("%s", goelf_error(g));
		return EXIT_FAIL;
	}
	if (json_output) {
		struct jsonw *w = out_jsonw();

		jsonw_start_object(w);
		jsonw_string_field(w, "symbols", fs.source);
		jsonw_name(w, "functions");
		funcs_jsonw(w, &fs);
		jsonw_end_object(w);
		out_jsonw_end();
	} else {
		printf("Functions matching '%s' (from %s): %zu\n", pattern, fs.source, fs.n);
		for (i = 0; i < fs.n; i++)
			func_text(&fs.v[i]);
	}
	goelf_funcs_free(&fs);
	return EXIT_OK;
}

static int show_type(struct goelf *g, const char *bin, const char *type,
		     enum goelf_source_pref pref)
{
	struct goelf_struct s;
	size_t i;
	int rc;

	if (pref == GOELF_ONLY_TABLE) {
		p_err("the built-in table has no whole types: use --source auto, dwarf or runtime");
		return EXIT_USAGE;
	}
	rc = goelf_struct(g, type, pref, &s);
	if (rc < 0) {
		p_err("%s", goelf_error(g));
		return EXIT_FAIL;
	}
	if (rc > 0) {
		p_err("no struct type '%s' in %s", type, bin);
		return EXIT_FAIL;
	}
	if (json_output) {
		struct jsonw *w = out_jsonw();

		jsonw_start_object(w);
		jsonw_string_field(w, "type", s.name);
		jsonw_int_field(w, "size", s.size);
		jsonw_string_field(w, "source", goelf_source_name(s.source));
		jsonw_name(w, "fields");
		jsonw_start_array(w);
		for (i = 0; i < s.nfields; i++) {
			const struct goelf_field *f = &s.fields[i];

			jsonw_start_object(w);
			jsonw_string_field(w, "name", f->name);
			jsonw_uint_field(w, "offset", f->offset);
			if (f->size >= 0)
				jsonw_int_field(w, "size", f->size);
			if (f->type)
				jsonw_string_field(w, "type", f->type);
			if (f->embedded)
				jsonw_bool_field(w, "embedded", true);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
		jsonw_end_object(w);
		out_jsonw_end();
	} else {
		printf("struct %s  size %" PRId64 "  (from %s)\n", s.name, s.size,
		       goelf_source_name(s.source));
		printf("  %-8s %-6s %-28s %s\n", "OFFSET", "SIZE", "FIELD", "TYPE");
		for (i = 0; i < s.nfields; i++) {
			const struct goelf_field *f = &s.fields[i];
			char size[24] = "?";

			if (f->size >= 0)
				snprintf(size, sizeof(size), "%" PRId64, f->size);
			printf("  %-8" PRIu64 " %-6s %-28s %s%s\n", f->offset, size, f->name,
			       f->type ? f->type : "?", f->embedded ? " (embedded)" : "");
		}
	}
	goelf_struct_free(&s);
	return EXIT_OK;
}

static void modules_jsonw(struct jsonw *w, const struct goelf_info *in)
{
	size_t i;

	jsonw_start_array(w);
	for (i = 0; i < in->nmodules; i++) {
		const struct goelf_module *m = &in->modules[i];

		jsonw_start_object(w);
		jsonw_string_field(w, "path", m->path);
		jsonw_string_field(w, "version", m->version);
		jsonw_string_field(w, "sum", m->sum);
		if (in->has_main_module && i == 0)
			jsonw_bool_field(w, "main", true);
		if (m->replace_path) {
			jsonw_name(w, "replace");
			jsonw_start_object(w);
			jsonw_string_field(w, "path", m->replace_path);
			jsonw_string_field(w, "version", m->replace_version);
			jsonw_string_field(w, "sum", m->replace_sum);
			jsonw_end_object(w);
		}
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static void info_text(const char *bin, const struct goelf_info *in)
{
	size_t i;

	printf("Binary\n");
	printf("  file             %s\n", bin);
	printf("  go version       %s (from %s)\n", in->go_version, in->version_source);
	printf("  arch             %s, %s, %s\n", goelf_arch_name(in->arch),
	       in->pie ? "PIE" : "not PIE", in->dynamic ? "dynamically linked" : "statically linked");
	printf("  abi              %s (goroutine in %s)\n", goelf_abi_name(in->abi), in->g_register);
	printf("  symbols          %s, DWARF %s, pclntab %s\n",
	       in->has_symtab ? ".symtab" : "stripped", in->has_dwarf ? "yes" : "no",
	       in->pclntab_gen ? in->pclntab_gen : "none");
	if (in->main_path)
		printf("  main package     %s\n", in->main_path);
	if (in->nmodules) {
		printf("\nModules\n");
		for (i = 0; i < in->nmodules; i++) {
			const struct goelf_module *m = &in->modules[i];

			printf("  %s %s%s", m->path, m->version,
			       in->has_main_module && i == 0 ? " (main)" : "");
			if (m->replace_path)
				printf(" => %s %s", m->replace_path, m->replace_version);
			printf("\n");
		}
	}
	if (in->nsettings) {
		printf("\nBuild settings\n");
		for (i = 0; i < in->nsettings; i++)
			printf("  %-16s %s\n", in->settings[i].key, in->settings[i].value);
	}
}

static int show_all(struct goelf *g, const char *bin, enum goelf_source_pref pref)
{
	struct goelf_field_offset offs[goelf_want_fields_count];
	const struct goelf_info *in;
	struct goelf_funcs fs;
	size_t i, j;

	if (goelf_info(g, &in) || goelf_want_functions(g, &fs)) {
		p_err("%s", goelf_error(g));
		return EXIT_FAIL;
	}
	if (goelf_want_offsets(g, pref, offs)) {
		p_err("%s", goelf_error(g));
		goelf_funcs_free(&fs);
		return EXIT_FAIL;
	}
	if (json_output) {
		struct jsonw *w = out_jsonw();

		jsonw_start_object(w);
		jsonw_string_field(w, "binary", bin);
		jsonw_string_field(w, "go_version", in->go_version);
		jsonw_string_field(w, "go_version_source", in->version_source);
		jsonw_string_field(w, "arch", goelf_arch_name(in->arch));
		jsonw_string_field(w, "abi", goelf_abi_name(in->abi));
		jsonw_bool_field(w, "pie", in->pie);
		jsonw_bool_field(w, "dynamic", in->dynamic);
		jsonw_bool_field(w, "symtab", in->has_symtab);
		jsonw_bool_field(w, "dwarf", in->has_dwarf);
		jsonw_string_field(w, "pclntab", in->pclntab_gen);
		jsonw_string_field(w, "main_path", in->main_path);
		jsonw_string_field(w, "g_register", in->g_register);
		jsonw_name(w, "modules");
		modules_jsonw(w, in);
		jsonw_name(w, "build_settings");
		jsonw_start_object(w);
		for (i = 0; i < in->nsettings; i++)
			jsonw_string_field(w, in->settings[i].key, in->settings[i].value);
		jsonw_end_object(w);
		jsonw_string_field(w, "symbols", fs.source);
		jsonw_name(w, "functions");
		funcs_jsonw(w, &fs);
		jsonw_name(w, "missing_functions");
		jsonw_start_array(w);
		for (i = 0; i < goelf_want_funcs_count; i++) {
			for (j = 0; j < fs.n && strcmp(fs.v[j].name, goelf_want_funcs[i].name); j++)
				;
			if (j == fs.n && goelf_want_funcs[i].required)
				jsonw_string(w, goelf_want_funcs[i].name);
		}
		jsonw_end_array(w);
		jsonw_name(w, "fields");
		jsonw_start_array(w);
		for (i = 0; i < goelf_want_fields_count; i++) {
			jsonw_start_object(w);
			jsonw_string_field(w, "struct", offs[i].strct);
			jsonw_string_field(w, "field", offs[i].field);
			jsonw_name(w, "offset");
			if (offs[i].offset >= 0)
				jsonw_int(w, offs[i].offset);
			else
				jsonw_null(w);
			jsonw_string_field(w, "source", goelf_source_name(offs[i].source));
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
		jsonw_end_object(w);
		out_jsonw_end();
	} else {
		info_text(bin, in);
		printf("\nFunctions (from %s)\n", fs.source);
		for (i = 0; i < fs.n; i++)
			func_text(&fs.v[i]);
		for (i = 0; i < goelf_want_funcs_count; i++) {
			for (j = 0; j < fs.n && strcmp(fs.v[j].name, goelf_want_funcs[i].name); j++)
				;
			if (j == fs.n && goelf_want_funcs[i].required)
				printf("  %s: not in this binary\n", goelf_want_funcs[i].name);
		}
		printf("\nFields\n");
		printf("  %-40s %-7s %s\n", "FIELD", "OFFSET", "SOURCE");
		for (i = 0; i < goelf_want_fields_count; i++) {
			char name[128], off[24] = "-";

			snprintf(name, sizeof(name), "%s.%s", offs[i].strct, offs[i].field);
			if (offs[i].offset >= 0)
				snprintf(off, sizeof(off), "%" PRId64, offs[i].offset);
			printf("  %-40s %-7s %s%s\n", name, off, goelf_source_name(offs[i].source),
			       offs[i].source == GOELF_SRC_TABLE ? " (built-in table, not read from the binary)" : "");
		}
	}
	goelf_funcs_free(&fs);
	return EXIT_OK;
}

int do_offsets(int argc, char **argv)
{
	struct offsets_opts opts = { .source = GOELF_PREFER_AUTO };
	const struct opt_group groups[] = { { offsets_opts, &opts, NULL }, { NULL, NULL, NULL } };
	enum goelf_source_pref pref;
	const char *bin, *type, *pattern;
	char err[GOELF_ERR_MAX];
	struct goelf *g;
	int rc;

	rc = cli_command_args(&offsets_help, groups, 2, &argc, &argv);
	if (rc != CLI_RUN)
		return rc;
	if (argc < 1) {
		p_err("which binary? (try 'ehttp offsets help')");
		return EXIT_USAGE;
	}
	bin = argv[0];
	type = argc > 1 ? argv[1] : NULL;
	pref = opts.source;
	pattern = opts.pattern;
	if (type && pattern) {
		p_err("give a TYPE or --func, not both");
		return EXIT_USAGE;
	}

	g = goelf_open(bin, err, sizeof(err));
	if (!g) {
		p_err("%s", err);
		return EXIT_FAIL;
	}
	if (pattern)
		rc = show_funcs(g, pattern);
	else if (type)
		rc = show_type(g, bin, type, pref);
	else
		rc = show_all(g, bin, pref);
	goelf_close(g);
	return rc;
}
