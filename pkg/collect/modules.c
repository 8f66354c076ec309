// SPDX-License-Identifier: Apache-2.0
/*
 * modules.c - kernel modules: /proc/modules (proc(5), kernel/module/procfs.c)
 * joined with /sys/module/<name>/{version,srcversion,taint,initstate}
 * (Documentation/ABI/testing/sysfs-module). Modules present in /sys/module but
 * not in /proc/modules are built into the kernel image.
 */
#define _GNU_SOURCE
#include "modules.h"
#include "collector.h"
#include "facts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <string.h>

/* include/linux/module.h: MODULE_NAME_LEN = 64 - sizeof(unsigned long) */
#define MODULE_NAME_MAX 64

static int cmp_module(const void *a, const void *b)
{
	return strcmp(((const struct np_module *)a)->name, ((const struct np_module *)b)->name);
}

/*
 * Append a zeroed module named @name; returns it, or NULL on ENOMEM. The array holds 8, then the
 * next power of two of s->n: it grows by doubling (a kernel without /proc/modules lists its ~80
 * built-ins every cycle), never shrinks, so dropping the last entry (s->n--) keeps it valid.
 */
static struct np_module *module_add(struct np_modules *s, const char *name)
{
	char *copy = strdup(name);
	if (!copy)
		return NULL;
	if (s->n == 0 || (s->n >= 8 && !(s->n & (s->n - 1)))) {
		struct np_module *v = reallocarray(s->modules, s->n ? 2 * s->n : 8, sizeof(*v));
		if (!v) {
			free(copy);
			return NULL;
		}
		s->modules = v;
	}
	struct np_module *m = &s->modules[s->n++];
	memset(m, 0, sizeof(*m));
	m->name = copy;
	return m;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= MODULE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) || *s == ',' || *s == '(')
			return false;
	return true;
}

/* "0x" + hex digits; all zeros -> hidden (NULL). Returns 0 or -EINVAL. */
static int parse_address(const char *tok, char **out)
{
	if (!np_startswith(tok, "0x") || !tok[2] || strlen(tok) > 18)
		return -EINVAL;
	bool zero = true;
	for (const char *p = tok + 2; *p; p++) {
		if (!isxdigit((unsigned char)*p))
			return -EINVAL;
		zero &= *p == '0';
	}
	*out = NULL;
	if (zero)
		return 0;
	*out = strdup(tok);
	return *out ? 0 : -ENOMEM;
}

/* "(OE)", "(O+)", "(-)": module_flags(); the letters only. Returns 0 or -EINVAL. */
static int parse_taint(const char *tok, char **out)
{
	size_t n = strlen(tok);
	if (n < 2 || tok[0] != '(' || tok[n - 1] != ')')
		return -EINVAL;
	char buf[MODULE_NAME_MAX];
	size_t w = 0;
	for (size_t i = 1; i < n - 1; i++) {
		char c = tok[i];
		if (c == '+' || c == '-')
			continue;
		if (!isupper((unsigned char)c) || w >= sizeof(buf) - 1)
			return -EINVAL;
		buf[w++] = c;
	}
	buf[w] = '\0';
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

/* "-" or "a,b," -> used_by vector and permanent flag. Returns 0, -EINVAL or -ENOMEM. */
static int parse_used_by(const char *tok, struct np_module *m)
{
	if (streq(tok, "-"))
		return 0;
	_cleanup_free_ char *copy = strdup(tok);
	if (!copy)
		return -ENOMEM;
	size_t n = 0;
	char *save = NULL;
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		if (streq(e, "[permanent]")) {
			m->permanent = true;
			continue;
		}
		if (!valid_name(e))
			return -EINVAL;
		if (np_strv_push(&m->used_by, &n, e) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Fill @m from the tokens of one line. Returns 0, -EINVAL or -ENOMEM. */
static int parse_fields(char **tok, size_t ntok, struct np_module *m)
{
	int r;
	if (np_parse_u64(tok[1], &m->size_bytes) < 0 || !isdigit((unsigned char)tok[1][0]))
		return -EINVAL;
	m->has_size = true;
	if (!streq(tok[2], "-")) {
		if (np_parse_s64(tok[2], &m->refcount) < 0)
			return -EINVAL;
		m->has_refcount = true;
	}
	r = parse_used_by(tok[3], m);
	if (r < 0)
		return r;
	if (!isalpha((unsigned char)tok[4][0]))
		return -EINVAL;
	m->state = strdup(tok[4]);
	if (!m->state)
		return -ENOMEM;
	r = parse_address(tok[5], &m->address);
	if (r < 0)
		return r;
	if (ntok == 7)
		return parse_taint(tok[6], &m->taint);
	m->taint = strdup(""); /* no 7th column: module_flags() printed nothing */
	return m->taint ? 0 : -ENOMEM;
}

static void line_invalid(struct np_modules *s, unsigned lineno, const char *why)
{
	s->lines_invalid++;
	np_status_set(&s->status, -EINVAL, "/proc/modules line %u: %s", lineno, why);
}

/* One line (no newline, may hold NULs). Returns 0, -EINVAL (recorded) or -ENOMEM. */
static int parse_line(const char *line, size_t len, unsigned lineno, struct np_modules *s)
{
	if (memchr(line, '\0', len)) {
		line_invalid(s, lineno, "NUL byte");
		return -EINVAL;
	}
	_cleanup_free_ char *copy = strndup(line, len);
	if (!copy)
		return -ENOMEM;
	char **tok = NULL;
	size_t ntok = 0;
	if (np_split(copy, " \t", &tok, &ntok) < 0)
		return -ENOMEM;
	int r = -EINVAL;
	if (ntok != 6 && ntok != 7) {
		line_invalid(s, lineno, "expected 6 or 7 columns");
	} else if (!valid_name(tok[0])) {
		line_invalid(s, lineno, "bad module name");
	} else if (np_modules_find(s, tok[0])) {
		line_invalid(s, lineno, "duplicate module name");
	} else {
		struct np_module *m = module_add(s, tok[0]);
		r = m ? parse_fields(tok, ntok, m) : -ENOMEM;
		if (r == -EINVAL) {
			line_invalid(s, lineno, "bad field");
			np_module_free(m);
			s->n--;
		}
	}
	np_strv_free(tok);
	return r;
}

int np_parse_proc_modules(const char *buf, size_t len, struct np_modules *s)
{
	int ret = 0;
	unsigned lineno = 0;
	const char *p;
	size_t l;
	for (size_t off = 0; np_next_line(buf, len, &off, &p, &l);) {
		lineno++;
		if (l == 0)
			continue;
		int r = parse_line(p, l, lineno, s);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			ret = r;
	}
	return ret;
}

/* Read /sys/module/<name>/<attr> into *@dst; a missing file leaves it NULL. */
static void read_module_attr(struct np_facts *fx, const struct np_host *h, struct np_modules *s, const char *name,
			     const char *attr, char **dst)
{
	char *v = NULL;
	int r = np_facts_attr(fx, h, &v, "/sys/module/%s/%s", name, attr);
	if (r < 0) {
		np_status_set(&s->status, r, "/sys/module/%s/%s: %s", name, attr, np_errno_reason(r));
		return;
	}
	if (r > 0) {
		free(*dst);
		*dst = v;
	}
}

/*
 * A built-in module's folder holds parameters/ and, with MODULE_VERSION, version: the kernel makes
 * srcversion, initstate and taint only for a loaded one (kernel/module/sysfs.c modinfo_attrs,
 * kernel/params.c version_sysfs_builtin()). They are not looked for on a built-in.
 */
static void join_sysfs(struct np_facts *fx, const struct np_host *h, struct np_modules *s, struct np_module *m,
		       bool builtin_known)
{
	read_module_attr(fx, h, s, m->name, "version", &m->version);
	if (m->builtin && builtin_known)
		return;
	read_module_attr(fx, h, s, m->name, "srcversion", &m->srcversion);
	read_module_attr(fx, h, s, m->name, "initstate", &m->initstate);
	if (!m->initstate || !streq(m->initstate, "live"))
		np_facts_forget(fx, "/sys/module/%s/initstate", m->name); /* "coming", "going": read again */
	if (!m->builtin && (!m->taint || !*m->taint)) {
		char *t = NULL;
		read_module_attr(fx, h, s, m->name, "taint", &t);
		if (t && *t) {
			free(m->taint);
			m->taint = t;
		} else {
			free(t);
		}
	}
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * /sys/module entries not in /proc/modules (the first s->n) are built-in. Looked up by bisection
 * of a sorted copy of the loaded names: the modules keep /proc/modules' order until the final sort,
 * so the first failure recorded in the status stays the one it was. Returns 0 or -errno.
 */
static int add_builtins(struct np_facts *fx, const struct np_host *h, struct np_modules *s)
{
	size_t loaded = s->n;
	_cleanup_free_ const char **by_name = loaded ? malloc(loaded * sizeof(*by_name)) : NULL;
	if (loaded && !by_name)
		return -ENOMEM;
	for (size_t i = 0; i < loaded; i++)
		by_name[i] = s->modules[i].name;
	if (loaded)
		qsort(by_name, loaded, sizeof(*by_name), cmp_name);
	char **names = NULL;
	size_t n = 0;
	int r = np_facts_list(fx, h, "/sys/module", &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (loaded && bsearch(&names[i], by_name, loaded, sizeof(*by_name), cmp_name))
			continue;
		struct np_module *m = module_add(s, names[i]);
		if (!m)
			r = -ENOMEM;
		else
			m->builtin = true;
	}
	np_strv_free(names);
	return r;
}

/* FNV-1a over the loaded modules in /proc/modules' order: name, size, state, address. */
static uint64_t loaded_digest(const struct np_modules *s)
{
	uint64_t d = 1469598103934665603ull;
	for (size_t i = 0; i < s->n; i++) {
		const struct np_module *m = &s->modules[i];
		const char *part[] = { m->name, m->state, m->address };
		for (size_t k = 0; k < ARRAY_SIZE(part); k++)
			for (const char *c = part[k] ? part[k] : ""; ; c++) {
				d = (d ^ (unsigned char)*c) * 1099511628211ull;
				if (!*c)
					break;
			}
		for (size_t b = 0; b < 8; b++)
			d = (d ^ ((m->size_bytes >> (8 * b)) & 0xff)) * 1099511628211ull;
	}
	return d;
}

/*
 * The agent's modules state: its facts, and the last pass's section with what it was made of. A
 * pass is a function of /proc/modules' text (or its read's error, and then whether /proc is
 * mounted) and of the facts' answers: when the text is byte for byte the one of the last pass
 * (refcounts, states, addresses and taint columns included: read every cycle) and the facts' epoch
 * has not moved (no device or module event, no fact past its bound or dropped, no answer of the
 * last pass that was not kept: facts.h np_facts_epoch()), a new pass would ask the same questions
 * and get the same answers, so its section is a copy of the last one.
 */
struct modules_state {
	struct np_facts *fx;
	/* /proc/modules was absent from a mounted /proc: the kernel has no CONFIG_MODULES, a build
	 * option that only a reboot (a new agent) changes, so neither is looked at again */
	bool no_modules;
	bool have;             /* last holds a pass that may be reused */
	int read_r;            /* what reading /proc/modules returned */
	bool proc_mounted;     /* read_r == -ENOENT: whether /proc/sys/kernel exists */
	char *text;            /* read_r >= 0: /proc/modules' text */
	size_t len;
	uint64_t epoch;        /* np_facts_epoch() its answers were given under */
	struct np_modules last;
};

static void *modules_state_new(const struct np_collect_ctx *ctx)
{
	(void)ctx;
	struct modules_state *st = calloc(1, sizeof(*st));
	if (st && !(st->fx = np_facts_new())) {
		free(st);
		return NULL;
	}
	return st;
}

static void modules_forget_last(struct modules_state *st)
{
	st->have = false;
	free(st->text);
	st->text = NULL;
	np_modules_free(&st->last);
}

static void modules_state_free(void *state)
{
	struct modules_state *st = state;
	if (!st)
		return;
	modules_forget_last(st);
	np_facts_free(st->fx);
	free(st);
}

/* Whether @st's last pass was made of the same /proc/modules answer and the same facts. */
static bool same_pass(const struct modules_state *st, int r, bool proc_mounted, const char *buf, size_t len)
{
	if (!st->have || st->read_r != r || st->epoch != np_facts_epoch(st->fx))
		return false;
	if (r == -ENOENT)
		return st->proc_mounted == proc_mounted;
	return r < 0 || (st->len == len && !memcmp(st->text, buf, len));
}

/* Keep @s as @st's last pass, with its inputs (@buf taken). A failed copy only costs a full pass. */
static void keep_pass(struct modules_state *st, const struct np_modules *s, int r, bool proc_mounted, char **buf,
		      size_t len)
{
	modules_forget_last(st);
	if (np_modules_dup(s, &st->last) < 0) {
		np_modules_free(&st->last);
		return;
	}
	st->read_r = r;
	st->proc_mounted = proc_mounted;
	st->text = TAKE_PTR(*buf);
	st->len = len;
	st->epoch = np_facts_epoch(st->fx);
	st->have = true;
}

static int collect_modules(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	const struct np_host *h = ctx->host;
	struct np_modules *s = &rep->modules;
	struct modules_state *st = np_collect_state(ctx, "modules");
	struct np_facts *fx = np_facts_begin(st ? st->fx : NULL, ctx);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	int read_r = -ENOENT;
	bool proc_mounted = true;
	if (!st || !st->no_modules) {
		read_r = np_host_read(h, "/proc/modules", NP_PROC_MODULES_MAX, &buf, &len);
		/* ENOENT with a mounted /proc = kernel built without CONFIG_MODULES */
		proc_mounted = read_r == -ENOENT && np_host_exists(h, "/proc/sys/kernel");
		if (st)
			st->no_modules = proc_mounted;
	}
	if (st && same_pass(st, read_r, proc_mounted, buf, len)) {
		np_facts_touch(fx); /* the last pass asked for each of them */
		r = np_modules_dup(&st->last, s);
		if (r < 0)
			return r;
		return s->n == 0 && s->status.err ? -s->status.err : 0; /* as the pass below */
	}
	r = read_r;
	bool builtin_known = true; /* /proc/modules read, or absent from a mounted /proc (no CONFIG_MODULES) */
	if (r >= 0) {
		s->loadable = true;
		r = np_parse_proc_modules(buf, len, s);
		if (r == -ENOMEM)
			return r;
	} else if (!proc_mounted) {
		s->loadable = r != -ENOENT;
		builtin_known = false;
		np_status_set(&s->status, r, "/proc/modules: %s", np_errno_reason(r));
	}

	size_t loaded = s->n;
	/* a module loaded, unloaded or reloaded (a reload moves it to the top of /proc/modules, at a new
	 * address) before its uevent reached the agent, or with no uevents at all: the cached /sys/module
	 * listing would show an unloaded module as built-in, a reloaded one at its old version */
	np_facts_key(fx, loaded_digest(s));
	/* the answers this pass is made of start here: one not kept moves the epoch past this */
	uint64_t epoch = np_facts_epoch(fx);
	r = add_builtins(fx, h, s);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		np_status_set(&s->status, r, "/sys/module: %s", np_errno_reason(r));
	for (size_t i = 0; i < s->n; i++)
		join_sysfs(fx, h, s, &s->modules[i], builtin_known);
	if (s->n)
		qsort(s->modules, s->n, sizeof(s->modules[0]), cmp_module);
	if (st) {
		modules_forget_last(st);
		if (np_facts_epoch(fx) == epoch)
			keep_pass(st, s, read_r, proc_mounted, &buf, len);
	}
	/* nothing at all to report: the section failed as a whole */
	if (s->n == 0 && loaded == 0 && s->status.err)
		return -s->status.err;
	return 0;
}

/* The modules' sysfs attributes and the /sys/module list are facts (facts.h): read again after a
 * device or module event, at least every facts bound; /proc/modules (refs, state) every cycle, its
 * parse and join skipped when its text and the facts are those of the last pass (modules_state). */
NP_SECTION_STATEFUL(modules, 20, 20, collect_modules, NULL, modules_state_new, np_facts_state_reload,
		    modules_state_free);
