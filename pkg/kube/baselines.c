// SPDX-License-Identifier: Apache-2.0
/* baselines.c - micro-test records in per-class ConfigMaps (see baselines.h). */
#define _GNU_SOURCE
#include "baselines.h"
#include "api.h"
#include "util.h"
#include "../report/benchstore.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <ctype.h>
#include <string.h>

#define PREFIX "nodeprint-baselines"
#define COMPONENT_LABEL "app.kubernetes.io/component"
#define MAX_TRIES 5

char *np_kube_baselines_name(const char *klass)
{
	if (!klass || !*klass)
		return strdup(PREFIX);
	char *s = np_asprintf(PREFIX "-%.200s", klass);
	for (char *p = s ? s + strlen(PREFIX) + 1 : NULL; p && *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
	/* a DNS-1123 name ends alphanumeric */
	size_t l = s ? strlen(s) : 0;
	while (s && l > strlen(PREFIX) && s[l - 1] == '-')
		s[--l] = '\0';
	return s;
}

/* The records of one ConfigMap object. */
static int records_of(const json_t *cm, struct np_bench_record **out, size_t *n, size_t *bad)
{
	const json_t *data = json_object_get(cm, "data");
	const char *k;
	json_t *v;
	*out = NULL;
	*n = 0;
	json_object_foreach((json_t *)data, k, v) {
		if (!np_startswith(k, "baseline.") && !np_startswith(k, "verdict."))
			continue;
		const char *s = json_string_value(v);
		json_t *j = s ? json_loads(s, JSON_REJECT_DUPLICATES, NULL) : NULL;
		_cleanup_free_ char *err = NULL;
		struct np_bench_record rec;
		int r = j ? np_bench_record_from_json(j, &rec, &err) : -EINVAL;
		json_decref(j);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			(*bad)++;
			continue;
		}
		struct np_bench_record *nr = realloc(*out, (*n + 1) * sizeof(*nr));
		if (!nr) {
			np_bench_record_free(&rec);
			return -ENOMEM;
		}
		*out = nr;
		nr[(*n)++] = rec;
	}
	return 0;
}

static char *cm_path(const char *ns, const char *name)
{
	return name ? np_asprintf("/api/v1/namespaces/%s/configmaps/%s", ns, name) :
		      np_asprintf("/api/v1/namespaces/%s/configmaps", ns);
}

int np_kube_baselines_load(struct np_kube_client *c, const char *ns, const char *klass,
			   struct np_bench_record **out, size_t *n, size_t *bad, char **err)
{
	*out = NULL;
	*n = *bad = 0;
	_cleanup_free_ char *name = np_kube_baselines_name(klass), *path = NULL;
	if (!name || !(path = cm_path(ns, name)))
		return -ENOMEM;
	if (!np_kube_name_valid(ns) || !np_kube_name_valid(name))
		return np_kube_seterr(err, -EINVAL, "ConfigMap %s/%s: not a valid name", ns, name);
	json_t *cm = NULL;
	int r = np_kube_get(c, path, &cm, err);
	if (r == -ENOENT) {
		free(*err);
		*err = NULL;
		return 0;
	}
	if (r >= 0) {
		r = records_of(cm, out, n, bad);
		if (r < 0) {
			np_bench_records_free(*out, *n);
			*out = NULL;
			*n = 0;
		}
	}
	json_decref(cm);
	return r;
}

/* Drop the oldest records until the data fits NP_BASELINES_MAX_BYTES. */
static void trim(json_t *data)
{
	for (;;) {
		size_t total = 0;
		const char *k, *oldest = NULL;
		json_t *v;
		int64_t oldest_at = INT64_MAX;
		json_object_foreach(data, k, v) {
			total += strlen(k) + json_string_length(v);
			json_t *j = json_loads(json_string_value(v) ? json_string_value(v) : "", 0, NULL);
			json_t *at = json_object_get(j, "at_ms");
			int64_t t = json_is_integer(at) ? json_integer_value(at) : 0;
			if (t < oldest_at) {
				oldest_at = t;
				oldest = k;
			}
			json_decref(j);
		}
		if (total <= NP_BASELINES_MAX_BYTES || !oldest)
			return;
		json_object_del(data, oldest);
	}
}

static int store_once(struct np_kube_client *c, const char *ns, const char *name,
		      const struct np_bench_record *recs, size_t n, char **err)
{
	_cleanup_free_ char *path = cm_path(ns, name), *body = NULL;
	if (!path)
		return -ENOMEM;
	json_t *cm = NULL;
	int r = np_kube_get(c, path, &cm, err);
	bool create = r == -ENOENT;
	if (r < 0 && !create)
		return r;
	if (create) {
		free(*err);
		*err = NULL;
		cm = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:{}}", "apiVersion", "v1", "kind", "ConfigMap",
			       "metadata", "name", name, "namespace", ns, "labels", "app.kubernetes.io/name",
			       "nodeprint", COMPONENT_LABEL, "baselines", "data");
		if (!cm)
			return -ENOMEM;
	}
	json_t *data = json_object_get(cm, "data");
	if (!json_is_object(data)) {
		data = json_object();
		json_object_set_new(cm, "data", data);
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *key = np_bench_record_key(&recs[i]);
		json_t *j = np_bench_record_to_json(&recs[i]);
		char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		if (!key || !text) {
			free(text);
			json_decref(cm);
			return -ENOMEM;
		}
		json_object_set_new(data, key, json_string(text));
		free(text);
	}
	trim(data);
	/* PUT carries metadata.resourceVersion as read: a concurrent write answers 409 (-ESTALE) */
	body = json_dumps(cm, JSON_COMPACT);
	json_decref(cm);
	if (!body)
		return -ENOMEM;
	_cleanup_free_ char *coll = create ? cm_path(ns, NULL) : NULL;
	if (create && !coll)
		return -ENOMEM;
	struct np_kube_response resp;
	r = np_kube_request(c, create ? "POST" : "PUT", create ? coll : path, "application/json", body, strlen(body),
			    &resp);
	if (r < 0)
		np_kube_seterr(err, r, "%s", resp.error ? resp.error : strerror(-r));
	np_kube_response_free(&resp);
	return r;
}

int np_kube_baselines_store(struct np_kube_client *c, const char *ns, const struct np_bench_record *recs,
			    size_t n, char **err)
{
	if (n == 0)
		return 0;
	_cleanup_free_ char *name = np_kube_baselines_name(recs[0].klass);
	if (!name)
		return -ENOMEM;
	if (!np_kube_name_valid(ns) || !np_kube_name_valid(name))
		return np_kube_seterr(err, -EINVAL, "ConfigMap %s/%s: not a valid name", ns, name);
	int r = -ESTALE;
	for (unsigned i = 0; i < MAX_TRIES && (r == -ESTALE || r == -EEXIST); i++) {
		free(*err);
		*err = NULL;
		r = store_once(c, ns, name, recs, n, err);
	}
	return r;
}

struct list_ctx {
	np_kube_baselines_cb cb;
	void *ud;
};

static int list_page(json_t *page, void *ud)
{
	struct list_ctx *l = ud;
	size_t i;
	json_t *cm;
	json_array_foreach(json_object_get(page, "items"), i, cm) {
		const char *name = json_string_value(json_object_get(json_object_get(cm, "metadata"), "name"));
		struct np_bench_record *v = NULL;
		size_t n = 0, bad = 0;
		if (!name || !np_startswith(name, PREFIX))
			continue;
		int r = records_of(cm, &v, &n, &bad);
		if (r >= 0)
			r = l->cb(name, v, n, l->ud);
		np_bench_records_free(v, n);
		if (r < 0)
			return r;
	}
	return 0;
}

int np_kube_baselines_list(struct np_kube_client *c, const char *ns, np_kube_baselines_cb cb, void *ud, char **err)
{
	_cleanup_free_ char *path = cm_path(ns, NULL);
	if (!path)
		return -ENOMEM;
	if (!np_kube_name_valid(ns))
		return np_kube_seterr(err, -EINVAL, "namespace '%s': not a valid name", ns);
	struct list_ctx l = { cb, ud };
	return np_kube_list(c, path, COMPONENT_LABEL "=baselines", NULL, 100, list_page, &l, err);
}
