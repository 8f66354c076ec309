// SPDX-License-Identifier: Apache-2.0
/*
 * fio.c - fio(1) as a subprocess (--output-format=json) and its JSON
 * (fio 3.x stat.c show_thread_status_json(): jobs[].read/.write with iops,
 * bw_bytes, total_ios and clat_ns{max, percentile{"99.000000": ns}}).
 */
#define _GNU_SOURCE
#include "fio.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>

#define FILE_PREFIX "nodeprint-baseline."
#define FILE_SUFFIX ".fio"

static int fail(char **err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char **err, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && !*err && vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return r;
}

/* ---- the JSON ---- */

static const struct {
	double at;
	enum np_bench_fig fig;
} pcts[] = { { 50, NP_BF_P50 }, { 95, NP_BF_P95 }, { 99, NP_BF_P99 }, { 99.9, NP_BF_P999 } };

struct side {
	double iops, bw, ios;
	double lat_us[NP_BF_N]; /* only the latency slots are used */
	bool has[NP_BF_N];
};

/* A non-negative finite number (fio prints integers and "%f" reals). */
static bool num(const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_number(v))
		return false;
	double d = json_number_value(v);
	if (!isfinite(d) || d < 0)
		return false;
	*out = d;
	return true;
}

static int parse_side(const json_t *job, const char *dir, struct side *s, char **err)
{
	const json_t *o = json_object_get(job, dir);
	*s = (struct side){ 0 };
	if (!o)
		return 0; /* fio prints both directions; an absent one did nothing */
	if (!json_is_object(o))
		return fail(err, -EINVAL, "fio JSON: jobs[0].%s is not an object", dir);
	if (!num(o, "iops", &s->iops) || !num(o, "bw_bytes", &s->bw) || !num(o, "total_ios", &s->ios))
		return fail(err, -EINVAL, "fio JSON: jobs[0].%s lacks iops, bw_bytes or total_ios", dir);
	if (s->ios == 0)
		return 0;
	const json_t *clat = json_object_get(o, "clat_ns");
	double max;
	if (!json_is_object(clat) || !num(clat, "max", &max))
		return fail(err, -EINVAL, "fio JSON: jobs[0].%s.clat_ns.max missing", dir);
	s->lat_us[NP_BF_MAX] = max / 1000;
	s->has[NP_BF_MAX] = true;
	const json_t *pc = json_object_get(clat, "percentile");
	const char *k;
	const json_t *v;
	if (!json_is_object(pc))
		return fail(err, -EINVAL, "fio JSON: jobs[0].%s.clat_ns.percentile missing (--percentile_list?)", dir);
	json_object_foreach((json_t *)pc, k, v) {
		double at, ns;
		if (np_parse_double(k, &at) < 0 || !json_is_number(v))
			return fail(err, -EINVAL, "fio JSON: jobs[0].%s.clat_ns.percentile: bad entry", dir);
		for (size_t i = 0; i < ARRAY_SIZE(pcts); i++) {
			if (fabs(at - pcts[i].at) > 1e-6)
				continue;
			ns = json_number_value(v);
			if (!isfinite(ns) || ns < 0)
				return fail(err, -EINVAL, "fio JSON: jobs[0].%s: percentile %s out of range", dir, k);
			s->lat_us[pcts[i].fig] = ns / 1000;
			s->has[pcts[i].fig] = true;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(pcts); i++)
		if (!s->has[pcts[i].fig])
			return fail(err, -EINVAL, "fio JSON: jobs[0].%s: no clat percentile %g (--percentile_list)",
				    dir, pcts[i].at);
	return 0;
}

int np_fio_parse_json(const char *buf, size_t len, struct np_fio_result *out, char **err)
{
	*err = NULL;
	*out = (struct np_fio_result){ 0 };
	if (len > NP_FIO_OUTPUT_MAX)
		return fail(err, -EFBIG, "fio output larger than %u bytes", NP_FIO_OUTPUT_MAX);
	if (len == 0)
		return fail(err, -EINVAL, "fio printed nothing (no JSON)");
	if (memchr(buf, '\0', len))
		return fail(err, -EINVAL, "fio output holds a NUL byte: not JSON");
	/* fio may print notes ("note: ...") before the document: start at the first line beginning with '{' */
	size_t off = 0;
	while (off < len && buf[off] != '{') {
		const char *nl = memchr(buf + off, '\n', len - off);
		if (!nl)
			return fail(err, -EINVAL, "fio output has no JSON document");
		off = (size_t)(nl - buf) + 1;
	}
	if (off >= len)
		return fail(err, -EINVAL, "fio output has no JSON document");
	json_error_t je;
	json_t *doc = json_loadb(buf + off, len - off, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return fail(err, -EINVAL, "fio output is not valid JSON (truncated?): line %d column %d: %s",
			    je.line + 0, je.column, je.text);
	int r = 0;
	const json_t *ver = json_object_get(doc, "fio version");
	const json_t *jobs = json_object_get(doc, "jobs");
	if (!json_is_object(doc) || !json_is_string(ver) || !json_is_array(jobs)) {
		r = fail(err, -EINVAL, "fio JSON: expected an object with \"fio version\" and \"jobs\"");
	} else if (json_array_size(jobs) != 1) {
		r = fail(err, -EINVAL, "fio JSON: expected one (group-reported) job, got %zu", json_array_size(jobs));
	} else {
		snprintf(out->fio_version, sizeof(out->fio_version), "%s", json_string_value(ver));
		for (char *p = out->fio_version; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	const json_t *job = r < 0 ? NULL : json_array_get(jobs, 0);
	double jerr = 0;
	struct side rd, wr;
	if (r >= 0 && (!json_is_object(job) || !num(job, "error", &jerr)))
		r = fail(err, -EINVAL, "fio JSON: jobs[0] lacks \"error\"");
	else if (r >= 0 && jerr != 0)
		r = fail(err, -EIO, "fio job failed: error %.0f (%s)", jerr, strerror((int)fmin(jerr, 4095)));
	if (r >= 0)
		r = parse_side(job, "read", &rd, err);
	if (r >= 0)
		r = parse_side(job, "write", &wr, err);
	if (r >= 0 && rd.ios + wr.ios == 0)
		r = fail(err, -ENODATA, "fio completed no I/O");
	if (r >= 0) {
		const struct side *lat = wr.ios > rd.ios ? &wr : &rd;
		out->fig.v[NP_BF_IOPS] = rd.iops + wr.iops;
		out->fig.v[NP_BF_BW] = rd.bw + wr.bw;
		for (unsigned f = NP_BF_P50; f < NP_BF_N; f++)
			out->fig.v[f] = lat->lat_us[f];
		out->ios = (uint64_t)(rd.ios + wr.ios);
	}
	json_decref(doc);
	return r;
}

/* ---- running it ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append what fits of @n bytes to a bounded buffer; keeps the newest stderr bytes. */
struct sink {
	char *buf;
	size_t len, cap;
	bool keep_tail; /* stderr: keep the last cap bytes; stdout: overflow is an error */
	bool overflow;
};

static int sink_read(struct sink *s, int fd)
{
	char tmp[16384];
	ssize_t k = read(fd, tmp, sizeof(tmp));
	if (k < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : negative_errno();
	if (k == 0)
		return 0;
	size_t n = (size_t)k;
	if (s->len + n > s->cap) {
		if (!s->keep_tail) {
			s->overflow = true;
			return 1;
		}
		size_t drop = s->len + n - s->cap;
		if (drop > s->len)
			drop = s->len;
		memmove(s->buf, s->buf + drop, s->len - drop);
		s->len -= drop;
		if (n > s->cap) {
			memcpy(s->buf, tmp + n - s->cap, s->cap);
			s->len = s->cap;
			return 1;
		}
	}
	memcpy(s->buf + s->len, tmp, n);
	s->len += n;
	return 1;
}

/* The last non-empty line of fio's stderr, for messages. */
static void last_line(const struct sink *s, char *out, size_t outlen)
{
	size_t end = s->len;
	while (end > 0 && (s->buf[end - 1] == '\n' || s->buf[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start > 0 && s->buf[start - 1] != '\n')
		start--;
	size_t n = end - start < outlen - 1 ? end - start : outlen - 1;
	memcpy(out, s->buf + start, n);
	out[n] = '\0';
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

static char *arg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *arg(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static void argv_free(char ***v)
{
	np_strv_free(*v);
}

/* fio's argument vector for @p on @target (NULL on ENOMEM). */
static char **fio_argv(const struct np_bench_profile *p, const struct np_fio_limits *lim, const char *target)
{
	char **v = NULL;
	size_t n = 0;
	char *a[] = {
		strdup(lim->fio && *lim->fio ? lim->fio : "fio"),
		strdup("--output-format=json"),
		arg("--name=%s", p->name),
		arg("--filename=%s", target),
		arg("--rw=%s", p->rw),
		arg("--bs=%llu", (unsigned long long)p->block_bytes),
		arg("--iodepth=%u", p->iodepth),
		arg("--numjobs=%u", p->jobs),
		strdup("--ioengine=libaio"),
		strdup("--direct=1"),
		strdup("--thread"),
		strdup("--group_reporting"),
		strdup("--time_based"),
		arg("--runtime=%llums", (unsigned long long)llround(p->seconds * 1000)),
		strdup("--percentile_list=50:95:99:99.9"),
		strdup("--eta=never"),
		lim->raw_device ? strdup("--readonly") : arg("--size=%llu", (unsigned long long)lim->file_bytes),
		lim->raw_device ? strdup("--allow_file_create=0") : NULL,
	};
	bool ok = true;
	for (size_t i = 0; i < ARRAY_SIZE(a); i++) {
		if (i == ARRAY_SIZE(a) - 1 && !lim->raw_device)
			break;
		if (!a[i] || np_strv_push_take(&v, &n, a[i]) < 0) {
			ok = false;
			if (a[i])
				free(a[i]);
		}
		a[i] = NULL;
	}
	if (!ok) {
		np_strv_free(v);
		return NULL;
	}
	return v;
}

/* Child side: own process group, die with us, default signals, pipes on 1 and 2, exec. */
static void __attribute__((noreturn)) child_exec(char **argv, int out, int errfd, int report)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0)
		dup2(null, 0);
	dup2(out, 1);
	dup2(errfd, 2);
	execvp(argv[0], argv);
	int e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

struct running {
	pid_t pid;
	int out, err, sfd;
};

/* Kill fio's whole process group and reap it. */
static void kill_fio(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Pump fio's output until it exits, the deadline passes (-ETIME) or a signal
 * arrives (-EINTR). Returns 0 with *@status the wait status.
 */
static int pump(struct running *rn, int64_t deadline, struct sink *so, struct sink *se, int *status, char **err)
{
	bool out_open = true, err_open = true, exited = false;
	for (;;) {
		if (!exited && waitpid(rn->pid, status, WNOHANG) == rn->pid)
			exited = true;
		if (exited && !out_open && !err_open)
			return 0;
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			if (!exited)
				kill_fio(rn->pid);
			else
				kill(-rn->pid, SIGKILL); /* what it left holding the pipes */
			return fail(err, -ETIME, "fio killed at the wall-time limit");
		}
		struct pollfd p[3] = { { .fd = out_open ? rn->out : -1, .events = POLLIN },
				       { .fd = err_open ? rn->err : -1, .events = POLLIN },
				       { .fd = rn->sfd, .events = POLLIN } };
		/* after both pipes closed, poll only for signals while waiting for the exit */
		int k = poll(p, 3, (!out_open && !err_open) ? (left < 20 ? (int)left : 20) : (int)(left < 1000 ? left : 1000));
		if (k < 0 && errno != EINTR) {
			int r = negative_errno();
			if (!exited)
				kill_fio(rn->pid);
			return fail(err, r, "poll: %s", strerror(-r));
		}
		if (k <= 0)
			continue;
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			int signo = read(rn->sfd, &si, sizeof(si)) == sizeof(si) ? (int)si.ssi_signo : 0;
			if (!exited)
				kill_fio(rn->pid);
			return fail(err, -EINTR, "interrupted by signal %d (%s): fio stopped", signo, strsignal(signo));
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			out_open = sink_read(so, rn->out) > 0;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			err_open = sink_read(se, rn->err) > 0;
	}
}

/* Room for the file on @dir: the file plus 10 % and 64 MiB must fit in what is free. */
static int check_space(const char *dir, uint64_t bytes, char **err)
{
	struct statvfs sv;
	if (statvfs(dir, &sv) < 0) {
		int r = negative_errno();
		return fail(err, r, "baseline directory %s: %s", dir, strerror(-r));
	}
	uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize, need = bytes + bytes / 10 + (64u << 20);
	if (avail < need)
		return fail(err, -ENOSPC, "baseline directory %s: %llu MiB free, the test file needs %llu MiB", dir,
			    (unsigned long long)(avail >> 20), (unsigned long long)(need >> 20));
	return 0;
}

/* Blocked signals and their fd: restored/closed on scope exit. */
struct sigguard {
	sigset_t old;
	int fd;
	bool set;
};

static void sigguard_done(struct sigguard *g)
{
	if (g->fd >= 0)
		close(g->fd);
	if (g->set)
		sigprocmask(SIG_SETMASK, &g->old, NULL);
}

static void unlinkp(char **path)
{
	if (*path) {
		unlink(*path);
		free(*path);
	}
}

static void closepair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

int np_fio_file_create(const char *directory, uint64_t bytes, char **path, char **err)
{
	*path = NULL;
	int r = check_space(directory, bytes, err);
	if (r < 0)
		return r;
	char *f = np_asprintf("%s/" FILE_PREFIX "%d" FILE_SUFFIX, directory, (int)getpid());
	if (!f)
		return -ENOMEM;
	int fd = open(f, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = negative_errno();
		fail(err, r, "test file %s: %s", f, strerror(-r));
		free(f);
		return r;
	}
	close(fd);
	*path = f;
	return 0;
}

int np_fio_run(const struct np_bench_profile *p, const struct np_fio_limits *lim, struct np_fio_result *out,
	       char **err)
{
	*err = NULL;
	*out = (struct np_fio_result){ 0 };
	if (lim->raw_device && !np_bench_rw_readonly(p->rw))
		return fail(err, -EPERM, "profile %s writes (rw=%s): a raw device is only ever read", p->name, p->rw);
	if (!(lim->wall_seconds > 0))
		return fail(err, -EINVAL, "no wall-time limit");
	/* a file of this run only is unlinked on every return below (after the signals are restored) */
	_cleanup_(unlinkp) char *file = NULL;
	const char *target = lim->raw_device ? lim->raw_device : lim->file;
	if (!target) {
		int r = np_fio_file_create(lim->directory, lim->file_bytes, &file, err);
		if (r < 0)
			return r;
		target = file;
	}
	_cleanup_(argv_free) char **argv = fio_argv(p, lim, target);
	if (!argv)
		return -ENOMEM;

	struct sigguard g __attribute__((cleanup(sigguard_done))) = { .fd = -1 };
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &g.old) < 0)
		return fail(err, negative_errno(), "sigprocmask: %s", strerror(errno));
	g.set = true;
	g.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (g.fd < 0)
		return fail(err, negative_errno(), "signalfd: %s", strerror(errno));

	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, pr[2] = { -1, -1 };
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(pr, O_CLOEXEC) < 0) {
		int r = negative_errno();
		closepair(po);
		closepair(pe);
		closepair(pr);
		return fail(err, r, "pipe: %s", strerror(-r));
	}
	int64_t deadline = now_ms() + (int64_t)(lim->wall_seconds * 1000);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(argv, po[1], pe[1], pr[1]);
	int fork_errno = errno;
	close(po[1]);
	close(pe[1]);
	close(pr[1]);
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		close(pr[0]);
		return fail(err, -fork_errno, "fork: %s", strerror(fork_errno));
	}
	setpgid(pid, pid); /* also here: no window where a kill(-pid) misses */
	int exec_errno = 0;
	ssize_t k;
	while ((k = read(pr[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
		;
	close(pr[0]);
	if (k == sizeof(exec_errno)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(po[0]);
		close(pe[0]);
		return fail(err, -exec_errno, "cannot run %s: %s%s", argv[0], strerror(exec_errno),
			    exec_errno == ENOENT ? " (install Debian's fio package)" : "");
	}
	_cleanup_free_ char *obuf = malloc(NP_FIO_OUTPUT_MAX + 1);
	char ebuf[4096];
	struct sink so = { .buf = obuf, .cap = NP_FIO_OUTPUT_MAX }, se = { .buf = ebuf, .cap = sizeof(ebuf), .keep_tail = true };
	struct running rn = { .pid = pid, .out = po[0], .err = pe[0], .sfd = g.fd };
	int status = 0, r;
	if (!obuf) {
		kill_fio(pid);
		r = -ENOMEM;
	} else {
		r = pump(&rn, deadline, &so, &se, &status, err);
	}
	close(po[0]);
	close(pe[0]);
	if (r < 0)
		return r;
	if (so.overflow)
		return fail(err, -EFBIG, "fio printed more than %u bytes", NP_FIO_OUTPUT_MAX);
	char why[256];
	last_line(&se, why, sizeof(why));
	r = np_fio_parse_json(obuf, so.len, out, err);
	if (r < 0 && *why) {
		char *more = np_asprintf("%s; fio said: %s", *err ? *err : "fio failed", why);
		if (more) {
			free(*err);
			*err = more;
		}
	}
	if (r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = fail(err, -EIO, "fio %s %d%s%s", WIFEXITED(status) ? "exited with status" : "killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), *why ? ": " : "", why);
	return r;
}

int np_fio_remove_stale(const char *directory)
{
	_cleanup_closedir_ DIR *d = opendir(directory);
	if (!d)
		return negative_errno();
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *s = de->d_name;
		if (!np_startswith(s, FILE_PREFIX))
			continue;
		const char *num = s + strlen(FILE_PREFIX), *dot = strchr(num, '.');
		if (!dot || !streq(dot, FILE_SUFFIX) || dot == num)
			continue;
		char pidbuf[16];
		size_t l = (size_t)(dot - num);
		if (l >= sizeof(pidbuf))
			continue;
		memcpy(pidbuf, num, l);
		pidbuf[l] = '\0';
		uint64_t pid;
		if (np_parse_u64(pidbuf, &pid) < 0 || pid == 0 || pid > INT32_MAX)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
			continue; /* its process still runs */
		if (unlinkat(dirfd(d), s, 0) == 0)
			n++;
	}
	return n;
}
