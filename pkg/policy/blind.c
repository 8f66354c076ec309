// SPDX-License-Identifier: Apache-2.0
/* blind.c - conditions without their inputs are Unknown, and one Event says why. */
#define _GNU_SOURCE
#include "blind.h"
#include "record.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

/* Which findings each source feeds (findings.c and desired.c are the judges). */
static const char *const *const source_findings[NP_SRC__N] = {
	[NP_SRC_KMSG] = (const char *const[]){ "path-flapping", NP_FINDING_GPU_FAULT, NP_FINDING_GPU_RESET_REQUIRED, NULL },
	[NP_SRC_NVME] = (const char *const[]){ "nvme-critical", NULL },
	[NP_SRC_MULTIPATH] = (const char *const[]){ "multipath-degraded", NP_FINDING_TIMEOUT_CHAIN, NULL },
	[NP_SRC_PCI] = (const char *const[]){ "pcie-errors", "link-downgraded", NULL },
	[NP_SRC_BLOCK] = (const char *const[]){ "volume-stall", NULL },
	[NP_SRC_NET] = (const char *const[]){ "nic-drops", "irq-skew", "offload-mismatch", NULL },
	[NP_SRC_VOLUMES] = (const char *const[]){ NP_FINDING_TIMEOUT_CHAIN, NULL },
	[NP_SRC_MOUNTS] = (const char *const[]){ NULL },
	[NP_SRC_KERNEL] = (const char *const[]){ "firmware-unpinned", NULL },
	[NP_SRC_MODULES] = (const char *const[]){ "firmware-unpinned", NULL },
	[NP_SRC_TIMEOUTS] = (const char *const[]){ NP_FINDING_TIMEOUT_CHAIN, NULL },
	[NP_SRC_NUMA] = (const char *const[]){ NP_FINDING_NUMA_REMOTE_IRQ, NULL },
	[NP_SRC_GPU] = (const char *const[]){ NP_FINDING_GPU_MISSING, NULL },
};

const char *const *np_source_findings(enum np_source_id id)
{
	return source_findings[id];
}

/* Longest condition or Event message we build (the API's Event recorder cuts at 1024). */
#define MESSAGE_MAX 1000

static int replace(char **dst, char *v)
{
	if (!v)
		return -ENOMEM;
	free(*dst);
	*dst = v;
	return 0;
}

static char *source_sentence(const struct np_source *s)
{
	const char *name = strerrorname_np(s->err);
	return np_asprintf("cannot read %s: %s%s%s (%s)", s->what, s->item ? s->item : "", s->item ? ": " : "",
			   s->detail ? s->detail : np_errno_reason(s->err), name ? name : "EIO");
}

static struct np_condition *find_condition(struct np_desired *d, const char *type)
{
	for (size_t i = 0; i < d->n_conditions; i++)
		if (streq(d->conditions[i].type, type))
			return &d->conditions[i];
	return NULL;
}

/* The condition was True: Unknown with the first blind source's reason; later sources add their sentence. */
static int blind_condition(struct np_condition *c, const struct np_source *s, bool first)
{
	_cleanup_free_ char *sentence = source_sentence(s);
	if (!sentence)
		return -ENOMEM;
	if (!first) {
		if (strstr(c->message, sentence) || strlen(c->message) > MESSAGE_MAX - 100)
			return 0;
		return replace(&c->message, np_asprintf("%s; %s", c->message, sentence));
	}
	int r = replace(&c->status, strdup("Unknown"));
	if (r >= 0)
		r = replace(&c->reason, strdup(s->reason));
	if (r >= 0)
		r = replace(&c->message, TAKE_PTR(sentence));
	return r;
}

/* Conditions fed by the sources down: True becomes Unknown (ours[] marks those, for later sources). */
static int blind_conditions(const struct np_policy *p, const struct np_source *src, struct np_desired *d,
			    char **unknown, size_t *n_unknown)
{
	_cleanup_free_ bool *ours = calloc(d->n_conditions + 1, sizeof(*ours));
	if (!ours)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < NP_SRC__N; i++) {
		for (const char *const *f = source_findings[i]; !src[i].up && r >= 0 && *f; f++) {
			const struct np_action *a = np_policy_action(p, *f);
			struct np_condition *c = a && a->condition && *a->condition ? find_condition(d, a->condition)
										  : NULL;
			if (!c)
				continue;
			size_t k = (size_t)(c - d->conditions);
			if (ours[k]) {
				r = blind_condition(c, &src[i], false);
			} else if (streq(c->status, "True")) {
				ours[k] = true;
				r = blind_condition(c, &src[i], true);
				if (r >= 0 && *n_unknown < NP_SRC__N * 3)
					unknown[(*n_unknown)++] = c->type;
			}
		}
	}
	return r;
}

/* "kmsg,nvme" and one sentence per source, then the conditions now Unknown. */
static int blind_finding(const struct np_source *src, char *const *unknown, size_t n_unknown, const char *node,
			 struct np_desired *d)
{
	_cleanup_free_ char *subject = strdup(""), *msg = strdup("nodeprint cannot see");
	for (size_t i = 0; subject && msg && i < NP_SRC__N; i++) {
		if (src[i].up)
			continue;
		_cleanup_free_ char *s = source_sentence(&src[i]);
		if (!s)
			return -ENOMEM;
		char *ns = np_asprintf("%s%s%s", subject, *subject ? "," : "", src[i].name);
		char *nm = strlen(msg) + strlen(s) < MESSAGE_MAX - 200
			? np_asprintf("%s%s %s", msg, *subject ? ";" : ":", s + strlen("cannot read ")) : strdup(msg);
		free(subject);
		free(msg);
		subject = ns;
		msg = nm;
	}
	for (size_t i = 0; subject && msg && i < n_unknown; i++) {
		char *nm = np_asprintf("%s%s%s", msg, i ? ", " : ". Unknown, not healthy: ", unknown[i]);
		free(msg);
		msg = nm;
	}
	if (!subject || !msg)
		return -ENOMEM;
	int r = np_desired_add_finding(d, NP_FINDING_SOURCE_UNREADABLE, subject, NP_EVENT_SOURCE_UNREADABLE, "%s",
				       msg);
	if (r >= 0)
		r = np_desired_add_event(d, NP_EVENT_SOURCE_UNREADABLE, "Warning", msg, "Node", node, subject);
	return r;
}

int np_policy_blind(const struct np_policy *p, const struct np_report *r, const char *node_name,
		    struct np_desired *d)
{
	struct np_source src[NP_SRC__N];
	unsigned n_down = np_report_sources(r, src);
	if (!n_down)
		return 0;
	char *unknown[NP_SRC__N * 3]; /* borrowed condition types */
	size_t n_unknown = 0;
	int rc = blind_conditions(p, src, d, unknown, &n_unknown);
	if (rc >= 0)
		rc = blind_finding(src, unknown, n_unknown, node_name, d);
	return rc < 0 ? rc : (int)n_down;
}
