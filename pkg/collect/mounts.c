// SPDX-License-Identifier: Apache-2.0
/*
 * mounts.c - the host's mount table from /proc/1/mountinfo (proc(5)), and
 * block device (major:minor) -> mount points and options.
 */
#define _GNU_SOURCE
#include "mounts.h"
#include "collector.h"
#include "facts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

/* Mount tables of Kubernetes nodes reach tens of thousands of lines: 16 MiB is far above. */
#define MOUNTINFO_MAX NP_READ_MAX_DEFAULT

static bool is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

char *np_mountinfo_unescape(char *s)
{
	char *w = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && is_odigit(p[1]) && is_odigit(p[2]) && is_odigit(p[3])) {
			unsigned v = (unsigned)(p[1] - '0') * 64 + (unsigned)(p[2] - '0') * 8 + (unsigned)(p[3] - '0');
			if (v > 0 && v <= 0377) {
				*w++ = (char)v;
				p += 3;
				continue;
			}
		}
		*w++ = *p;
	}
	*w = '\0';
	return s;
}


static int parse_devnum(char *s, unsigned *major, unsigned *minor)
{
	char *colon = strchr(s, ':');
	uint64_t ma, mi;
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (np_parse_dec(s, UINT32_MAX, &ma) < 0 || np_parse_dec(colon + 1, UINT32_MAX, &mi) < 0)
		return -EINVAL;
	*major = (unsigned)ma;
	*minor = (unsigned)mi;
	return 0;
}

static int dup_field(char **dst, char *src)
{
	*dst = strdup(np_mountinfo_unescape(src));
	return *dst ? 0 : -ENOMEM;
}

/* Split @line on single spaces (empty fields kept). Returns the count, at most @max. */
static size_t split_spaces(char *line, char **tok, size_t max)
{
	size_t n = 0;
	tok[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == ' ') {
			*p = '\0';
			tok[n++] = p + 1;
		}
	}
	return n;
}

#define MAX_FIELDS 512

/*
 * Parse one NUL-terminated line into @m, @tok room for MAX_FIELDS fields (one for every line of
 * the table). Returns 0, -EINVAL or -ENOMEM (m half-filled: caller frees).
 */
static int parse_line(char *line, char **tok, struct np_mount *m)
{
	size_t n = split_spaces(line, tok, MAX_FIELDS);
	size_t sep = 0;
	for (size_t i = 6; i < n; i++)
		if (streq(tok[i], "-")) {
			sep = i;
			break;
		}
	if (n < 10 || !sep || n - sep < 4 || n >= MAX_FIELDS)
		return -EINVAL;
	if (np_parse_dec(tok[0], UINT64_MAX, &m->mount_id) < 0 || np_parse_dec(tok[1], UINT64_MAX, &m->parent_id) < 0 ||
	    parse_devnum(tok[2], &m->major, &m->minor) < 0)
		return -EINVAL;
	if (!*tok[3] || !*tok[4] || !*tok[5] || !*tok[sep + 1])
		return -EINVAL;
	size_t nopt = 0;
	for (size_t i = 6; i < sep; i++)
		if (np_strv_push(&m->optional, &nopt, np_mountinfo_unescape(tok[i])) < 0)
			return -ENOMEM;
	/* super options may hold unescaped spaces on some filesystems: re-join the tail */
	for (size_t i = sep + 4; i < n; i++)
		tok[i][-1] = ' ';
	if (dup_field(&m->root, tok[3]) < 0 || dup_field(&m->mount_point, tok[4]) < 0 ||
	    dup_field(&m->options, tok[5]) < 0 || dup_field(&m->fstype, tok[sep + 1]) < 0 ||
	    dup_field(&m->source, tok[sep + 2]) < 0 || dup_field(&m->super_options, tok[sep + 3]) < 0)
		return -ENOMEM;
	return 0;
}

static int append_mount(struct np_mounts *out, const struct np_mount *m)
{
	struct np_mount *nm = reallocarray(out->mounts, out->n + 1, sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	out->mounts = nm;
	out->mounts[out->n++] = *m;
	return 0;
}

/* One line of @len bytes (no newline), @tok as for parse_line(). Returns 0, -EINVAL (bad line) or -ENOMEM. */
static int parse_one(const char *p, size_t len, char **tok, struct np_mounts *out)
{
	if (memchr(p, '\0', len))
		return -EINVAL;
	_cleanup_free_ char *line = strndup(p, len);
	if (!line)
		return -ENOMEM;
	struct np_mount m = { 0 };
	int r = parse_line(line, tok, &m);
	if (r >= 0)
		r = append_mount(out, &m);
	if (r < 0)
		np_mount_free(&m);
	return r;
}

int np_parse_mountinfo(const char *buf, size_t len, struct np_mounts *out)
{
	unsigned lineno = 0;
	const char *p;
	size_t l;
	char *tok[MAX_FIELDS]; /* 4 KiB, one for every line; split_spaces() sets what it counts */
	for (size_t off = 0; np_next_line(buf, len, &off, &p, &l);) {
		lineno++;
		if (l == 0)
			continue;
		bool nl = off <= len; /* the last line without its newline: maybe cut short */
		int r = parse_one(p, l, tok, out);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			if (!out->bad_lines)
				np_status_set(&out->status, -EINVAL, "mountinfo line %u: malformed (%s)", lineno,
					      nl ? "bad fields" : "truncated or bad fields");
			out->bad_lines++;
		}
	}
	if (out->bad_lines)
		return -EINVAL;
	return 0;
}

/* np_read_host_mountinfo() through @ctx: without a pass (@ctx's host only) or with one, shared. */
static int read_mountinfo(const struct np_collect_ctx *ctx, struct np_mounts *out)
{
	static const char *const paths[] = { "/proc/1/mountinfo", "/proc/self/mountinfo" };
	int r = -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		_cleanup_free_ char *own = NULL;
		const char *buf;
		size_t len;
		r = np_collect_read(ctx, paths[i], MOUNTINFO_MAX, &own, &buf, &len);
		if (r == -EFBIG) {
			np_status_set(&out->status, r, "%s: larger than %u bytes", paths[i], MOUNTINFO_MAX);
			return r;
		}
		if (r < 0)
			continue;
		free(out->source_path);
		out->source_path = strdup(paths[i]);
		if (!out->source_path)
			return -ENOMEM;
		return np_parse_mountinfo(buf, len, out);
	}
	return r;
}

int np_read_host_mountinfo(const struct np_host *h, struct np_mounts *out)
{
	return read_mountinfo(&(struct np_collect_ctx){ .host = h }, out);
}

int np_collect_mountinfo(const struct np_collect_ctx *ctx, struct np_mounts *out)
{
	return read_mountinfo(ctx, out);
}

static struct np_mount_dev *find_dev(struct np_mounts *s, unsigned major, unsigned minor)
{
	for (size_t i = 0; i < s->n_devices; i++)
		if (s->devices[i].major == major && s->devices[i].minor == minor)
			return &s->devices[i];
	return NULL;
}

static int add_dev_mount(struct np_mount_dev *d, size_t idx)
{
	size_t *nm = reallocarray(d->mounts, d->n_mounts + 1, sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	d->mounts = nm;
	d->mounts[d->n_mounts++] = idx;
	return 0;
}

/*
 * @fx: the agent's facts (facts.h), NULL in a one-shot run: whether major:minor is a block device,
 * and its name, change only when a block device comes or goes, a uevent.
 */
static int new_dev(struct np_facts *fx, const struct np_host *h, struct np_mounts *s, unsigned major,
		   unsigned minor, struct np_mount_dev **out)
{
	char path[64];
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major, minor);
	*out = NULL;
	if (!np_facts_exists(fx, h, path))
		return 0;
	struct np_mount_dev *nd = reallocarray(s->devices, s->n_devices + 1, sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	s->devices = nd;
	struct np_mount_dev *d = &s->devices[s->n_devices++];
	*d = (struct np_mount_dev){ .major = major, .minor = minor };
	if (np_facts_link_basename(fx, h, path, &d->name) < 0)
		d->name = NULL;
	*out = d;
	return 0;
}

/*
 * np_mounts_index_devices() - build @s->devices: every distinct major:minor
 * of @s->mounts that is a block device (/sys/dev/block/M:m exists under the
 * host root), named after its sysfs entry, with the mounts on it in order;
 * both asked through the agent's facts @fx (NULL: the host). Returns 0 or -ENOMEM.
 */
static int np_mounts_index_devices(struct np_facts *fx, const struct np_host *h, struct np_mounts *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct np_mount *m = &s->mounts[i];
		if (m->major == 0)
			continue; /* anonymous devices: tmpfs, proc, overlay, btrfs subvolumes */
		struct np_mount_dev *d = find_dev(s, m->major, m->minor);
		if (!d) {
			int r = new_dev(fx, h, s, m->major, m->minor, &d);
			if (r < 0)
				return r;
			if (!d)
				continue;
		}
		if (add_dev_mount(d, i) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int collect_mounts(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_mounts *s = &rep->mounts;
	struct np_facts *fx = np_facts_begin(np_collect_state(ctx, "mounts"), ctx);
	int r = np_collect_mountinfo(ctx, s);
	if ((r >= 0 || r == -EINVAL) && np_mounts_index_devices(fx, ctx->host, s) < 0)
		return -ENOMEM;
	np_collect_put_mounts(ctx, s, r); /* once per pass: volumes uses the same table */
	return r == -EINVAL ? 0 : r;
}

NP_SECTION_STATEFUL(mounts, 60, 90, collect_mounts, NULL, np_facts_state_new, np_facts_state_reload,
		    np_facts_state_free);
