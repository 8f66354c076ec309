// SPDX-License-Identifier: Apache-2.0
/*
 * kernel.c - kernel and system identity: /proc/sys/kernel/{osrelease,version,
 * tainted,random/boot_id}, os-release(5), DMI (/sys/class/dmi/id, see
 * Documentation/ABI/testing/sysfs-class-dmi-id) and /proc/cpuinfo.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "collector.h"
#include "facts.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>
#include <sys/utsname.h>

/* Documentation/admin-guide/tainted-kernels.rst, "Table for decoding tainted state" */
static const char taint_chars[] = "PFSRMBUDAWCIOELKXTNJ";

char *np_taint_letters(uint64_t mask)
{
	char buf[80];
	size_t w = 0;
	for (unsigned bit = 0; bit < 64 && w < sizeof(buf) - 1; bit++) {
		if (!(mask & (1ULL << bit)))
			continue;
		buf[w++] = bit < sizeof(taint_chars) - 1 ? taint_chars[bit] : '?';
	}
	buf[w] = '\0';
	return strdup(buf);
}

/* Remove os-release shell quoting from a value in place. */
static char *unquote(char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		char q = v[0];
		v[n - 1] = '\0';
		memmove(v, v + 1, n - 1);
		if (q == '"') {
			char *w = v;
			for (char *p = v; *p; p++) {
				if (*p == '\\' && p[1])
					p++;
				*w++ = *p;
			}
			*w = '\0';
		}
	}
	return v;
}

static int set_dup(char **dst, const char *v)
{
	char *c = strdup(v);
	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

int np_parse_os_release(const char *buf, size_t len, struct np_kernel *k)
{
	_cleanup_free_ char *copy = strndup(buf, len);
	if (!copy)
		return -ENOMEM;
	int found = 0;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		np_strip(line);
		char *eq = strchr(line, '=');
		if (!eq || line[0] == '#')
			continue;
		*eq = '\0';
		char *v = unquote(eq + 1);
		char **dst = streq(line, "ID") ? &k->os_id :
			     streq(line, "VERSION_ID") ? &k->os_version_id :
			     streq(line, "PRETTY_NAME") ? &k->os_pretty_name : NULL;
		if (!dst)
			continue;
		if (set_dup(dst, v) < 0)
			return -ENOMEM;
		found++;
	}
	return found ? 0 : -EINVAL;
}

/* Line @line (@l bytes) "key\t\t: value" -> value, its length in *@vl; NULL when the key is not @key. */
static const char *cpuinfo_value(const char *line, size_t l, const char *key, size_t *vl)
{
	size_t kl = strlen(key);
	const char *end = line + l;
	if (l < kl || strncmp(line, key, kl) != 0)
		return NULL;
	const char *p = line + kl;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != ':')
		return NULL;
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*vl = (size_t)(end - p);
	return p;
}

/* Walked in place, line by line up to the first NUL: no copy of a file that grows with the CPUs. */
int np_parse_cpuinfo(const char *buf, size_t len, struct np_kernel *k)
{
	_cleanup_free_ char *impl = NULL, *part = NULL;
	unsigned cpus = 0;
	const char *line, *v;
	size_t l, vl, off = 0;
	len = strnlen(buf, len);
	while (np_next_line(buf, len, &off, &line, &l)) {
		if (!l)
			continue;
		if (cpuinfo_value(line, l, "processor", &vl))
			cpus++;
		else if ((v = cpuinfo_value(line, l, "model name", &vl)) && !k->cpu_model)
			k->cpu_model = strndup(v, vl);
		else if ((v = cpuinfo_value(line, l, "microcode", &vl)) && !k->microcode)
			k->microcode = strndup(v, vl);
		else if ((v = cpuinfo_value(line, l, "CPU implementer", &vl)) && !impl)
			impl = strndup(v, vl);
		else if ((v = cpuinfo_value(line, l, "CPU part", &vl)) && !part)
			part = strndup(v, vl);
	}
	if (!k->cpu_model && impl)
		k->cpu_model = np_asprintf("implementer %s part %s", impl, part ? part : "?");
	if (k->cpu_model)
		np_strip(k->cpu_model);
	k->cpus = cpus;
	return cpus ? 0 : -EINVAL;
}

static int collect_os(struct np_facts *fx, const struct np_host *h, struct np_kernel *k)
{
	_cleanup_free_ char *buf = NULL;
	const char *data;
	size_t len;
	int r = np_facts_read(fx, h, "/etc/os-release", 1 << 16, &buf, &data, &len);
	if (r == -ENOENT)
		r = np_facts_read(fx, h, "/usr/lib/os-release", 1 << 16, &buf, &data, &len);
	if (r < 0)
		return r;
	return np_parse_os_release(data, len, k);
}

#define TAINTED "/proc/sys/kernel/tainted"

/*
 * The agent's kernel state: its facts; what the last parse
 * of the cached /proc/cpuinfo gave, with the facts' epoch it was made under (facts.h
 * np_facts_epoch(): while it holds, the cached text is the one parsed).
 */
struct kernel_state {
	struct np_facts *fx;
	bool cpu_have;
	uint64_t cpu_epoch;
	int cpu_r;
	unsigned cpus;
	char *cpu_model, *microcode;
};

static void *kernel_state_new(const struct np_collect_ctx *ctx)
{
	(void)ctx;
	struct kernel_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	if (!(st->fx = np_facts_new())) {
		free(st);
		return NULL;
	}
	return st;
}

static void cpu_forget(struct kernel_state *st)
{
	st->cpu_have = false;
	free(st->cpu_model);
	free(st->microcode);
	st->cpu_model = st->microcode = NULL;
}

static void kernel_state_free(void *state)
{
	struct kernel_state *st = state;
	if (!st)
		return;
	cpu_forget(st);
	np_facts_free(st->fx);
	free(st);
}

/*
 * np_parse_cpuinfo() of the cached /proc/cpuinfo text @data, or, while @st's facts epoch is the one
 * of its last parse (@epoch0: the epoch before the read, which a read not kept moves), a copy of
 * what that parse gave. Returns what np_parse_cpuinfo() returned, or -ENOMEM.
 */
static int parse_cpuinfo_kept(struct kernel_state *st, uint64_t epoch0, const char *data, size_t len,
			      struct np_kernel *k)
{
	uint64_t epoch = np_facts_epoch(st ? st->fx : NULL);
	if (st && st->cpu_have && st->cpu_epoch == epoch) {
		k->cpus = st->cpus;
		if ((st->cpu_model && !(k->cpu_model = strdup(st->cpu_model))) ||
		    (st->microcode && !(k->microcode = strdup(st->microcode))))
			return -ENOMEM;
		return st->cpu_r;
	}
	int r = np_parse_cpuinfo(data, len, k);
	if (!st)
		return r;
	cpu_forget(st);
	if (epoch != epoch0) /* this answer was not kept: parse the next one */
		return r;
	st->cpus = k->cpus;
	st->cpu_r = r;
	if ((k->cpu_model && !(st->cpu_model = strdup(k->cpu_model))) ||
	    (k->microcode && !(st->microcode = strdup(k->microcode)))) {
		cpu_forget(st);
		return r;
	}
	st->cpu_epoch = epoch;
	st->cpu_have = true;
	return r;
}

/*
 * Facts (facts.h): the release, version, architecture, boot id, os-release, DMI and /proc/cpuinfo
 * (CPU model, count, microcode: a late microcode load or a CPU brought online shows within the
 * facts bound; the cached text is parsed again only when the facts were read again). The taint
 * flags every cycle.
 */
static int collect_kernel(const struct np_collect_ctx *ctx, struct np_report *rep)
{
	const struct np_host *h = ctx->host;
	struct np_kernel *k = &rep->kernel;
	struct kernel_state *st = np_collect_state(ctx, "kernel");
	struct np_facts *fx = np_facts_begin(st ? st->fx : NULL, ctx);
	int r;

	/* each field degrades on its own: without /proc, DMI, os-release and the rest still count */
	r = np_facts_read_line(fx, h, "/proc/sys/kernel/osrelease", &k->release);
	if (r < 0) {
		k->release = NULL;
		np_status_set(&k->status, r, "/proc/sys/kernel/osrelease: %s", np_errno_reason(r));
	}
	np_facts_attr(fx, h, &k->version, "/proc/sys/kernel/version");
	np_facts_attr(fx, h, &k->machine, "/proc/sys/kernel/arch");
	struct utsname u;
	if (!k->machine && h->live && uname(&u) == 0)
		k->machine = strdup(u.machine);
	r = np_host_read_u64(h, TAINTED, &k->tainted); /* every cycle: the agent keeps it open (hostfs.h) */
	if (r < 0)
		np_status_set(&k->status, r, TAINTED ": %s", np_errno_reason(r));
	k->taint_letters = np_taint_letters(k->tainted);
	np_facts_attr(fx, h, &k->boot_id, "/proc/sys/kernel/random/boot_id");
	r = collect_os(fx, h, k);
	if (r < 0)
		np_status_set(&k->status, r, "os-release: %s", np_errno_reason(r));

	static const struct {
		const char *attr;
		size_t off;
	} dmi[] = {
		{ "sys_vendor", offsetof(struct np_kernel, dmi_sys_vendor) },
		{ "product_name", offsetof(struct np_kernel, dmi_product_name) },
		{ "product_version", offsetof(struct np_kernel, dmi_product_version) },
		{ "bios_vendor", offsetof(struct np_kernel, dmi_bios_vendor) },
		{ "bios_version", offsetof(struct np_kernel, dmi_bios_version) },
		{ "bios_date", offsetof(struct np_kernel, dmi_bios_date) },
		{ "board_name", offsetof(struct np_kernel, dmi_board_name) },
	};
	/* absent is no DMI (arm64, some VMs); unreadable is blind: a class matching on it cannot be told */
	for (size_t i = 0; i < ARRAY_SIZE(dmi); i++) {
		r = np_facts_attr(fx, h, (char **)((char *)k + dmi[i].off), "/sys/class/dmi/id/%s", dmi[i].attr);
		if (r < 0)
			np_status_set(&k->status, r, "/sys/class/dmi/id/%s: %s", dmi[i].attr, np_errno_reason(r));
	}

	_cleanup_free_ char *cpu = NULL;
	size_t len;
	const char *data;
	uint64_t epoch0 = np_facts_epoch(fx);
	r = np_facts_read(fx, h, "/proc/cpuinfo", 0, &cpu, &data, &len);
	if (r >= 0)
		r = parse_cpuinfo_kept(st, epoch0, data, len, k);
	if (r < 0)
		np_status_set(&k->status, r, "/proc/cpuinfo: %s", np_errno_reason(r));
	return 0;
}

NP_SECTION_STATEFUL(kernel, 10, 10, collect_kernel, NULL, kernel_state_new, np_facts_state_reload,
		    kernel_state_free);
