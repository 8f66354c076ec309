/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.h - the API operations nodeprint uses, on top of transport.h. Objects are jansson
 * values (json_t, caller releases with json_decref()). Paths and verbs from the Kubernetes
 * API reference (https://kubernetes.io/docs/reference/kubernetes-api/): core/v1 nodes,
 * nodes/status, pods, persistentvolumes, persistentvolumeclaims, events; events.k8s.io/v1
 * events; list pagination (limit/continue) and watch (API concepts: "Efficient detection of
 * changes", "Retrieving large results sets in chunks").
 *
 * Every function returns 0 or a negative errno (errors.h: -ENOENT, -ESTALE on a stale
 * resourceVersion, -EINVAL for a rejected object or a failed JSON patch test, ...) and puts a
 * malloc'd message in *@err (may be NULL) on failure. Names are checked before use (DNS-1123
 * subdomain, at most 253 characters): a bad name is -EINVAL without a request.
 */
#pragma once

#include "transport.h"

#include <jansson.h>

enum np_patch_type {
	NP_PATCH_MERGE,      /* application/merge-patch+json (RFC 7386) */
	NP_PATCH_STRATEGIC,  /* application/strategic-merge-patch+json (lists merged by key, e.g. conditions by type) */
	NP_PATCH_JSON,       /* application/json-patch+json (RFC 6902; `test` ops make it conditional) */
};

enum np_event_api {
	NP_EVENTS_CORE_V1,   /* /api/v1/namespaces/NS/events (involvedObject, count) */
	NP_EVENTS_V1,        /* /apis/events.k8s.io/v1/namespaces/NS/events (regarding, series) */
};

/* true when @s is a DNS-1123 subdomain (object names: lowercase alphanumerics, '-', '.'). */
bool np_kube_name_valid(const char *s);

/* GET any path; the answer must be a JSON object. */
int np_kube_get(struct np_kube_client *c, const char *path, json_t **out, char **err);

/* GET /api/v1/nodes/NAME. */
int np_kube_get_node(struct np_kube_client *c, const char *name, json_t **out, char **err);

/*
 * np_kube_patch_node() - PATCH /api/v1/nodes/NAME (or .../status when @status) with @patch
 * (JSON text) of type @t. The updated Node goes to *@out when @out is not NULL.
 */
int np_kube_patch_node(struct np_kube_client *c, const char *name, bool status, enum np_patch_type t,
		       const char *patch, json_t **out, char **err);

/* GET /api/v1/persistentvolumes/NAME and /api/v1/namespaces/NS/persistentvolumeclaims/NAME. */
int np_kube_get_pv(struct np_kube_client *c, const char *name, json_t **out, char **err);
int np_kube_get_pvc(struct np_kube_client *c, const char *ns, const char *name, json_t **out, char **err);

/* POST an Event (@ev, borrowed) to namespace @ns in API @api; the created Event to *@out. */
int np_kube_create_event(struct np_kube_client *c, enum np_event_api api, const char *ns, json_t *ev,
			 json_t **out, char **err);
/* PATCH an Event (e.g. count/series and lastTimestamp of a repeat). */
int np_kube_patch_event(struct np_kube_client *c, enum np_event_api api, const char *ns, const char *name,
			enum np_patch_type t, const char *patch, json_t **out, char **err);

/* One page of a LIST: @page is the List object (items in "items"), borrowed for the call.
 * Return 0 to go on, a negative errno to stop (returned by np_kube_list()). */
typedef int (*np_kube_page_cb)(json_t *page, void *ud);

/*
 * np_kube_list() - LIST @path (e.g. "/api/v1/nodes") with optional label and field selectors,
 * @limit items per page (0 = 500), following metadata.continue until the last page; @cb gets
 * each page. An expired continue token is -ETIME (restart the list).
 */
int np_kube_list(struct np_kube_client *c, const char *path, const char *label_selector,
		 const char *field_selector, unsigned limit, np_kube_page_cb cb, void *ud, char **err);

/* LIST /api/v1/pods with fieldSelector spec.nodeName=NODE (every namespace). */
int np_kube_list_pods_on_node(struct np_kube_client *c, const char *node, unsigned limit, np_kube_page_cb cb,
			      void *ud, char **err);

/* One watch event: @type is ADDED, MODIFIED, DELETED or BOOKMARK; @obj is borrowed. */
typedef int (*np_kube_watch_cb)(const char *type, json_t *obj, void *ud);

/*
 * np_kube_watch_node() - WATCH the Node @name from @resource_version (NULL = from now) for at most
 * @timeout_s seconds (server-side timeoutSeconds; 0 = 300), bookmarks on. Returns 0 when the
 * server ends the watch (re-watch from the last resourceVersion seen), -ETIME when that
 * resourceVersion is too old (an ERROR event with 410: re-read, then re-watch), the callback's
 * negative errno, or a transport error.
 */
int np_kube_watch_node(struct np_kube_client *c, const char *name, const char *resource_version,
		       unsigned timeout_s, np_kube_watch_cb cb, void *ud, char **err);

/*
 * np_kube_node_taints_update() - read-modify-write of the Node's whole taint list, guarded by its
 * resourceVersion: GET the Node, hand spec.taints (an array, created when absent) to @edit, and
 * merge-patch spec.taints with metadata.resourceVersion; a 409 (another writer changed the Node,
 * -ESTALE) re-reads and edits again, at most @max_tries times (0 = 5). @edit returns 1 when it
 * changed the list, 0 when nothing is to be written (no request), or a negative errno.
 * Returns 1 when written, 0 when nothing had to change, or a negative errno (-ESTALE after
 * @max_tries conflicts).
 */
int np_kube_node_taints_update(struct np_kube_client *c, const char *name, int (*edit)(json_t *taints, void *ud),
			       void *ud, unsigned max_tries, char **err);

/*
 * Decoders (also fuzzed): np_kube_parse_object() takes a response body that must be a JSON
 * object, with "kind" equal to @kind when @kind is not NULL (-EBADMSG otherwise).
 * np_kube_parse_list() takes a List: items array (null = empty) and metadata.continue (a
 * borrowed string in *@cont, NULL on the last page). np_kube_parse_watch_line() takes one
 * watch line {"type":..., "object":{...}}; an ERROR event becomes the errno of its Status.
 */
int np_kube_parse_object(const char *body, size_t len, const char *kind, json_t **out);
int np_kube_parse_list(const char *body, size_t len, json_t **out, const char **cont);
int np_kube_parse_watch_line(const char *line, size_t len, json_t **out, const char **type, json_t **obj);

/*
 * Leases (coordination.k8s.io/v1, /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME): what
 * client-go's leader election (tools/leaderelection/resourcelock, LeaseLock) uses as a lock.
 * np_kube_get_lease() GETs one (-ENOENT when absent); np_kube_create_lease() POSTs @lease
 * (borrowed; -EEXIST when another client created it first); np_kube_update_lease() PUTs @lease
 * (borrowed), whose metadata.resourceVersion makes it a compare-and-swap: -ESTALE (409) when the
 * Lease changed since that version was read. The stored Lease goes to *@out when @out is set.
 */
int np_kube_get_lease(struct np_kube_client *c, const char *ns, const char *name, json_t **out, char **err);
int np_kube_create_lease(struct np_kube_client *c, const char *ns, json_t *lease, json_t **out, char **err);
int np_kube_update_lease(struct np_kube_client *c, const char *ns, const char *name, json_t *lease, json_t **out,
			 char **err);

/*
 * np_kube_lease_update() - read-modify-write of the Lease NS/NAME by resourceVersion
 * compare-and-swap. GETs it (an absent one is handed over as a new object with apiVersion, kind,
 * metadata.name and .namespace only), hands it to @edit, and PUTs it with the resourceVersion it
 * was read at (POSTs it when it did not exist). A conflict (409: -ESTALE, or -EEXIST when another
 * client created it in between) re-reads after a short random pause (10 ms doubling to 640 ms,
 * equal jitter) and edits again, at most @max_tries times (0 = 16).
 * @edit(lease, ud) edits the object in place (it stays the loop's) and returns 1 to write it, 0
 * when nothing is to be written (no request), or a negative errno (returned as is).
 * Returns 1 when written (the stored Lease in *@out when @out is set), 0 when nothing had to
 * change, or a negative errno (-ESTALE after @max_tries conflicts).
 */
int np_kube_lease_update(struct np_kube_client *c, const char *ns, const char *name,
			 int (*edit)(json_t *lease, void *ud), void *ud, unsigned max_tries, json_t **out, char **err);
