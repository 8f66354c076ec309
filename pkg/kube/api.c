// SPDX-License-Identifier: Apache-2.0
/* api.c - Kubernetes API operations: get, patch, events, paginated list, watch, taint RMW. */
#define _GNU_SOURCE
#include "api.h"
#include "util.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include "retry.h"

#include <string.h>
#include <sys/random.h>

#define DEF_PAGE 500
#define DEF_TAINT_TRIES 5
#define DEF_WATCH_S 300
#define DEF_LEASE_TRIES 16

/* The Content-Type of a patch type. */
static const char *np_patch_content_type(enum np_patch_type t)
{
	switch (t) {
	case NP_PATCH_STRATEGIC:
		return "application/strategic-merge-patch+json";
	case NP_PATCH_JSON:
		return "application/json-patch+json";
	default:
		return "application/merge-patch+json";
	}
}

bool np_kube_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0, label = 0;

	/* [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)* (IsDNS1123Subdomain) */
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (ch == '.' || ch == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if ((!alnum && ch != '-') || (label == 0 && !alnum))
			return false;
		label++;
	}
	return true;
}

/* percent-encode a query value (RFC 3986 unreserved kept) */
static char *qesc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = malloc(strlen(s) * 3 + 1), *p = o;

	if (!o)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			*p++ = (char)ch;
		} else {
			*p++ = '%';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 15];
		}
	}
	*p = '\0';
	return o;
}

int np_kube_parse_object(const char *body, size_t len, const char *kind, json_t **out)
{
	json_t *o = json_loadb(body ? body : "", len, 0, NULL), *k;

	if (!json_is_object(o)) {
		json_decref(o);
		return -EBADMSG;
	}
	k = json_object_get(o, "kind");
	if (kind && (!json_is_string(k) || !streq(json_string_value(k), kind))) {
		json_decref(o);
		return -EBADMSG;
	}
	*out = o;
	return 0;
}

int np_kube_parse_list(const char *body, size_t len, json_t **out, const char **cont)
{
	json_t *o, *items, *md, *c;
	int r = np_kube_parse_object(body, len, NULL, &o);

	if (r < 0)
		return r;
	items = json_object_get(o, "items");
	md = json_object_get(o, "metadata");
	c = json_object_get(md, "continue");
	if ((items && !json_is_array(items) && !json_is_null(items)) || (md && !json_is_object(md)) ||
	    (c && !json_is_string(c) && !json_is_null(c))) {
		json_decref(o);
		return -EBADMSG;
	}
	if (!json_is_array(items))
		json_object_set_new(o, "items", json_array());
	*cont = json_is_string(c) && json_string_length(c) > 0 ? json_string_value(c) : NULL;
	*out = o;
	return 0;
}

int np_kube_parse_watch_line(const char *line, size_t len, json_t **out, const char **type, json_t **obj)
{
	json_t *o, *t, *ob;
	int r = np_kube_parse_object(line, len, NULL, &o);

	if (r < 0)
		return r;
	t = json_object_get(o, "type");
	ob = json_object_get(o, "object");
	if (!json_is_string(t) || !json_is_object(ob)) {
		json_decref(o);
		return -EBADMSG;
	}
	if (streq(json_string_value(t), "ERROR")) {
		json_t *code = json_object_get(ob, "code"), *reason = json_object_get(ob, "reason");
		r = np_kube_errno(json_is_integer(code) ? (int)json_integer_value(code) : 500,
				  json_is_string(reason) ? json_string_value(reason) : NULL);
		json_decref(o);
		return r ? r : -EIO;
	}
	*out = o;
	*type = json_string_value(t);
	*obj = ob;
	return 0;
}

/* one request; on success the body parsed as an object (of @kind) into *@out when @out is set */
static int call(struct np_kube_client *c, const char *method, const char *path, const char *ctype, const char *body,
		const char *kind, json_t **out, char **err)
{
	struct np_kube_response resp;
	int r = np_kube_request(c, method, path, ctype, body, body ? strlen(body) : 0, &resp);

	if (r < 0) {
		np_kube_seterr(err, r, "%s", resp.error ? resp.error : strerror(-r));
	} else if (out || kind) {
		json_t *o = NULL;
		r = np_kube_parse_object(resp.body, resp.len, kind, &o);
		if (r >= 0 && out)
			*out = o;
		else
			json_decref(o);
		if (r < 0)
			np_kube_seterr(err, r, "%s %s: the answer is not a %s object", method, path, kind ? kind : "JSON");
	}
	np_kube_response_free(&resp);
	return r;
}

static int bad_name(char **err, const char *what, const char *name)
{
	return np_kube_seterr(err, -EINVAL, "%s name '%s': expected a DNS-1123 subdomain", what, name ? name : "");
}

int np_kube_get(struct np_kube_client *c, const char *path, json_t **out, char **err)
{
	return call(c, "GET", path, NULL, NULL, NULL, out, err);
}

int np_kube_get_node(struct np_kube_client *c, const char *name, json_t **out, char **err)
{
	_cleanup_free_ char *p = NULL;

	if (!np_kube_name_valid(name))
		return bad_name(err, "node", name);
	if (!(p = np_asprintf("/api/v1/nodes/%s", name)))
		return -ENOMEM;
	return call(c, "GET", p, NULL, NULL, "Node", out, err);
}

int np_kube_patch_node(struct np_kube_client *c, const char *name, bool status, enum np_patch_type t,
		       const char *patch, json_t **out, char **err)
{
	_cleanup_free_ char *p = NULL;

	if (!np_kube_name_valid(name))
		return bad_name(err, "node", name);
	if (!(p = np_asprintf("/api/v1/nodes/%s%s", name, status ? "/status" : "")))
		return -ENOMEM;
	return call(c, "PATCH", p, np_patch_content_type(t), patch, "Node", out, err);
}

int np_kube_get_pv(struct np_kube_client *c, const char *name, json_t **out, char **err)
{
	_cleanup_free_ char *p = NULL;

	if (!np_kube_name_valid(name))
		return bad_name(err, "persistentvolume", name);
	if (!(p = np_asprintf("/api/v1/persistentvolumes/%s", name)))
		return -ENOMEM;
	return call(c, "GET", p, NULL, NULL, "PersistentVolume", out, err);
}

int np_kube_get_pvc(struct np_kube_client *c, const char *ns, const char *name, json_t **out, char **err)
{
	_cleanup_free_ char *p = NULL;

	if (!np_kube_name_valid(ns))
		return bad_name(err, "namespace", ns);
	if (!np_kube_name_valid(name))
		return bad_name(err, "persistentvolumeclaim", name);
	if (!(p = np_asprintf("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, name)))
		return -ENOMEM;
	return call(c, "GET", p, NULL, NULL, "PersistentVolumeClaim", out, err);
}

static char *events_path(enum np_event_api api, const char *ns, const char *name)
{
	return np_asprintf("%s/namespaces/%s/events%s%s", api == NP_EVENTS_V1 ? "/apis/events.k8s.io/v1" : "/api/v1",
			   ns, name ? "/" : "", name ? name : "");
}

int np_kube_create_event(struct np_kube_client *c, enum np_event_api api, const char *ns, json_t *ev,
			 json_t **out, char **err)
{
	_cleanup_free_ char *p = NULL, *body = NULL;

	if (!np_kube_name_valid(ns))
		return bad_name(err, "namespace", ns);
	if (!(p = events_path(api, ns, NULL)) || !(body = json_dumps(ev, JSON_COMPACT)))
		return -ENOMEM;
	return call(c, "POST", p, "application/json", body, "Event", out, err);
}

int np_kube_patch_event(struct np_kube_client *c, enum np_event_api api, const char *ns, const char *name,
			enum np_patch_type t, const char *patch, json_t **out, char **err)
{
	_cleanup_free_ char *p = NULL;

	if (!np_kube_name_valid(ns))
		return bad_name(err, "namespace", ns);
	if (!np_kube_name_valid(name))
		return bad_name(err, "event", name);
	if (!(p = events_path(api, ns, name)))
		return -ENOMEM;
	return call(c, "PATCH", p, np_patch_content_type(t), patch, "Event", out, err);
}

int np_kube_list(struct np_kube_client *c, const char *path, const char *label_selector,
		 const char *field_selector, unsigned limit, np_kube_page_cb cb, void *ud, char **err)
{
	_cleanup_free_ char *ls = label_selector ? qesc(label_selector) : NULL;
	_cleanup_free_ char *fs = field_selector ? qesc(field_selector) : NULL;
	_cleanup_free_ char *cont = NULL;
	int r;

	if ((label_selector && !ls) || (field_selector && !fs))
		return -ENOMEM;
	if (path[0] != '/' || strchr(path, '?'))
		return np_kube_seterr(err, -EINVAL, "list %s: expected a path without query", path);
	do {
		_cleanup_free_ char *ce = cont ? qesc(cont) : NULL;
		_cleanup_free_ char *p = np_asprintf("%s?limit=%u%s%s%s%s%s%s", path, limit ? limit : DEF_PAGE,
						     ls ? "&labelSelector=" : "", ls ? ls : "", fs ? "&fieldSelector=" : "",
						     fs ? fs : "", ce ? "&continue=" : "", ce ? ce : "");
		struct np_kube_response resp;
		json_t *page = NULL;
		const char *next = NULL;

		if (!p || (cont && !ce))
			return -ENOMEM;
		r = np_kube_request(c, "GET", p, NULL, NULL, 0, &resp);
		if (r < 0) {
			np_kube_seterr(err, r, "%s", resp.error ? resp.error : strerror(-r));
			np_kube_response_free(&resp);
			return r;
		}
		r = np_kube_parse_list(resp.body, resp.len, &page, &next);
		np_kube_response_free(&resp);
		if (r < 0)
			return np_kube_seterr(err, r, "GET %s: the answer is not a List", p);
		free(cont);
		cont = next ? strdup(next) : NULL;
		r = cb(page, ud);
		json_decref(page);
		if (r < 0)
			return r;
		if (next && !cont)
			return -ENOMEM;
	} while (cont);
	return 0;
}

int np_kube_list_pods_on_node(struct np_kube_client *c, const char *node, unsigned limit, np_kube_page_cb cb,
			      void *ud, char **err)
{
	_cleanup_free_ char *fs = NULL;

	if (!np_kube_name_valid(node))
		return bad_name(err, "node", node);
	if (!(fs = np_asprintf("spec.nodeName=%s", node)))
		return -ENOMEM;
	return np_kube_list(c, "/api/v1/pods", NULL, fs, limit, cb, ud, err);
}

struct watch_ctx {
	np_kube_watch_cb cb;
	void *ud;
	int err;
};

static int watch_line(const char *l, size_t len, void *ud)
{
	struct watch_ctx *w = ud;
	const char *type;
	json_t *o, *obj;
	int r = np_kube_parse_watch_line(l, len, &o, &type, &obj);

	if (r < 0)
		return w->err = r;
	r = w->cb(type, obj, w->ud);
	json_decref(o);
	return r < 0 ? (w->err = r) : 0;
}

int np_kube_watch_node(struct np_kube_client *c, const char *name, const char *resource_version,
		       unsigned timeout_s, np_kube_watch_cb cb, void *ud, char **err)
{
	_cleanup_free_ char *rv = resource_version ? qesc(resource_version) : NULL, *p = NULL;
	struct watch_ctx w = { cb, ud, 0 };
	struct np_kube_response resp;
	int r;

	if (!np_kube_name_valid(name))
		return bad_name(err, "node", name);
	if (!timeout_s)
		timeout_s = DEF_WATCH_S;
	p = np_asprintf("/api/v1/nodes?fieldSelector=metadata.name%%3D%s&watch=1&allowWatchBookmarks=true"
			"&timeoutSeconds=%u%s%s", name, timeout_s, rv ? "&resourceVersion=" : "", rv ? rv : "");
	if (!p || (resource_version && !rv))
		return -ENOMEM;
	/* the client-side limit leaves the server time to end the watch itself */
	r = np_kube_stream(c, p, (long)(timeout_s + 30) * 1000, watch_line, &w, &resp);
	if (r < 0 && w.err == r && r == -ETIME)
		np_kube_seterr(err, r, "watch node %s: resourceVersion %s is too old", name, resource_version ? resource_version : "");
	else if (r < 0 && w.err == r && r == -EBADMSG)
		np_kube_seterr(err, r, "watch node %s: a line is not a watch event", name);
	else if (r < 0)
		np_kube_seterr(err, r, "%s", resp.error ? resp.error : strerror(-r));
	np_kube_response_free(&resp);
	return r;
}

/* metadata.resourceVersion of an object, borrowed, or NULL */
static const char *rv_of(json_t *o)
{
	json_t *v = json_object_get(json_object_get(o, "metadata"), "resourceVersion");
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int taints_once(struct np_kube_client *c, const char *name, int (*edit)(json_t *, void *), void *ud, char **err)
{
	json_t *node = NULL, *spec, *taints;
	_cleanup_free_ char *body = NULL;
	int r = np_kube_get_node(c, name, &node, err);

	if (r < 0)
		return r;
	spec = json_object_get(node, "spec");
	taints = json_object_get(spec, "taints");
	if (!rv_of(node) || (spec && !json_is_object(spec)) || (taints && !json_is_array(taints) && !json_is_null(taints))) {
		json_decref(node);
		return np_kube_seterr(err, -EBADMSG, "node %s: no resourceVersion or spec.taints is not a list", name);
	}
	taints = json_is_array(taints) ? json_incref(taints) : json_array();
	r = edit(taints, ud);
	if (r > 0) {
		/* the whole list with the version it was read at: a concurrent change answers 409 */
		json_t *patch = json_pack("{s:{s:s},s:{s:O}}", "metadata", "resourceVersion", rv_of(node), "spec",
					  "taints", taints);
		body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
		json_decref(patch);
		r = body ? np_kube_patch_node(c, name, false, NP_PATCH_MERGE, body, NULL, err) : -ENOMEM;
		if (r == 0)
			r = 1;
	}
	json_decref(taints);
	json_decref(node);
	return r;
}

int np_kube_node_taints_update(struct np_kube_client *c, const char *name, int (*edit)(json_t *taints, void *ud),
			       void *ud, unsigned max_tries, char **err)
{
	int r = -ESTALE;

	if (!max_tries)
		max_tries = DEF_TAINT_TRIES;
	for (unsigned i = 0; i < max_tries; i++) {
		r = taints_once(c, name, edit, ud, err);
		if (r != -ESTALE)
			return r;
	}
	return r;
}

/* ---- leases ---- */

static char *lease_path(const char *ns, const char *name)
{
	return np_asprintf("/apis/coordination.k8s.io/v1/namespaces/%s/leases%s%s", ns, name ? "/" : "", name ? name : "");
}

static int lease_call(struct np_kube_client *c, const char *method, const char *ns, const char *name, json_t *body,
		      json_t **out, char **err)
{
	_cleanup_free_ char *p = NULL, *text = NULL;

	if (!np_kube_name_valid(ns))
		return bad_name(err, "namespace", ns);
	if (name && !np_kube_name_valid(name))
		return bad_name(err, "lease", name);
	if (!(p = lease_path(ns, name)) || (body && !(text = json_dumps(body, JSON_COMPACT))))
		return -ENOMEM;
	return call(c, method, p, text ? "application/json" : NULL, text, "Lease", out, err);
}

int np_kube_get_lease(struct np_kube_client *c, const char *ns, const char *name, json_t **out, char **err)
{
	return lease_call(c, "GET", ns, name, NULL, out, err);
}

int np_kube_create_lease(struct np_kube_client *c, const char *ns, json_t *lease, json_t **out, char **err)
{
	return lease_call(c, "POST", ns, NULL, lease, out, err);
}

int np_kube_update_lease(struct np_kube_client *c, const char *ns, const char *name, json_t *lease, json_t **out,
			 char **err)
{
	return lease_call(c, "PUT", ns, name, lease, out, err);
}

static int lease_once(struct np_kube_client *c, const char *ns, const char *name, int (*edit)(json_t *, void *),
		      void *ud, json_t **out, char **err)
{
	json_auto_t *lease = NULL;
	int r = np_kube_get_lease(c, ns, name, &lease, err);

	if (r == -ENOENT) {
		free(err ? *err : NULL);
		if (err)
			*err = NULL;
		lease = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
				  "metadata", "name", name, "namespace", ns);
		if (!lease)
			return -ENOMEM;
	} else if (r < 0) {
		return r;
	} else if (!rv_of(lease)) {
		return np_kube_seterr(err, -EBADMSG, "lease %s/%s: no resourceVersion", ns, name);
	}
	bool exists = rv_of(lease) != NULL;
	r = edit(lease, ud);
	if (r <= 0)
		return r;
	r = exists ? np_kube_update_lease(c, ns, name, lease, out, err) : np_kube_create_lease(c, ns, lease, out, err);
	return r < 0 ? r : 1;
}

int np_kube_lease_update(struct np_kube_client *c, const char *ns, const char *name,
			 int (*edit)(json_t *lease, void *ud), void *ud, unsigned max_tries, json_t **out, char **err)
{
	static const struct np_backoff pause = { .max_attempts = 64, .base_ms = 10, .cap_ms = 640 };
	int r = -ESTALE;

	if (!max_tries)
		max_tries = DEF_LEASE_TRIES;
	for (unsigned i = 0; i < max_tries; i++) {
		if (i > 0) {
			/* agents that lost the same race must not meet again in step */
			uint32_t rnd = 0;
			if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
				rnd = (uint32_t)i * 2654435761u;
			uint64_t ms = np_backoff_delay_ms(&pause, i, rnd);
			nanosleep(&(struct timespec){ .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L },
				  NULL);
			free(err ? *err : NULL);
			if (err)
				*err = NULL;
		}
		r = lease_once(c, ns, name, edit, ud, out, err);
		if (r != -ESTALE && r != -EEXIST)
			return r;
	}
	return r;
}
