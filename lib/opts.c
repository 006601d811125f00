// SPDX-License-Identifier: GPL-2.0-only
#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "jsonw.h"
#include "opts.h"

/* Where the help text starts: "  -p, --pid PID" padded to this column. */
#define HELP_COLUMN 23

static bool takes_value(const struct opt *o)
{
	return o->value != NULL;
}

static const struct opt *find_long(const struct opt_group *groups, const char *name, size_t len,
				   const struct opt_group **group)
{
	const struct opt *o;

	for (; groups->opts; groups++)
		for (o = groups->opts; o->name || o->short_name; o++)
			if (o->name && strlen(o->name) == len && !memcmp(o->name, name, len)) {
				*group = groups;
				return o;
			}
	return NULL;
}

static const struct opt *find_short(const struct opt_group *groups, char c,
				    const struct opt_group **group)
{
	const struct opt *o;

	for (; groups->opts; groups++)
		for (o = groups->opts; o->name || o->short_name; o++)
			if (o->short_name == c) {
				*group = groups;
				return o;
			}
	return NULL;
}

static void store_uint(void *target, size_t size, unsigned long long v)
{
	switch (size) {
	case 1: *(uint8_t *)target = v; break;
	case 2: *(uint16_t *)target = v; break;
	case 4: *(uint32_t *)target = v; break;
	default: *(uint64_t *)target = v; break;
	}
}

/* "a, b or c" */
static void choices_text(const char *const *choices, char *buf, size_t len)
{
	size_t n = 0, i;

	buf[0] = '\0';
	for (i = 0; choices[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i == 0 ? "" : choices[i + 1] ? ", " : " or ",
			      choices[i]);
}

int opts_choice(const struct opt *o, const char *spelled, const char *value)
{
	char words[256];
	int i;

	for (i = 0; o->choices[i]; i++)
		if (!strcmp(value, o->choices[i]))
			return i;
	choices_text(o->choices, words, sizeof(words));
	p_err("%s takes %s, not '%s'", spelled, words, value);
	return -1;
}

static int apply(const struct opt_group *g, const struct opt *o, const char *spelled,
		 const char *value)
{
	char *target = (char *)g->ctx + o->offset;
	unsigned long n;
	int i;

	switch (o->kind) {
	case OPT_KIND_FLAG:
		*(bool *)target = true;
		return 0;
	case OPT_KIND_UINT:
		if (!arg_uint(spelled, value, o->min, o->max, &n))
			return -1;
		store_uint(target, o->size, (unsigned long long)n * (o->scale ? o->scale : 1));
		return 0;
	case OPT_KIND_STRING:
		*(const char **)target = value;
		return 0;
	case OPT_KIND_CHOICE:
		i = opts_choice(o, spelled, value);
		if (i < 0)
			return -1;
		store_uint(target, o->size, i);
		return 0;
	case OPT_KIND_CALL:
		return o->handler(g->ctx, o, spelled, value);
	}
	return -1;
}

static void echo_words(struct opt_echo *e, char **words, int n)
{
	int i;

	for (i = 0; i < n && e->len < e->size; i++)
		e->len += snprintf(e->buf + e->len, e->size - e->len, "%s%s", e->len ? " " : "",
				   words[i]);
}

/* The option at argv[0]: 0 when handled (*taken set), -1 on error (reported), 1 when
 * no group has it (not reported). */
static int parse_one(const struct opt_group *groups, int argc, char **argv, int *taken)
{
	const struct opt_group *g = NULL;
	const struct opt *o;
	const char *arg = argv[0], *value = NULL, *eq = NULL;
	char spelled[64];
	bool attached = false;

	if (arg[1] == '-') {
		eq = strchr(arg + 2, '=');
		o = find_long(groups, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2), &g);
		snprintf(spelled, sizeof(spelled), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		if (eq) {
			value = eq + 1;
			attached = true;
		}
	} else {
		o = find_short(groups, arg[1], &g);
		snprintf(spelled, sizeof(spelled), "-%c", arg[1]);
		if (o && arg[2]) {
			if (!takes_value(o))
				o = NULL; /* "-jd": no bundling of flags */
			value = arg + 2;
			attached = true;
		}
	}
	if (!o)
		return 1;
	if (!takes_value(o)) {
		if (attached) {
			p_err("%s takes no value", spelled);
			return -1;
		}
		*taken = 1;
	} else if (attached) {
		*taken = 1;
	} else if (o->implied) {
		value = o->implied; /* "--propagate": the next word is not its value */
		*taken = 1;
	} else {
		if (argc < 2) {
			p_err("%s needs a value (%s)", spelled, o->value);
			return -1;
		}
		value = argv[1];
		*taken = 2;
	}
	if (apply(g, o, spelled, value))
		return -1;
	if (g->echo)
		echo_words(g->echo, argv, *taken);
	return 0;
}

int opts_parse(const struct opt_group *groups, int argc, char **argv, unsigned int flags)
{
	int i = 0, nargs = 0, taken, rc;

	while (i < argc) {
		char *arg = argv[i];

		if (!strcmp(arg, "--")) {
			for (i++; i < argc; i++)
				argv[nargs++] = argv[i];
			break;
		}
		if (arg[0] != '-' || !arg[1]) {
			if (flags & OPTS_STOP_AT_ARG)
				return i;
			argv[nargs++] = arg;
			i++;
			continue;
		}
		rc = parse_one(groups, argc - i, argv + i, &taken);
		if (rc > 0) {
			/* before a command there are only options; after it, bpftool's
			 * question for any word the command does not know */
			if (flags & OPTS_STOP_AT_ARG)
				p_err("unknown option '%s'", arg);
			else
				p_err("what is '%s'?", arg);
		}
		if (rc)
			return -1;
		i += taken;
	}
	return (flags & OPTS_STOP_AT_ARG) ? argc : nargs;
}

int opts_parse_one(const struct opt_group *groups, int argc, char **argv)
{
	int taken, rc;

	if (argc < 1 || argv[0][0] != '-' || !argv[0][1] || !strcmp(argv[0], "--"))
		return 0;
	rc = parse_one(groups, argc, argv, &taken);
	return rc < 0 ? -1 : rc > 0 ? 0 : taken;
}

/* "-p, --pid PID", "--comm NAME", "-C MB", "--json", "--propagate[=auto|sockmsg]" */
static void spec_text(const struct opt *o, char *buf, size_t len)
{
	size_t n = 0;

	if (o->short_name)
		n += snprintf(buf + n, len - n, "-%c%s", o->short_name, o->name ? ", " : "");
	if (o->name && n < len)
		n += snprintf(buf + n, len - n, "--%s", o->name);
	if (o->value && n < len)
		snprintf(buf + n, len - n, o->implied ? (o->name ? "[=%s]" : "[%s]") : " %s", o->value);
}

void opts_print_help(FILE *f, const struct opt_group *groups)
{
	const struct opt *o;

	for (; groups->opts; groups++) {
		for (o = groups->opts; o->name || o->short_name; o++) {
			const char *line = o->help, *nl;
			char spec[128];
			int pad;

			spec_text(o, spec, sizeof(spec));
			/* a long spec pushes the text out by two spaces rather than wrapping */
			pad = (int)strlen(spec) < HELP_COLUMN - 3 ? HELP_COLUMN - 2 - (int)strlen(spec) : 2;
			fprintf(f, "  %s%*s", spec, pad, "");
			for (;;) {
				nl = strchr(line, '\n');
				fprintf(f, "%.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
				if (!nl)
					break;
				line = nl + 1;
				fprintf(f, "%*s", HELP_COLUMN, "");
			}
		}
	}
}

/* The help text as one line: continuation lines joined with a space. */
static void help_jsonw(struct jsonw *w, const char *help)
{
	char text[1024];
	size_t n = 0;

	for (; *help && n < sizeof(text) - 1; help++)
		text[n++] = *help == '\n' ? ' ' : *help;
	jsonw_string_len(w, text, n);
}

void opts_help_jsonw(struct jsonw *w, const struct opt_group *groups)
{
	const struct opt *o;
	char name[64];
	size_t i;

	jsonw_start_array(w);
	for (; groups->opts; groups++) {
		for (o = groups->opts; o->name || o->short_name; o++) {
			jsonw_start_object(w);
			snprintf(name, sizeof(name), "--%s", o->name ? o->name : "");
			jsonw_string_field(w, "long", o->name ? name : NULL);
			snprintf(name, sizeof(name), "-%c", o->short_name);
			jsonw_string_field(w, "short", o->short_name ? name : NULL);
			jsonw_string_field(w, "value", o->value);
			jsonw_name(w, "help");
			help_jsonw(w, o->help);
			if (o->choices) {
				jsonw_name(w, "choices");
				jsonw_start_array(w);
				for (i = 0; o->choices[i]; i++)
					jsonw_string(w, o->choices[i]);
				jsonw_end_array(w);
			}
			if (o->implied)
				jsonw_string_field(w, "implied", o->implied);
			jsonw_end_object(w);
		}
	}
	jsonw_end_array(w);
}
