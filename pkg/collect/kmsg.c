// SPDX-License-Identifier: Apache-2.0
/*
 * kmsg.c - kernel log follower and classifier: /dev/kmsg records
 * (Documentation/ABI/testing/dev-kmsg) read non-blocking from the start of
 * the ring buffer, classified into typed storage/PCIe/NIC/firmware events.
 */
#define _GNU_SOURCE
#include "kmsg.h"
#include "collector.h"
#include "flaps.h"
#include "gpu_xid.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A capture file (fixture root) is read whole; 64 MiB is far above any ring buffer. */
#define STREAM_MAX (64u << 20)
#define DEFAULT_MAX_EVENTS 256

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *np_kmsg_unescape(char *s)
{
	char *w = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
			int v = hexval(p[2]) * 16 + hexval(p[3]);
			if (v) {
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

void np_kmsg_record_free(struct np_kmsg_record *rec)
{
	free(rec->message);
	np_strv_free(rec->dict);
	*rec = (struct np_kmsg_record){ 0 };
}

/* "prio,seq,ts_usec,flags[,more]" (NUL-terminated, no ';'). */
static int parse_header(char *h, struct np_kmsg_record *rec)
{
	char *f[4];
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(h, ",", &save); t && n < 4; t = strtok_r(NULL, ",", &save))
		f[n++] = t;
	uint64_t prio;
	if (n < 4 || np_parse_dec(f[0], UINT64_MAX, &prio) < 0 || prio > UINT32_MAX || np_parse_dec(f[1], UINT64_MAX, &rec->seq) < 0 ||
	    np_parse_dec(f[2], UINT64_MAX, &rec->ts_us) < 0 || strlen(f[3]) != 1)
		return -EINVAL;
	rec->facility = (unsigned)(prio >> 3);
	rec->level = (unsigned)(prio & 7);
	rec->flags = strchr("-c+", f[3][0]) ? f[3][0] : '?';
	return 0;
}

static int parse_dict(char *lines, struct np_kmsg_record *rec)
{
	size_t n = 0;
	char *save = NULL;
	for (char *l = strtok_r(lines, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (l[0] != ' ' || !strchr(l, '='))
			return -EINVAL;
		if (np_strv_push(&rec->dict, &n, np_kmsg_unescape(l + 1)) < 0)
			return -ENOMEM;
	}
	for (char **d = rec->dict; d && *d; d++) {
		if (np_startswith(*d, "SUBSYSTEM=") && !rec->subsystem)
			rec->subsystem = *d + strlen("SUBSYSTEM=");
		else if (np_startswith(*d, "DEVICE=") && !rec->device)
			rec->device = *d + strlen("DEVICE=");
	}
	return 0;
}

static int parse_record(char *buf, struct np_kmsg_record *rec)
{
	char *semi = strchr(buf, ';');
	char *nl = strchr(buf, '\n');
	if (!semi || (nl && nl < semi))
		return -EINVAL;
	*semi = '\0';
	int r = parse_header(buf, rec);
	if (r < 0)
		return r;
	char *msg = semi + 1;
	nl = strchr(msg, '\n');
	if (nl)
		*nl = '\0';
	rec->message = strdup(np_kmsg_unescape(msg));
	if (!rec->message)
		return -ENOMEM;
	return nl ? parse_dict(nl + 1, rec) : 0;
}

int np_kmsg_parse_record(const char *buf, size_t len, struct np_kmsg_record *rec)
{
	*rec = (struct np_kmsg_record){ 0 };
	if (len > NP_KMSG_RECORD_MAX)
		return -EFBIG;
	if (len == 0 || memchr(buf, '\0', len))
		return -EINVAL;
	_cleanup_free_ char *copy = strndup(buf, len);
	if (!copy)
		return -ENOMEM;
	int r = parse_record(copy, rec);
	if (r < 0)
		np_kmsg_record_free(rec);
	return r;
}

/* ---- classifier ---- */

void np_kmsg_match_free(struct np_kmsg_match *m)
{
	free(m->device);
	free(m->map);
	free(m->detail);
	free(m->op);
	*m = (struct np_kmsg_match){ 0 };
}

char *np_nvme_controller_of(const char *name)
{
	unsigned a, b, c;
	int end = 0;
	if (sscanf(name, "nvme%uc%un%u%n", &a, &b, &c, &end) == 3 && name[end] == '\0')
		return np_asprintf("nvme%u", b);
	if (sscanf(name, "nvme%un%u%n", &a, &b, &end) == 2 && name[end] == '\0')
		return np_asprintf("nvme%u", a);
	if (sscanf(name, "nvme%u%n", &a, &end) == 1 && name[end] == '\0')
		return np_asprintf("nvme%u", a);
	return NULL;
}

/* ---- stream (captures) ---- */

int np_kmsg_parse_stream(const char *buf, size_t len, int (*cb)(const struct np_kmsg_record *rec, void *ud),
			 void *ud)
{
	int bad = 0;
	size_t off = 0;
	while (off < len) {
		size_t start = off;
		/* the record's first line, then every following line that starts with a space */
		const char *nl = memchr(buf + off, '\n', len - off);
		off = nl ? (size_t)(nl - buf) + 1 : len;
		while (off < len && buf[off] == ' ') {
			nl = memchr(buf + off, '\n', len - off);
			off = nl ? (size_t)(nl - buf) + 1 : len;
		}
		if (off - start == 1 && buf[start] == '\n')
			continue;
		struct np_kmsg_record rec;
		int r = np_kmsg_parse_record(buf + start, off - start, &rec);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			bad++;
			continue;
		}
		r = cb(&rec, ud);
		np_kmsg_record_free(&rec);
		if (r < 0)
			return r;
	}
	return bad;
}

/* ---- follower ---- */

int np_kmsg_follower_open(struct np_kmsg_follower *f, const struct np_host *h, const char *path)
{
	*f = (struct np_kmsg_follower){ .fd = -1 };
	int fd = np_host_openat(h, path ? path : "/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	f->stream = S_ISREG(st.st_mode);
	if (!f->stream && !S_ISCHR(st.st_mode)) {
		close(fd);
		return -ENODEV;
	}
	/* dev-kmsg: SEEK_SET 0 = first record still in the buffer (open starts there too) */
	if (!f->stream && lseek(fd, 0, SEEK_SET) < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	f->fd = fd;
	return 0;
}

void np_kmsg_follower_close(struct np_kmsg_follower *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

struct deliver {
	struct np_kmsg_follower *f;
	int (*cb)(const struct np_kmsg_record *, void *);
	void *ud;
	int delivered;
};

static int deliver(const struct np_kmsg_record *rec, void *ud)
{
	struct deliver *d = ud;
	struct np_kmsg_follower *f = d->f;
	if (f->have_seq && rec->seq <= f->last_seq) {
		f->duplicates++;
		return 0;
	}
	if (!f->have_seq)
		f->first_seq = rec->seq;
	else if (rec->seq > f->last_seq + 1)
		f->lost += rec->seq - f->last_seq - 1;
	f->overrun = false;
	f->have_seq = true;
	f->last_seq = rec->seq;
	f->records_read++;
	d->delivered++;
	return d->cb(rec, d->ud);
}

static int read_stream(struct np_kmsg_follower *f, struct deliver *d)
{
	if (lseek(f->fd, 0, SEEK_SET) < 0)
		return negative_errno();
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 65536 > cap) {
			if (cap >= STREAM_MAX)
				return -EFBIG;
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		ssize_t k = read(f->fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			break;
		len += (size_t)k;
	}
	int r = np_kmsg_parse_stream(buf, len, deliver, d);
	if (r < 0)
		return r;
	f->bad_records += (uint64_t)r;
	return d->delivered;
}

int np_kmsg_follower_read(struct np_kmsg_follower *f, int (*cb)(const struct np_kmsg_record *rec, void *ud),
			  void *ud)
{
	struct deliver d = { .f = f, .cb = cb, .ud = ud };
	if (f->fd < 0)
		return -EBADF;
	if (f->stream)
		return read_stream(f, &d);
	/* on the stack: read between every section, a 16 KiB malloc each time was the first large
	 * allocation of a cycle, where glibc merged the small chunks the last report freed */
	char buf[NP_KMSG_RECORD_MAX];
	for (;;) {
		ssize_t k = read(f->fd, buf, NP_KMSG_RECORD_MAX);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return d.delivered;
			if (errno == EPIPE) {
				f->overrun = true; /* overwritten: the next record's sequence gap counts them */
				continue;
			}
			return negative_errno();
		}
		if (k == 0)
			return d.delivered;
		struct np_kmsg_record rec;
		int r = np_kmsg_parse_record(buf, (size_t)k, &rec);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			f->bad_records++;
			continue;
		}
		r = deliver(&rec, &d);
		np_kmsg_record_free(&rec);
		if (r < 0)
			return r;
	}
}

/* ---- section ---- */

int64_t np_kmsg_wall_offset_ms(int64_t now_real_ms, uint64_t now_mono_us)
{
	return now_real_ms - (int64_t)(now_mono_us / 1000);
}

static int take_match(struct np_kmsg_event *e, struct np_kmsg_match *m, const struct np_kmsg_record *rec)
{
	*e = (struct np_kmsg_event){
		.kind = m->kind,
		.device = TAKE_PTR(m->device),
		.map = TAKE_PTR(m->map),
		.detail = TAKE_PTR(m->detail),
		.op = TAKE_PTR(m->op),
		.sector = m->sector,
		.has_sector = m->has_sector,
		.seq = rec->seq,
		.priority = rec->level,
		.facility = rec->facility,
		.monotonic_us = rec->ts_us,
	};
	e->message = strdup(rec->message);
	e->subsystem = rec->subsystem ? strdup(rec->subsystem) : NULL;
	e->kdevice = rec->device ? strdup(rec->device) : NULL;
	if (!e->device && rec->device)
		e->device = strdup(rec->device);
	if (!e->message || (rec->subsystem && !e->subsystem) || (rec->device && !e->kdevice))
		return -ENOMEM;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && streq(a, b));
}

static bool gpu_kind(enum np_kmsg_kind k)
{
	return k == NP_KMSG_GPU_XID || k == NP_KMSG_GPU_SXID || k == NP_KMSG_GPU_RESET;
}

/* A GPU line's code, class, pid and process (gpu_xid.h); the class under the newest driver branch seen. */
struct gpu_fields {
	int code;
	enum np_gpu_class cls;
	int64_t pid;
	const char *origin;
	char name[64];
};

static int gpu_fields_of(const struct np_kmsg *s, const struct np_kmsg_match *m, const char *msg,
			 struct gpu_fields *g)
{
	*g = (struct gpu_fields){ .code = -1, .pid = -1 };
	if (m->kind == NP_KMSG_GPU_RESET) {
		bool failed = m->detail && streq(m->detail, "failed");
		g->code = failed;
		g->cls = failed ? NP_GPU_CLASS_REBOOT : NP_GPU_CLASS_APPLICATION;
		g->origin = failed ? "amdgpu: the driver could not reset the GPU; it stays unusable until a reboot"
				   : "amdgpu: the reset succeeded; the GPU is back";
		return 0;
	}
	struct np_xid x;
	if (np_xid_parse(msg, &x) < 0 || (x.sxid && !x.severity))
		return -EINVAL; /* an SXid's "Severity …"/"Data {…}" companion lines are no occurrence of their own */
	g->code = (int)x.code;
	g->pid = x.pid;
	g->cls = np_xid_class(&x, s->nvidia_branch, &g->origin);
	snprintf(g->name, sizeof(g->name), "%s", x.name);
	return 0;
}

/* The kept event @rec repeats (same kind, facility, device, message; GPU kinds: same device and code), or NULL. */
static struct np_kmsg_event *find_repeat(struct np_kmsg *s, const struct np_kmsg_match *m,
					 const struct np_kmsg_record *rec, int gpu_code)
{
	for (size_t i = s->n; i-- > 0;) {
		struct np_kmsg_event *e = &s->events[i];
		if (gpu_kind(m->kind)) {
			if (e->kind == m->kind && e->gpu_code == gpu_code && same_str(e->device, m->device))
				return e;
			continue;
		}
		if (e->kind == m->kind && e->facility == rec->facility && same_str(e->message, rec->message) &&
		    (same_str(e->device, m->device) || (!m->device && same_str(e->device, rec->device))))
			return e;
	}
	return NULL;
}

/* Move @e to the end (newest): eviction then drops the event seen least recently. */
static struct np_kmsg_event *to_end(struct np_kmsg *s, struct np_kmsg_event *e)
{
	size_t i = (size_t)(e - s->events);
	struct np_kmsg_event tmp = *e;
	memmove(&s->events[i], &s->events[i + 1], (s->n - i - 1) * sizeof(*e));
	s->events[s->n - 1] = tmp;
	return &s->events[s->n - 1];
}

int np_kmsg_add_record(struct np_kmsg *s, const struct np_kmsg_record *rec, int64_t wall_offset_ms,
		       struct np_kmsg_event **ev)
{
	struct np_kmsg_match m;
	unsigned branch = np_nvrm_driver_branch(rec->message);
	if (branch) /* the driver's load line: Xid classes after it follow its branch */
		s->nvidia_branch = branch;
	int k = np_kmsg_classify(rec->message, &m);
	if (k <= 0)
		return k;
	struct gpu_fields g = { .code = -1, .pid = -1 };
	if (gpu_kind(m.kind) && gpu_fields_of(s, &m, rec->message, &g) < 0) {
		np_kmsg_match_free(&m); /* the rule's line but not a well-formed one */
		return 0;
	}
	unsigned max = s->max_events ? s->max_events : DEFAULT_MAX_EVENTS;
	s->matched++;
	struct np_kmsg_event *e = find_repeat(s, &m, rec, g.code);
	if (e) { /* a storm of one line is one event whose count is the number of records */
		np_kmsg_match_free(&m);
		e = to_end(s, e);
		e->count++;
		e->last_seq = rec->seq;
		e->last_monotonic_us = rec->ts_us;
		if (ev)
			*ev = e;
		return 1;
	}
	if (s->n >= max) {
		/* keep the newest: drop the oldest */
		np_kmsg_event_free(&s->events[0]);
		memmove(&s->events[0], &s->events[1], (s->n - 1) * sizeof(s->events[0]));
		s->n--;
	} else {
		struct np_kmsg_event *ne = reallocarray(s->events, s->n + 1, sizeof(*ne));
		if (!ne) {
			np_kmsg_match_free(&m);
			return -ENOMEM;
		}
		s->events = ne;
	}
	e = &s->events[s->n++];
	int r = take_match(e, &m, rec);
	np_kmsg_match_free(&m);
	if (r < 0)
		return r;
	e->count = 1;
	e->last_seq = rec->seq;
	e->last_monotonic_us = rec->ts_us;
	e->gpu_code = g.code;
	e->gpu_class = g.cls;
	e->gpu_pid = g.pid;
	e->gpu_origin = g.origin;
	e->driver_branch = gpu_kind(e->kind) && e->kind != NP_KMSG_GPU_RESET ? s->nvidia_branch : 0;
	if (g.name[0] && !(e->gpu_process = strdup(g.name)))
		return -ENOMEM;
	if (wall_offset_ms)
		e->wall_estimate_ms = wall_offset_ms + (int64_t)(rec->ts_us / 1000);
	if (ev)
		*ev = e;
	return 1;
}

/*
 * What the section keeps across the agent's cycles: its flap tracker and the newest record it fed,
 * and its reader with the events of every record read so far, so that each cycle reads and
 * classifies only the records that came since the last one (a fresh read of the whole ring buffer
 * and 37 rules over every boot message was a third of a warm cycle's CPU).
 */
struct kmsg_state {
	struct np_flaps flaps;
	bool have_seq;
	uint64_t fed_seq;
	struct np_kmsg_follower f; /* fd -1 until a collect opens it, and again after a read error */
	struct np_kmsg acc;        /* the events, counts and driver branch of the records read so far */
	uint64_t last_ts_us;       /* the newest record's stamp: "now" of a capture's flap window */
};

static int64_t flap_window_ms(const struct np_collect_ctx *ctx)
{
	return ctx->flap_window_s > 0 ? (int64_t)(ctx->flap_window_s * 1000) : NP_KMSG_FLAP_WINDOW_MS;
}

static void *kmsg_state_new(const struct np_collect_ctx *ctx)
{
	struct kmsg_state *k = calloc(1, sizeof(*k));
	if (k) {
		np_flaps_init(&k->flaps, flap_window_ms(ctx), 0);
		k->f.fd = -1;
	}
	return k;
}

static void kmsg_state_reload(void *state, const struct np_collect_ctx *ctx)
{
	((struct kmsg_state *)state)->flaps.window_ms = flap_window_ms(ctx); /* the policy's windowSeconds */
}

static void kmsg_state_free(void *state)
{
	struct kmsg_state *k = state;
	np_flaps_free(&k->flaps);
	np_kmsg_follower_close(&k->f);
	np_kmsg_free(&k->acc);
	free(k);
}

struct collect_state {
	struct np_kmsg *s;
	int64_t offset_ms;
	struct np_flaps own;      /* a one-shot run's tracker */
	struct np_flaps *flaps;   /* &own, or the agent-long one of struct kmsg_state */
	struct kmsg_state *kept;  /* NULL in a one-shot run */
	uint64_t last_ts_us;
};

static int on_record(const struct np_kmsg_record *rec, void *ud)
{
	struct collect_state *c = ud;
	struct np_kmsg_event *e = NULL;
	int r = np_kmsg_add_record(c->s, rec, c->offset_ms, &e);
	c->last_ts_us = rec->ts_us;
	/* every path event feeds the flap tracker, also repeats and those the event ring later drops;
	 * a tracker kept across cycles is fed each record once */
	bool fed = c->kept && c->kept->have_seq && rec->seq <= c->kept->fed_seq;
	if (r > 0 && !fed)
		r = np_flaps_feed_kmsg(c->flaps, e);
	if (c->kept && !fed) {
		c->kept->have_seq = true;
		c->kept->fed_seq = rec->seq;
	}
	return r < 0 ? r : 0;
}

/* Copy the tracker's per-map counts into the section; "now" is the newest record for captures. */
static int flaps_to_section(struct collect_state *c, struct np_kmsg *s, int64_t now_ms)
{
	const struct np_flaps *fl = c->flaps;
	s->flaps_window_ms = fl->window_ms;
	if (!fl->n)
		return 0;
	s->flaps = calloc(fl->n, sizeof(*s->flaps));
	if (!s->flaps)
		return -ENOMEM;
	for (size_t i = 0; i < fl->n; i++) {
		struct np_kmsg_flaps *f = &s->flaps[s->n_flaps];
		f->map = strdup(fl->maps[i].map);
		if (!f->map)
			return -ENOMEM;
		f->total = fl->maps[i].total;
		f->in_window = np_flaps_in_window(fl, fl->maps[i].map, now_ms);
		s->n_flaps++;
	}
	return 0;
}

/* Open @f again after an error (or the first time), keeping its sequence numbers and counts. */
static int follower_reopen(struct np_kmsg_follower *f, const struct np_host *h)
{
	struct np_kmsg_follower was = *f;
	int r = np_kmsg_follower_open(f, h, NULL);
	if (r < 0) {
		*f = was;
		f->fd = -1;
		return r;
	}
	int fd = f->fd;
	bool stream = f->stream;
	*f = was;
	f->fd = fd;
	f->stream = stream;
	return 0;
}

/* A deep copy of @src into @dst. Returns 0, or -ENOMEM with @dst empty. */
static int event_copy(struct np_kmsg_event *dst, const struct np_kmsg_event *src)
{
	*dst = *src;
	char **to[] = { &dst->device, &dst->map, &dst->detail, &dst->op,
			&dst->message, &dst->subsystem, &dst->kdevice, &dst->gpu_process };
	for (size_t i = 0; i < ARRAY_SIZE(to); i++)
		*to[i] = NULL;
	const char *from[] = { src->device, src->map, src->detail, src->op,
			       src->message, src->subsystem, src->kdevice, src->gpu_process };
	for (size_t i = 0; i < ARRAY_SIZE(from); i++)
		if (from[i] && !(*to[i] = strdup(from[i]))) {
			np_kmsg_event_free(dst);
			return -ENOMEM;
		}
	return 0;
}

/*
 * The agent's events into this cycle's report: copies, each with the wall-clock estimate a fresh
 * read would give it now (this cycle's offset and its first record's stamp).
 */
static int copy_events(struct np_kmsg *s, const struct np_kmsg *acc, int64_t offset_ms)
{
	s->matched = acc->matched;
	s->nvidia_branch = acc->nvidia_branch;
	if (!acc->n)
		return 0;
	s->events = calloc(acc->n, sizeof(*s->events));
	if (!s->events)
		return -ENOMEM;
	for (size_t i = 0; i < acc->n; i++) {
		if (event_copy(&s->events[i], &acc->events[i]) < 0)
			return -ENOMEM;
		s->n++;
		if (offset_ms)
			s->events[i].wall_estimate_ms = offset_ms + (int64_t)(s->events[i].monotonic_us / 1000);
	}
	return 0;
}

/*
 * A one-shot run reads the whole ring buffer. The agent keeps its reader open across cycles
 * (struct kmsg_state): each cycle reads only the records that came since, adds them to the
 * events it keeps, and reports a copy; the counts and sequence numbers are those of every record
 * read since the agent started, and an event stays after its records leave the ring buffer (the
 * newest max_events are kept, as in one read).
 */
static int collect_kmsg(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	struct np_kmsg *s = &rep->kmsg;
	struct kmsg_state *kept = np_collect_state(ctx, "kmsg");
	struct np_kmsg_follower own = { .fd = -1 };
	struct np_kmsg_follower *f = kept ? &kept->f : &own;
	struct collect_state c = { .s = kept ? &kept->acc : s, .kept = kept, .last_ts_us = kept ? kept->last_ts_us : 0 };
	int64_t now_ms = 0;
	s->max_events = ctx->kmsg_max ? ctx->kmsg_max : DEFAULT_MAX_EVENTS;
	c.s->max_events = s->max_events;
	s->source_path = strdup("/dev/kmsg");
	if (!s->source_path)
		return -ENOMEM;
	int r = f->fd < 0 ? follower_reopen(f, ctx->host) : 0;
	if (r < 0) {
		np_status_set(&s->status, r, "/dev/kmsg: %s", np_errno_reason(r));
		return r;
	}
	np_flaps_init(&c.own, flap_window_ms(ctx), 0);
	c.flaps = c.kept ? &c.kept->flaps : &c.own;
	if (ctx->host->live && !f->stream) {
		struct timespec rt, mono;
		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		c.offset_ms = np_kmsg_wall_offset_ms((int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000,
						     (uint64_t)mono.tv_sec * 1000000 + (uint64_t)mono.tv_nsec / 1000);
		now_ms = (int64_t)mono.tv_sec * 1000 + mono.tv_nsec / 1000000;
		s->wall_clock_estimated = true;
	}
	r = np_kmsg_follower_read(f, on_record, &c);
	s->records_read = f->records_read;
	s->lost = f->lost;
	s->bad_records = f->bad_records;
	s->have_seq = f->have_seq;
	s->first_seq = f->first_seq;
	s->last_seq = f->last_seq;
	if (!kept || r < 0) /* the agent's reader opens again at the next cycle, after the last record */
		np_kmsg_follower_close(f);
	if (!kept)
		np_kmsg_rules_release(); /* a one-shot run classifies nothing more */
	if (kept) {
		kept->last_ts_us = c.last_ts_us;
		if (copy_events(s, &kept->acc, c.offset_ms) < 0)
			r = -ENOMEM;
	}
	if (flaps_to_section(&c, s, now_ms ? now_ms : (int64_t)(c.last_ts_us / 1000)) < 0)
		r = -ENOMEM;
	np_flaps_free(&c.own);
	if (r < 0)
		np_status_set(&s->status, r, "/dev/kmsg: read: %s", np_errno_reason(r));
	else if (s->bad_records)
		np_status_set(&s->status, -EINVAL, "/dev/kmsg: %llu records did not parse",
			      (unsigned long long)s->bad_records);
	return 0;
}

NP_SECTION_STATEFUL(kmsg, 80, 100, collect_kmsg, NULL, kmsg_state_new, kmsg_state_reload, kmsg_state_free);
