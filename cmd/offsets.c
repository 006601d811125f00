// SPDX-License-Identifier: GPL-2.0-only
/* ehttp offsets: everything needed to instrument a Go binary, read from the binary. */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "go/goelf.h"
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
};

struct offsets_opts {
	int source;          /* enum goelf_source_pref */
	const char *pattern; /* --func */
};

/* In the order of enum goelf_source_pref. */
static const char *const source_names[] = { "auto", "dwarf", "runtime", "table", NULL };

static const struct opt offsets_opts[] = {
	{ "source", 0, "SOURCE",
	  "where struct layouts come from: auto (DWARF, then runtime\n"
	  "type descriptors, then the built-in table), dwarf, runtime,\n"
	  "or table",
	  OPT_CHOICE(struct offsets_opts, source, source_names) },
	{ "func", 0, "PATTERN", "the functions whose names match PATTERN instead",
	  OPT_STRING(struct offsets_opts, pattern) },
	{ NULL },
};

static json_t *func_json(const struct goelf_func *f)
{
	json_t *rets = json_array();
	size_t i;

	for (i = 0; i < f->nreturns; i++)
		json_array_append_new(rets, json_integer((json_int_t)f->returns[i]));
	return json_pack("{s:s, s:I, s:I, s:I, s:o}", "name", f->name, "address",
			 (json_int_t)f->address, "offset", (json_int_t)f->offset, "size",
			 (json_int_t)f->size, "returns", rets);
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

static json_t *funcs_json(const struct goelf_funcs *fs)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < fs->n; i++)
		json_array_append_new(a, func_json(&fs->v[i]));
	return a;
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
		out_json(json_pack("{s:s, s:o}", "symbols", fs.source, "functions", funcs_json(&fs)));
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
		json_t *fields = json_array();

		for (i = 0; i < s.nfields; i++) {
			const struct goelf_field *f = &s.fields[i];
			json_t *o = json_pack("{s:s, s:I}", "name", f->name, "offset",
					      (json_int_t)f->offset);

			if (f->size >= 0)
				json_object_set_new(o, "size", json_integer(f->size));
			if (f->type)
				json_object_set_new(o, "type", json_string(f->type));
			if (f->embedded)
				json_object_set_new(o, "embedded", json_true());
			json_array_append_new(fields, o);
		}
		out_json(json_pack("{s:s, s:I, s:s, s:o}", "type", s.name, "size",
				   (json_int_t)s.size, "source", goelf_source_name(s.source),
				   "fields", fields));
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

static json_t *modules_json(const struct goelf_info *in)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < in->nmodules; i++) {
		const struct goelf_module *m = &in->modules[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "path", m->path, "version", m->version,
				      "sum", m->sum);

		if (in->has_main_module && i == 0)
			json_object_set_new(o, "main", json_true());
		if (m->replace_path)
			json_object_set_new(o, "replace",
					    json_pack("{s:s, s:s, s:s}", "path", m->replace_path,
						      "version", m->replace_version, "sum",
						      m->replace_sum));
		json_array_append_new(a, o);
	}
	return a;
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
		json_t *o, *settings = json_object(), *fields = json_array(), *missing = json_array();

		for (i = 0; i < in->nsettings; i++)
			json_object_set_new(settings, in->settings[i].key,
					    json_string(in->settings[i].value));
		for (i = 0; i < goelf_want_fields_count; i++)
			json_array_append_new(
				fields, json_pack("{s:s, s:s, s:o, s:s}", "struct", offs[i].strct,
						  "field", offs[i].field, "offset",
						  offs[i].offset >= 0 ? json_integer(offs[i].offset)
								      : json_null(),
						  "source", goelf_source_name(offs[i].source)));
		for (i = 0; i < goelf_want_funcs_count; i++) {
			for (j = 0; j < fs.n && strcmp(fs.v[j].name, goelf_want_funcs[i].name); j++)
				;
			if (j == fs.n && goelf_want_funcs[i].required)
				json_array_append_new(missing, json_string(goelf_want_funcs[i].name));
		}
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:s?, s:s?}",
			      "binary", bin, "go_version", in->go_version, "go_version_source",
			      in->version_source, "arch", goelf_arch_name(in->arch), "abi",
			      goelf_abi_name(in->abi), "pie", in->pie, "dynamic", in->dynamic,
			      "symtab", in->has_symtab, "dwarf", in->has_dwarf, "pclntab",
			      in->pclntab_gen, "main_path", in->main_path);
		json_object_set_new(o, "g_register", json_string(in->g_register));
		json_object_set_new(o, "modules", modules_json(in));
		json_object_set_new(o, "build_settings", settings);
		json_object_set_new(o, "symbols", json_string(fs.source));
		json_object_set_new(o, "functions", funcs_json(&fs));
		json_object_set_new(o, "missing_functions", missing);
		json_object_set_new(o, "fields", fields);
		out_json(o);
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

	NEXT_ARG();
	if (argc == 1 && !strcmp(*argv, "help"))
		return cli_print_help(&offsets_help, groups);
	argc = cli_parse(groups, argc, argv);
	if (argc < 0)
		return EXIT_USAGE;
	if (argc < 1) {
		p_err("which binary? (try 'ehttp offsets help')");
		return EXIT_USAGE;
	}
	bin = argv[0];
	type = argc > 1 ? argv[1] : NULL;
	if (argc > 2) {
		argv += 2;
		return BAD_ARG();
	}
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
