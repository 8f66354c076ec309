// SPDX-License-Identifier: Apache-2.0
/* blind.c - conditions without their inputs are Unknown, and one Event says why. */
#define _GNU_SOURCE
#include "blind.h"
#include "record.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <string.h>

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

/*
 * Conditions fed by the sources down (the vocabulary's rows that read them): True becomes Unknown
 * (ours[] marks those, for later sources). @unknown gets the condition types, @max at most.
 */
static int blind_conditions(const struct np_policy *p, const struct np_sources *src, struct np_desired *d,
			    char **unknown, size_t max, size_t *n_unknown)
{
	_cleanup_free_ bool *ours = calloc(d->n_conditions + 1, sizeof(*ours));
	if (!ours)
		return -ENOMEM;
	size_t n_vocab;
	const struct np_vocab_finding *vocab = np_vocab_findings(&n_vocab);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < src->n; i++) {
		const struct np_source *s = &src->v[i];
		for (size_t f = 0; !s->up && r >= 0 && f < n_vocab; f++) {
			if (!np_vocab_reads(&vocab[f], s->name))
				continue;
			const struct np_action *a = np_policy_action(p, vocab[f].id);
			struct np_condition *c = a && a->condition && *a->condition ? find_condition(d, a->condition)
										  : NULL;
			if (!c)
				continue;
			size_t k = (size_t)(c - d->conditions);
			if (ours[k]) {
				r = blind_condition(c, s, false);
			} else if (streq(c->status, "True")) {
				ours[k] = true;
				r = blind_condition(c, s, true);
				if (r >= 0 && *n_unknown < max)
					unknown[(*n_unknown)++] = c->type;
			}
		}
	}
	return r;
}

/* "kmsg,nvme" and one sentence per source, then the conditions now Unknown. */
static int blind_finding(const struct np_sources *src, char *const *unknown, size_t n_unknown, const char *node,
			 struct np_desired *d)
{
	_cleanup_free_ char *subject = strdup(""), *msg = strdup("nodeprint cannot see");
	for (size_t i = 0; subject && msg && i < src->n; i++) {
		if (src->v[i].up)
			continue;
		_cleanup_free_ char *s = source_sentence(&src->v[i]);
		if (!s)
			return -ENOMEM;
		char *ns = np_asprintf("%s%s%s", subject, *subject ? "," : "", src->v[i].name);
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
	_cleanup_(np_sources_free) struct np_sources src = { 0 };
	int n_down = np_report_sources(r, &src);
	if (n_down <= 0)
		return n_down;
	_cleanup_free_ char **unknown = calloc(d->n_conditions + 1, sizeof(*unknown)); /* borrowed types */
	if (!unknown)
		return -ENOMEM;
	size_t n_unknown = 0;
	int rc = blind_conditions(p, &src, d, unknown, d->n_conditions, &n_unknown);
	if (rc >= 0)
		rc = blind_finding(&src, unknown, n_unknown, node_name, d);
	return rc < 0 ? rc : n_down;
}
