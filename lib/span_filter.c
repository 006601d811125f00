// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "span_filter.h"

void span_filter_init(struct span_filter *f)
{
	memset(f, 0, sizeof(*f));
}

bool span_filter_parse_status(const char *text, uint16_t *min, uint16_t *max)
{
	if (strlen(text) != 3)
		return false;
	if (text[0] >= '1' && text[0] <= '5' && (text[1] == 'x' || text[1] == 'X') &&
	    (text[2] == 'x' || text[2] == 'X')) {
		*min = (text[0] - '0') * 100;
		*max = *min + 99;
		return true;
	}
	if (isdigit((unsigned char)text[0]) && isdigit((unsigned char)text[1]) &&
	    isdigit((unsigned char)text[2]) && text[0] >= '1' && text[0] <= '5') {
		*min = *max = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
		return true;
	}
	return false;
}

static int add_pid(void *ctx, const struct opt *o, const char *spelled, const char *val)
{
	struct span_filter *f = ctx;
	unsigned long n;

	if (!arg_uint(spelled, val, 1, 4194304, &n))
		return -1;
	if (f->npids >= SPAN_FILTER_MAX_PIDS) {
		p_err("at most %d processes with -p", SPAN_FILTER_MAX_PIDS);
		return -1;
	}
	f->pids[f->npids++] = n;
	return 0;
}

/* @val into the array @dst of @size bytes, when it fits with its NUL. */
static bool copy_fits(char *dst, size_t size, const char *val)
{
	if (strlen(val) >= size)
		return false;
	memcpy(dst, val, strlen(val) + 1);
	return true;
}

static int set_comm(void *ctx, const struct opt *o, const char *spelled, const char *val)
{
	struct span_filter *f = ctx;

	if (copy_fits(f->comm, sizeof(f->comm), val))
		return 0;
	p_err("--comm: '%s' is longer than a command name can be (15 characters)", val);
	return -1;
}

static int set_cgroup(void *ctx, const struct opt *o, const char *spelled, const char *val)
{
	struct span_filter *f = ctx;
	char err[700];

	if (!cgroup_resolve(val, &f->cgroup, err, sizeof(err)))
		return 0;
	p_err("%s: %s", spelled, err);
	return -1;
}

static int set_method(void *ctx, const struct opt *o, const char *spelled, const char *val)
{
	struct span_filter *f = ctx;

	if (*val && copy_fits(f->method, sizeof(f->method), val))
		return 0;
	p_err("--method: '%s' is not a request method", val);
	return -1;
}

static int set_path(void *ctx, const struct opt *o, const char *spelled, const char *val)
{
	struct span_filter *f = ctx;

	if (copy_fits(f->path, sizeof(f->path), val))
		return 0;
	p_err("--path: prefix longer than %zu bytes", sizeof(f->path) - 1);
	return -1;
}

static int set_status(void *ctx, const struct opt *o, const char *spelled, const char *val)
{
	struct span_filter *f = ctx;

	if (!span_filter_parse_status(val, &f->status_min, &f->status_max)) {
		p_err("--status takes a code (404) or a class (5xx), not '%s'", val);
		return -1;
	}
	return 0;
}

const struct opt span_filter_opts[] = {
	{ "pid", 'p', "PID", "only this process (repeatable)", OPT_CALL(add_pid) },
	{ "comm", 0, "NAME", "only processes with this command name", OPT_CALL(set_comm) },
	{ "port", 0, "N", "only connections with this local or remote port",
	  OPT_UINT(struct span_filter, port, 1, 65535) },
	{ "method", 0, "M", "only this request method", OPT_CALL(set_method) },
	{ "path", 0, "PREFIX", "only targets starting with PREFIX", OPT_CALL(set_path) },
	{ "status", 0, "CODE|Nxx", "only this status, or class (e.g. 404, 5xx)", OPT_CALL(set_status) },
	{ NULL },
};

const struct opt span_filter_live_opts[] = {
	{ "cgroup", 0, "CGROUP",
	  "only processes in this cgroup v2 or below it: a directory\n"
	  "(/sys/fs/cgroup/system.slice/x.service) or its path in the\n"
	  "hierarchy (/system.slice/x.service)",
	  OPT_CALL(set_cgroup) },
	{ NULL },
};

int span_filter_parse(struct span_filter *f, int argc, char **argv)
{
	const struct opt_group groups[] = { { span_filter_opts, f, NULL }, { NULL, NULL, NULL } };

	return opts_parse_one(groups, argc, argv);
}

bool span_filter_match(const struct span_filter *f, const struct span *s)
{
	size_t i;

	if (f->npids) {
		for (i = 0; i < f->npids; i++)
			if (f->pids[i] == s->pid)
				break;
		if (i == f->npids)
			return false;
	}
	if (f->comm[0] && strncmp(f->comm, s->comm, sizeof(s->comm)) != 0)
		return false;
	if (f->port && f->port != s->local.port && f->port != s->remote.port)
		return false;
	if (f->method[0] && strcasecmp(f->method, s->method ? s->method : "") != 0)
		return false;
	if (f->path[0] && (!s->target || strncmp(s->target, f->path, strlen(f->path)) != 0))
		return false;
	if (f->status_min && (s->status < f->status_min || s->status > f->status_max))
		return false;
	if (f->since_ns && s->start_ns < f->since_ns)
		return false;
	if (f->until_ns && s->start_ns > f->until_ns)
		return false;
	return true;
}

bool span_filter_has_processes(const struct span_filter *f)
{
	return f->npids || f->comm[0] || f->cgroup.dir[0];
}

bool span_filter_has_targets(const struct span_filter *f)
{
	return span_filter_has_processes(f) || f->port;
}
