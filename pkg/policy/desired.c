// SPDX-License-Identifier: Apache-2.0
/* desired.c - report + policy -> findings -> labels, annotations, taints, conditions, events. */
#define _GNU_SOURCE
#include "desired.h"
#include "blind.h"
#include "health.h"
#include "label.h"
#include "record.h"
#include "version.h"
#include "vocab.h"
#include "../report/json.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fnmatch.h>
#include <string.h>

static int add_kv(struct np_kv **arr, size_t *n, const char *key, const char *value)
{
	struct np_kv *kv = GROW(*arr, *n);
	if (!kv)
		return -ENOMEM;
	kv->key = strdup(key);
	kv->value = strdup(value ? value : "");
	return kv->key && kv->value ? 0 : -ENOMEM;
}

/* ---- class and bundle ---- */

static const char *dmi_field(const struct np_kernel *k, const char *f)
{
	if (streq(f, "sys_vendor"))
		return k->dmi_sys_vendor;
	if (streq(f, "product_name"))
		return k->dmi_product_name;
	if (streq(f, "product_version"))
		return k->dmi_product_version;
	if (streq(f, "bios_vendor"))
		return k->dmi_bios_vendor;
	if (streq(f, "bios_version"))
		return k->dmi_bios_version;
	if (streq(f, "bios_date"))
		return k->dmi_bios_date;
	if (streq(f, "board_name"))
		return k->dmi_board_name;
	return NULL;
}

static const char *node_label(const struct np_node_facts *node, const char *key)
{
	for (size_t i = 0; node && i < node->n_labels; i++)
		if (streq(node->labels[i].key, key))
			return node->labels[i].value;
	return NULL;
}

/*
 * 1 when @c matches, 0 when not, -1 when it cannot be told: a DMI field it matches on has no value
 * while the kernel section failed (e.g. sys_vendor unreadable). Falling through to the next class
 * would judge the node against another class's pins.
 */
static int class_matches(const struct np_class *c, const struct np_report *r, const struct np_node_facts *node)
{
	for (size_t i = 0; i < c->n_labels; i++) {
		const char *v = node_label(node, c->labels[i].field);
		if (!v || fnmatch(c->labels[i].pattern, v, 0) != 0)
			return 0;
	}
	for (size_t i = 0; i < c->n_dmi; i++) {
		const char *v = dmi_field(&r->kernel, c->dmi[i].field);
		if (!v && r->kernel.status.err)
			return -1;
		if (!v || fnmatch(c->dmi[i].pattern, v, 0) != 0)
			return 0;
	}
	return 1;
}

static bool pins_component(const struct np_class *c, const char *component)
{
	for (size_t i = 0; i < c->n_pins; i++)
		if (streq(c->pins[i].component, component))
			return true;
	return false;
}

/* The pin covering a bundle item, or NULL. */
static const struct np_pin *pin_for(const struct np_class *c, const struct np_bundle_item *it)
{
	for (size_t i = 0; i < c->n_pins; i++)
		if (streq(c->pins[i].component, it->component) && fnmatch(c->pins[i].key, it->key, 0) == 0)
			return &c->pins[i];
	return NULL;
}

static bool value_allowed(const struct np_pin *pin, const char *value)
{
	for (size_t i = 0; i < pin->n_allowed; i++)
		if (np_version_match(pin->allowed[i], value))
			return true;
	return false;
}

int np_policy_judge_bundle(const struct np_class *c, const struct np_bundle *b, struct np_desired *d)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < b->n; i++) {
		const struct np_bundle_item *it = &b->items[i];
		const struct np_pin *pin = pin_for(c, it);
		_cleanup_free_ char *subject = np_asprintf("%s %s", it->component, it->key);
		if (!subject)
			return -ENOMEM;
		if (pin && !value_allowed(pin, it->value))
			r = np_desired_add_finding(d, NP_FINDING_FIRMWARE_UNPINNED, subject, NP_REASON_DRIFT,
						   "%s %s runs %s, not a pinned version", it->component, it->key,
						   it->value);
		else if (!pin && pins_component(c, it->component) && !streq(it->component, "module"))
			r = np_desired_add_finding(d, NP_FINDING_FIRMWARE_UNPINNED, subject, NP_REASON_UNPINNED,
						   "%s %s (%s) has no pin in class %s", it->component, it->key,
						   it->value, c->name);
	}
	return r;
}

/* ---- labels and the annotation ---- */

static int add_label(struct np_desired *d, const char *prefix, const char *name, const char *raw, size_t tail)
{
	_cleanup_free_ char *key = np_asprintf("%s/%s", prefix, name);
	_cleanup_free_ char *val = np_label_value(raw ? raw : "", tail);
	if (!key || !val)
		return -ENOMEM;
	if (!np_label_key_valid(key) || !np_label_value_valid(val))
		return 0; /* cannot happen for our names; never send an invalid label */
	return add_kv(&d->labels, &d->n_labels, key, val);
}

/* a bundle key or value that says nothing: its label value would be empty ("- -", a soft RDMA device's) */
static bool label_says_nothing(const char *raw)
{
	_cleanup_free_ char *v = np_label_value(raw ? raw : "", 12);
	return v && !*v;
}

/*
 * model/firmware pairs of one bundle component, as <comp>.<i>.model / <comp>.<i>.firmware labels; a
 * model or firmware that is unknown (an empty label value) gets no label, as gpu.model has none then
 */
static int add_firmware_labels(struct np_desired *d, const char *prefix, const struct np_bundle *b, const char *comp)
{
	unsigned idx = 0;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < b->n && idx < 8; i++) {
		if (!streq(b->items[i].component, comp))
			continue;
		char name[64];
		snprintf(name, sizeof(name), "%s.%u.model", comp, idx);
		if (!label_says_nothing(b->items[i].key))
			r = add_label(d, prefix, name, b->items[i].key, 12);
		snprintf(name, sizeof(name), "%s.%u.firmware", comp, idx++);
		if (r >= 0 && !label_says_nothing(b->items[i].value))
			r = add_label(d, prefix, name, b->items[i].value, 12);
	}
	return r;
}

/* One component as the annotation lists it, ["component","key","value"]; written to @p unless NULL. Returns its length. */
static size_t component_json(char *p, const struct np_bundle_item *it)
{
	size_t w = 0;
	if (p)
		p[w] = '[';
	w++;
	const char *f[3] = { it->component, it->key, it->value };
	for (size_t i = 0; i < 3; i++) {
		w += np_json_quote(p ? p + w : NULL, f[i]);
		if (p)
			p[w] = i < 2 ? ',' : ']';
		w++;
	}
	return w;
}

static char *put(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

/*
 * The annotation's length with its first @k of @n components: @head (the braces' text, hash and
 * state), the components (@upto[k]: the first k's lengths added), the commas between them, "]",
 * the count left out and "}".
 */
static size_t text_len(size_t head, const size_t *upto, size_t n, size_t k)
{
	size_t len = head + upto[k] + (k > 1 ? k - 1 : 0) + 2;
	if (k < n)
		len += strlen(",\"truncated\":") + (size_t)snprintf(NULL, 0, "%zu", n - k);
	return len;
}

/*
 * The compact fingerprint within NP_ANNOTATION_MAX bytes, whole components dropped from the end:
 * {"hash":..,"state":..,"components":[[c,k,v],..],"truncated":N}, the text json_dumps(JSON_COMPACT
 * | JSON_PRESERVE_ORDER) writes for it (test_desired compares the two), sized from each
 * component's length and written once: this runs every cycle. How many components are kept: all
 * when they fit, else first a jump close to the budget, then one fewer until it fits.
 */
static char *fingerprint_annotation(const struct np_report *r, const char *state)
{
	size_t n = r->bundle.n;
	_cleanup_free_ size_t *upto = calloc(n + 1, sizeof(*upto));
	if (!upto)
		return NULL;
	for (size_t i = 0; i < n; i++)
		upto[i + 1] = upto[i] + component_json(NULL, &r->bundle.items[i]);
	size_t head = strlen("{\"hash\":,\"state\":,\"components\":[") + np_json_quote(NULL, r->bundle.hash) +
		      np_json_quote(NULL, state);
	size_t keep = n, cur = n, total = text_len(head, upto, n, cur);
	if (total > NP_ANNOTATION_MAX && keep) /* jump close to the budget, then step */
		keep = keep * (NP_ANNOTATION_MAX - 100) / total;
	while (total > NP_ANNOTATION_MAX && keep > 0) {
		cur = keep;
		total = text_len(head, upto, n, cur);
		if (total > NP_ANNOTATION_MAX)
			keep--;
	}
	char *out = malloc(total + 1), *p = out;
	if (!out)
		return NULL;
	p = put(p, "{\"hash\":");
	p += np_json_quote(p, r->bundle.hash);
	p = put(p, ",\"state\":");
	p += np_json_quote(p, state);
	p = put(p, ",\"components\":[");
	for (size_t i = 0; i < cur; i++) {
		if (i)
			*p++ = ',';
		p += component_json(p, &r->bundle.items[i]);
	}
	*p++ = ']';
	if (cur < n)
		p += sprintf(p, ",\"truncated\":%zu", n - cur);
	*p++ = '}';
	*p = '\0';
	return out;
}

/*
 * gpu.count (answering GPUs), and the first GPU's gpu.model, gpu.driver, gpu.vbios when known. A
 * Node that has GPUs listed but none answering, or whose gpu.count label is there from before,
 * keeps gpu.count "0": it stays a GPU Node (the agent's peers LIST for gpu-missing is only made for
 * GPU Nodes), so a Node whose every GPU fell off the bus is not forgotten at the agent's restart.
 */
static int add_gpu_labels(struct np_desired *d, const char *pre, const struct np_gpu *g,
			  const struct np_node_facts *node)
{
	unsigned n = 0;
	const struct np_gpu_dev *first = NULL;
	for (size_t i = 0; i < g->n; i++)
		if (g->devs[i].config_dead <= 0 && n++ == 0)
			first = &g->devs[i];
	if (!first) {
		_cleanup_free_ char *key = np_asprintf("%s/gpu.count", pre);
		if (!key)
			return -ENOMEM;
		return g->n || node_label(node, key) ? add_label(d, pre, "gpu.count", "0", 0) : 0;
	}
	char count[16];
	snprintf(count, sizeof(count), "%u", n);
	int rc = add_label(d, pre, "gpu.count", count, 0);
	const char *drv = g->nvidia_version ? g->nvidia_version : first->driver_version ? first->driver_version : first->driver;
	const char *vbios = first->vbios;
	if (rc >= 0 && first->model)
		rc = add_label(d, pre, "gpu.model", first->model, 12);
	if (rc >= 0 && drv)
		rc = add_label(d, pre, "gpu.driver", drv, 12);
	if (rc >= 0 && vbios)
		rc = add_label(d, pre, "gpu.vbios", vbios, 12);
	return rc;
}

/*
 * Labels and the fingerprint annotation. A partial report (--only) plans no bundle, bundle-state
 * or fingerprint (its hash covers only the sections read: not the node's bundle), and the kernel
 * and firmware labels only from sections it read.
 */
static int build_metadata(const struct np_policy *p, const struct np_report *r, bool bundle_blind,
			  const struct np_node_facts *node, struct np_desired *d)
{
	const char *pre = p->label_prefix;
	int rc = 0;
	if (bundle_blind) { /* a hash over what could be read is not the node's bundle: keep the last one */
		size_t n = 0;
		rc = np_strv_push_take(&d->keep, &n, np_asprintf("%s/bundle", pre));
		if (rc >= 0)
			rc = np_strv_push_take(&d->keep, &n, np_asprintf("%s/fingerprint", pre));
	} else if (!r->only)
		rc = add_label(d, pre, "bundle", r->bundle.hash, 0);
	if (rc >= 0 && !r->only)
		rc = add_label(d, pre, "bundle-state", d->bundle_state, 0);
	if (rc >= 0 && r->kernel.release && np_report_read(r, "kernel"))
		rc = add_label(d, pre, "kernel", r->kernel.release, 0);
	if (rc >= 0 && d->klass)
		rc = add_label(d, pre, "class", d->klass, 0);
	if (rc >= 0 && np_report_read(r, "nvme"))
		rc = add_firmware_labels(d, pre, &r->bundle, "nvme");
	if (rc >= 0 && np_report_read(r, "net"))
		rc = add_firmware_labels(d, pre, &r->bundle, "nic");
	if (rc >= 0 && np_report_read(r, "rdma"))
		rc = add_firmware_labels(d, pre, &r->bundle, "rdma");
	if (rc >= 0 && np_report_read(r, "gpu"))
		rc = add_gpu_labels(d, pre, &r->gpu, node);
	if (rc < 0 || r->only || bundle_blind)
		return rc;
	_cleanup_free_ char *key = np_asprintf("%s/fingerprint", pre);
	_cleanup_free_ char *val = fingerprint_annotation(r, d->bundle_state);
	if (!key || !val)
		return -ENOMEM;
	return add_kv(&d->annotations, &d->n_annotations, key, val);
}

/* ---- taints, conditions, events ---- */

static bool has_taint(const struct np_desired *d, const char *key, const char *effect)
{
	for (size_t i = 0; i < d->n_taints; i++)
		if (streq(d->taints[i].key, key) && streq(d->taints[i].effect, effect))
			return true;
	return false;
}

static int add_taint(struct np_desired *d, const char *prefix, const struct np_finding *f, const char *effect)
{
	_cleanup_free_ char *key = np_asprintf("%s/%s", prefix, f->id);
	if (!key)
		return -ENOMEM;
	if (has_taint(d, key, effect))
		return 0;
	struct np_taint *t = GROW(d->taints, d->n_taints);
	if (!t)
		return -ENOMEM;
	t->key = TAKE_PTR(key);
	t->value = strdup("");
	t->effect = strdup(effect);
	return t->value && t->effect ? 0 : -ENOMEM;
}

static struct np_condition *condition(struct np_desired *d, const char *type)
{
	for (size_t i = 0; i < d->n_conditions; i++)
		if (streq(d->conditions[i].type, type))
			return &d->conditions[i];
	struct np_condition *c = GROW(d->conditions, d->n_conditions);
	if (!c)
		return NULL;
	c->type = strdup(type);
	c->status = strdup("True");
	c->reason = strdup(NP_REASON_ALL_CHECKS_PASSED);
	c->message = strdup("no finding");
	return c->type && c->status && c->reason && c->message ? c : NULL;
}

static int set_str(char **dst, const char *v)
{
	char *c = strdup(v);
	if (!c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int condition_false(struct np_condition *c, const struct np_finding *f)
{
	if (streq(c->status, "False")) { /* already false: append, bounded */
		if (strlen(c->message) > 900)
			return 0;
		_cleanup_free_ char *m = np_asprintf("%s; %s", c->message, f->message);
		return m ? set_str(&c->message, m) : -ENOMEM;
	}
	int r = set_str(&c->status, "False");
	if (r >= 0)
		r = set_str(&c->reason, f->reason);
	if (r >= 0)
		r = set_str(&c->message, f->message);
	return r;
}

/*
 * Whether a partial report read every source the action's finding reads (the vocabulary's sources);
 * a whole report read everything. A finding that reads no source is not judged in a partial report.
 */
static bool action_read(const struct np_report *rep, const struct np_action *a)
{
	if (!rep->only)
		return true;
	const struct np_vocab_finding *v = np_vocab_finding(a->finding);
	if (!v || !*v->sources)
		return false;
	for (const char *const *s = v->sources; *s; s++)
		if (!np_report_read(rep, *s))
			return false;
	return true;
}

static int apply_actions(const struct np_policy *p, const struct np_report *rep, const struct np_node_facts *node,
			 struct np_desired *d)
{
	int r = 0;
	/* every condition the policy can set is reported, True until a finding says otherwise; a
	 * partial report plans none for what it did not read */
	for (size_t i = 0; r >= 0 && i < p->n_actions; i++)
		if (p->actions[i].condition && *p->actions[i].condition && action_read(rep, &p->actions[i]) &&
		    !condition(d, p->actions[i].condition))
			r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < d->n_findings; i++) {
		const struct np_finding *f = &d->findings[i];
		const struct np_action *a = np_policy_action(p, f->id);
		if (!a)
			continue;
		if (a->condition && *a->condition) {
			struct np_condition *c = condition(d, a->condition);
			r = c ? condition_false(c, f) : -ENOMEM;
		}
		if (r >= 0 && a->taint_effect && !streq(a->taint_effect, "none"))
			r = add_taint(d, p->label_prefix, f, a->taint_effect);
		if (r >= 0 && a->event_reason && *a->event_reason)
			r = np_desired_add_event(d, a->event_reason, "Warning", f->message, "Node",
						 node ? node->name : NULL, f->subject);
	}
	return r;
}

/* BundlePinned says Unknown, not True, when the class pins nothing or cannot be told (@r's kernel error). */
static int bundle_condition(const struct np_policy *p, const struct np_report *r, bool class_unknown,
			    struct np_desired *d)
{
	const struct np_action *a = np_policy_action(p, "firmware-unpinned");
	if (!a || !a->condition || !*a->condition || !streq(d->bundle_state, "unknown"))
		return 0;
	struct np_condition *c = condition(d, a->condition);
	if (!c)
		return -ENOMEM;
	int rc = set_str(&c->status, "Unknown");
	if (rc >= 0 && class_unknown) {
		rc = set_str(&c->reason, "KernelInfoUnreadable");
		_cleanup_free_ char *m = np_asprintf("cannot tell the node's class: %s",
						     r->kernel.status.error ? r->kernel.status.error : "DMI unreadable");
		return rc < 0 || !m ? -ENOMEM : set_str(&c->message, m);
	}
	if (rc >= 0)
		rc = set_str(&c->reason, d->klass ? NP_REASON_NO_PINS : NP_REASON_NO_CLASS);
	if (rc >= 0)
		rc = set_str(&c->message, d->klass ? "the node's class pins no bundle component"
						   : "no policy class matches this node");
	return rc;
}

/*
 * True when a source that gives the bundle its items could not be read: one
 * that firmware-unpinned reads (kernel, modules: any failure), or a whole
 * section with firmware items (its source's bundle flag, section.h).
 */
static bool bundle_blind(const struct np_report *r)
{
	const struct np_vocab_finding *fw = np_vocab_finding(NP_FINDING_FIRMWARE_UNPINNED);
	_cleanup_(np_sources_free) struct np_sources src = { 0 };
	int n_down = np_report_sources(r, &src);
	if (n_down < 0)
		return true; /* ENOMEM: nothing says the bundle was read */
	for (size_t i = 0; n_down && i < src.n; i++) {
		const struct np_source *s = &src.v[i];
		if (s->up || !np_report_read(r, s->name))
			continue;
		if (np_vocab_reads(fw, s->name))
			return true;
		if (!s->failed && s->bundle)
			return true;
	}
	return false;
}

int np_policy_evaluate(const struct np_policy *p, const struct np_report *r, const struct np_eval_history *hist,
		       const struct np_node_facts *node, struct np_desired *d)
{
	bool blind = bundle_blind(r);
	*d = (struct np_desired){ 0 };
	const struct np_class *cls = NULL;
	bool class_unknown = false;
	for (size_t i = 0; i < p->n_classes && !cls && !class_unknown; i++) {
		int m = class_matches(&p->classes[i], r, node);
		class_unknown = m < 0;
		if (m > 0)
			cls = &p->classes[i];
	}
	int rc = 0;
	if (cls && !(d->klass = strdup(cls->name)))
		rc = -ENOMEM;
	/* a partial or blind bundle is not judged against pins: no drift, no taint from what was not read */
	if (rc >= 0 && cls && cls->n_pins && !r->only && !blind)
		rc = np_policy_judge_bundle(cls, &r->bundle, d);
	size_t bundle_findings = d->n_findings;
	if (rc >= 0)
		rc = set_str(&d->bundle_state, !cls || !cls->n_pins || blind ? "unknown"
					       : bundle_findings	      ? "drift"
										: "pinned");
	if (rc >= 0)
		rc = np_findings_health(&(struct np_health_in){ .policy = p, .cls = cls, .r = r, .hist = hist, .node = node },
					d);
	if (rc >= 0)
		rc = build_metadata(p, r, blind, node, d);
	if (rc >= 0)
		rc = apply_actions(p, r, node, d);
	if (rc >= 0 && !r->only)
		rc = bundle_condition(p, r, class_unknown, d);
	if (rc >= 0 && class_unknown) { /* keep the Node's class label until it can be told again */
		size_t n = 0;
		while (d->keep && d->keep[n])
			n++;
		rc = np_strv_push_take(&d->keep, &n, np_asprintf("%s/class", p->label_prefix));
	}
	if (rc >= 0)
		rc = np_policy_blind(p, r, node ? node->name : NULL, d);
	if (rc < 0)
		np_desired_free(d);
	return rc < 0 ? rc : 0;
}
