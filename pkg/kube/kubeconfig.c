// SPDX-License-Identifier: Apache-2.0
/*
 * kubeconfig.c - kubeconfig loading with kubectl's rules (client-go tools/clientcmd):
 * loading_rules.go (file precedence, merge: first file to set a name wins),
 * api/v1/types.go (field names), validation.go (insecure + CA, exec checks),
 * and path resolution against each file's own folder (shared/cases/30).
 * YAML through libyaml's document API; every error names file:line:column and the field.
 */
#define _GNU_SOURCE
#include "kubeconfig.h"
#include "util.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct kfile {
	char *path;   /* as given, for messages */
	char *dir;    /* folder of the file's real path: base of relative paths */
	yaml_document_t doc;
	bool have_doc;
};

struct kc_cluster {
	char *server, *ca_file, *ca_data, *tls_server_name;
	bool insecure;
};

struct kc_user {
	char *token, *token_file, *cert_file, *cert_data, *key_file, *key_data;
	bool has_auth_provider, has_basic;
	struct np_kube_exec *exec;
};

struct kc_context {
	char *cluster, *user, *namespace;
};

enum kind { K_CLUSTER, K_USER, K_CONTEXT, K_MAX };
static const char *const kind_list[K_MAX] = { "clusters", "users", "contexts" };
static const char *const kind_item[K_MAX] = { "cluster", "user", "context" };

struct entry {
	char *name;
	struct kfile *f;
	int line, col;
	char field[64];               /* "users[3]" */
	union {
		struct kc_cluster cluster;
		struct kc_user user;
		struct kc_context context;
	};
};

struct loader {
	struct kfile *files;
	size_t nfiles;
	struct entry *e[K_MAX];
	size_t n[K_MAX];
	char *current_context;
	char **err;
};

/* snprintf that may truncate a field path (paths are for messages only). */
static void __attribute__((format(printf, 3, 4))) fieldf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

static void strv_freep(char ***v)
{
	np_strv_free(*v);
}

/* ---- YAML helpers ---- */

static int yerr(struct loader *L, struct kfile *f, yaml_node_t *n, int negerr, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int yerr(struct loader *L, struct kfile *f, yaml_node_t *n, int negerr, const char *field, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (n)
		return np_kube_seterr(L->err, negerr, "%s:%zu:%zu: %s: %s", f->path, n->start_mark.line + 1,
				      n->start_mark.column + 1, field, m ? m : "error");
	return np_kube_seterr(L->err, negerr, "%s: %s: %s", f->path, field, m ? m : "error");
}

static yaml_node_t *ynode(struct kfile *f, int id)
{
	return yaml_document_get_node(&f->doc, id);
}

static bool is_null(yaml_node_t *n)
{
	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE)
		return false;
	if (n->tag && streq((char *)n->tag, YAML_NULL_TAG))
		return true;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return n->data.scalar.length == 0 || streq(v, "~") || streq(v, "null") || streq(v, "Null") ||
	       streq(v, "NULL");
}

static bool scalar_is(yaml_node_t *n, const char *s)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
	       memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

/* Value of @key in mapping @m, or NULL. */
static yaml_node_t *map_get(struct kfile *f, yaml_node_t *m, const char *key)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
		if (scalar_is(ynode(f, p->key), key))
			return ynode(f, p->value);
	return NULL;
}

/* A scalar as a malloc'd string in *@out (NULL when absent or null). */
static int get_str(struct loader *L, struct kfile *f, yaml_node_t *m, const char *key, const char *parent, char **out)
{
	yaml_node_t *n = map_get(f, m, key);
	char field[256];

	fieldf(field, sizeof(field), "%s.%s", parent, key);
	if (is_null(n))
		return 0;
	if (n->type != YAML_SCALAR_NODE)
		return yerr(L, f, n, -EINVAL, field, "expected a string");
	if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
		return yerr(L, f, n, -EINVAL, field, "contains a NUL byte");
	free(*out);
	*out = strndup((char *)n->data.scalar.value, n->data.scalar.length);
	return *out ? 0 : -ENOMEM;
}

/* A YAML 1.1 boolean (what sigs.k8s.io/yaml accepts): true/false, yes/no, on/off. */
static int get_bool(struct loader *L, struct kfile *f, yaml_node_t *m, const char *key, const char *parent, bool *out)
{
	static const char *const t[] = { "true", "yes", "on", "y" }, *const fl[] = { "false", "no", "off", "n" };
	yaml_node_t *n = map_get(f, m, key);
	char field[256];

	fieldf(field, sizeof(field), "%s.%s", parent, key);
	if (is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE) {
		const char *v = (const char *)n->data.scalar.value;
		for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
			if (strcasecmp(v, t[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcasecmp(v, fl[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	return yerr(L, f, n, -EINVAL, field, "expected true or false");
}

/* @key as a mapping (NULL when absent or null), error when it is something else. */
static int get_map(struct loader *L, struct kfile *f, yaml_node_t *m, const char *key, const char *parent, yaml_node_t **out)
{
	yaml_node_t *n = map_get(f, m, key);
	char field[256];

	*out = NULL;
	if (is_null(n))
		return 0;
	fieldf(field, sizeof(field), "%s.%s", parent, key);
	if (n->type != YAML_MAPPING_NODE)
		return yerr(L, f, n, -EINVAL, field, "expected a mapping");
	*out = n;
	return 0;
}

static int get_seq(struct loader *L, struct kfile *f, yaml_node_t *m, const char *key, const char *parent, yaml_node_t **out)
{
	yaml_node_t *n = map_get(f, m, key);
	char field[256];

	*out = NULL;
	if (is_null(n))
		return 0;
	fieldf(field, sizeof(field), "%s.%s", parent, key);
	if (n->type != YAML_SEQUENCE_NODE)
		return yerr(L, f, n, -EINVAL, field, "expected a list");
	*out = n;
	return 0;
}

/* ---- entries ---- */

static void np_kube_exec_free(struct np_kube_exec *e)
{
	if (!e)
		return;
	free(e->api_version);
	free(e->command);
	np_strv_free(e->args);
	np_strv_free(e->env);
	free(e->interactive_mode);
	free(e);
}

static void entry_free(enum kind k, struct entry *e)
{
	free(e->name);
	switch (k) {
	case K_CLUSTER:
		free(e->cluster.server);
		free(e->cluster.ca_file);
		free(e->cluster.ca_data);
		free(e->cluster.tls_server_name);
		break;
	case K_USER:
		free(e->user.token);
		free(e->user.token_file);
		free(e->user.cert_file);
		free(e->user.cert_data);
		free(e->user.key_file);
		free(e->user.key_data);
		np_kube_exec_free(e->user.exec);
		break;
	default:
		free(e->context.cluster);
		free(e->context.user);
		free(e->context.namespace);
	}
}

static int parse_cluster(struct loader *L, struct kfile *f, yaml_node_t *m, const char *fld, struct kc_cluster *c)
{
	int r;

	if ((r = get_str(L, f, m, "server", fld, &c->server)) < 0 ||
	    (r = get_str(L, f, m, "certificate-authority", fld, &c->ca_file)) < 0 ||
	    (r = get_str(L, f, m, "certificate-authority-data", fld, &c->ca_data)) < 0 ||
	    (r = get_str(L, f, m, "tls-server-name", fld, &c->tls_server_name)) < 0 ||
	    (r = get_bool(L, f, m, "insecure-skip-tls-verify", fld, &c->insecure)) < 0)
		return r;
	return 0;
}

static int parse_strlist(struct loader *L, struct kfile *f, yaml_node_t *seq, const char *fld, char ***out)
{
	size_t n = 0, i = 0;
	int r;

	/* an empty vector, so "args: []" and a missing list both read as no arguments */
	if ((r = np_strv_push(out, &n, "")) < 0)
		return r;
	free((*out)[0]);
	(*out)[0] = NULL;
	n = 0;
	if (!seq)
		return 0;
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *a = ynode(f, *it);
		char field[256];
		fieldf(field, sizeof(field), "%s[%zu]", fld, i);
		if (!a || a->type != YAML_SCALAR_NODE)
			return yerr(L, f, a, -EINVAL, field, "expected a string");
		if (memchr(a->data.scalar.value, '\0', a->data.scalar.length))
			return yerr(L, f, a, -EINVAL, field, "contains a NUL byte");
		if ((r = np_strv_push(out, &n, is_null(a) ? "" : (char *)a->data.scalar.value)) < 0)
			return r;
	}
	return 0;
}

static int parse_env(struct loader *L, struct kfile *f, yaml_node_t *seq, const char *fld, char ***out)
{
	size_t n = 0, i = 0;
	int r;

	if ((r = parse_strlist(L, f, NULL, fld, out)) < 0)
		return r;
	if (!seq)
		return 0; /* `env: null` or absent: no extra variables (shared/cases/32) */
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *m = ynode(f, *it);
		_cleanup_free_ char *name = NULL, *value = NULL;
		char field[256];
		fieldf(field, sizeof(field), "%s[%zu]", fld, i);
		if (!m || m->type != YAML_MAPPING_NODE)
			return yerr(L, f, m, -EINVAL, field, "expected a mapping with name and value");
		if ((r = get_str(L, f, m, "name", field, &name)) < 0 || (r = get_str(L, f, m, "value", field, &value)) < 0)
			return r;
		if (!name || !*name || strchr(name, '='))
			return yerr(L, f, m, -EINVAL, field, "name: expected a variable name");
		if ((r = np_strv_push_take(out, &n, np_asprintf("%s=%s", name, value ? value : ""))) < 0)
			return r;
	}
	return 0;
}

static int parse_exec(struct loader *L, struct kfile *f, yaml_node_t *m, const char *fld, struct np_kube_exec **out)
{
	struct np_kube_exec *e = calloc(1, sizeof(*e));
	yaml_node_t *seq;
	char sub[256];
	int r;

	if (!e)
		return -ENOMEM;
	*out = e;
	if ((r = get_str(L, f, m, "apiVersion", fld, &e->api_version)) < 0 ||
	    (r = get_str(L, f, m, "command", fld, &e->command)) < 0 ||
	    (r = get_str(L, f, m, "interactiveMode", fld, &e->interactive_mode)) < 0 ||
	    (r = get_bool(L, f, m, "provideClusterInfo", fld, &e->provide_cluster_info)) < 0)
		return r;
	fieldf(sub, sizeof(sub), "%s.args", fld);
	if ((r = get_seq(L, f, m, "args", fld, &seq)) < 0 || (r = parse_strlist(L, f, seq, sub, &e->args)) < 0)
		return r;
	fieldf(sub, sizeof(sub), "%s.env", fld);
	if ((r = get_seq(L, f, m, "env", fld, &seq)) < 0 || (r = parse_env(L, f, seq, sub, &e->env)) < 0)
		return r;
	/* the checks of client-go's validation.go validateAuthInfo for exec */
	if (!e->command || !*e->command)
		return yerr(L, f, m, -EINVAL, fld, "command: missing");
	if (!e->api_version || (!streq(e->api_version, "client.authentication.k8s.io/v1") &&
				!streq(e->api_version, "client.authentication.k8s.io/v1beta1")))
		return yerr(L, f, m, -EINVAL, fld,
			    "apiVersion: expected client.authentication.k8s.io/v1 or /v1beta1, got '%s'",
			    e->api_version ? e->api_version : "");
	if (e->interactive_mode && !streq(e->interactive_mode, "Never") &&
	    !streq(e->interactive_mode, "IfAvailable") && !streq(e->interactive_mode, "Always"))
		return yerr(L, f, m, -EINVAL, fld, "interactiveMode: expected Never, IfAvailable or Always, got '%s'",
			    e->interactive_mode);
	if (!e->interactive_mode && streq(e->api_version, "client.authentication.k8s.io/v1"))
		return yerr(L, f, m, -EINVAL, fld, "interactiveMode: must be set for client.authentication.k8s.io/v1");
	if (strchr(e->command, '/') && e->command[0] != '/') {
		char *abs = np_path_resolve(f->dir, e->command);
		if (!abs)
			return -ENOMEM;
		free(e->command);
		e->command = abs;
	}
	return 0;
}

static int parse_user(struct loader *L, struct kfile *f, yaml_node_t *m, const char *fld, struct kc_user *u)
{
	yaml_node_t *x;
	char sub[256];
	int r;

	if ((r = get_str(L, f, m, "token", fld, &u->token)) < 0 ||
	    (r = get_str(L, f, m, "tokenFile", fld, &u->token_file)) < 0 ||
	    (r = get_str(L, f, m, "client-certificate", fld, &u->cert_file)) < 0 ||
	    (r = get_str(L, f, m, "client-certificate-data", fld, &u->cert_data)) < 0 ||
	    (r = get_str(L, f, m, "client-key", fld, &u->key_file)) < 0 ||
	    (r = get_str(L, f, m, "client-key-data", fld, &u->key_data)) < 0)
		return r;
	u->has_auth_provider = !is_null(map_get(f, m, "auth-provider"));
	u->has_basic = !is_null(map_get(f, m, "username")) || !is_null(map_get(f, m, "password"));
	if ((r = get_map(L, f, m, "exec", fld, &x)) < 0)
		return r;
	if (x) {
		fieldf(sub, sizeof(sub), "%s.exec", fld);
		if ((r = parse_exec(L, f, x, sub, &u->exec)) < 0)
			return r;
	}
	return 0;
}

static int parse_context(struct loader *L, struct kfile *f, yaml_node_t *m, const char *fld, struct kc_context *c)
{
	int r;

	if ((r = get_str(L, f, m, "cluster", fld, &c->cluster)) < 0 ||
	    (r = get_str(L, f, m, "user", fld, &c->user)) < 0 ||
	    (r = get_str(L, f, m, "namespace", fld, &c->namespace)) < 0)
		return r;
	return 0;
}

static struct entry *find(struct loader *L, enum kind k, const char *name)
{
	for (size_t i = 0; i < L->n[k]; i++)
		if (streq(L->e[k][i].name, name))
			return &L->e[k][i];
	return NULL;
}

/* One list (clusters, users or contexts) of one file: entries whose name is new are kept. */
static int parse_list(struct loader *L, struct kfile *f, yaml_node_t *root, enum kind k)
{
	yaml_node_t *seq;
	size_t i = 0, first = L->n[k];
	int r;

	if ((r = get_seq(L, f, root, kind_list[k], "", &seq)) < 0 || !seq)
		return r;
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *m = ynode(f, *it), *inner;
		struct entry e = { .f = f };
		char fld[256];

		fieldf(e.field, sizeof(e.field), "%s[%zu]", kind_list[k], i);
		if (!m || m->type != YAML_MAPPING_NODE)
			return yerr(L, f, m, -EINVAL, e.field, "expected a mapping with name and %s", kind_item[k]);
		e.line = (int)m->start_mark.line + 1;
		e.col = (int)m->start_mark.column + 1;
		if ((r = get_str(L, f, m, "name", e.field, &e.name)) < 0)
			return r;
		if (!e.name || !*e.name) {
			free(e.name);
			return yerr(L, f, m, -EINVAL, e.field, "name: missing");
		}
		fieldf(fld, sizeof(fld), "%s.%s", e.field, kind_item[k]);
		r = get_map(L, f, m, kind_item[k], e.field, &inner);
		if (r >= 0 && inner)
			r = k == K_CLUSTER ? parse_cluster(L, f, inner, fld, &e.cluster)
			  : k == K_USER ? parse_user(L, f, inner, fld, &e.user)
			  : parse_context(L, f, inner, fld, &e.context);
		struct entry *dup = find(L, k, e.name);
		if (r >= 0 && dup && dup >= L->e[k] + first)
			r = yerr(L, f, m, -EINVAL, e.field, "duplicate name \"%s\" (also at line %d)", e.name, dup->line);
		if (r < 0 || dup) {
			entry_free(k, &e); /* an earlier file set this name: the first one wins */
			if (r < 0)
				return r;
			continue;
		}
		struct entry *ne = realloc(L->e[k], (L->n[k] + 1) * sizeof(*ne));
		if (!ne) {
			entry_free(k, &e);
			return -ENOMEM;
		}
		L->e[k] = ne;
		L->e[k][L->n[k]++] = e;
	}
	return 0;
}

static int parse_file(struct loader *L, struct kfile *f, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_node_t *root;
	int r;

	if (len > NP_KUBE_FILE_MAX)
		return np_kube_seterr(L->err, -EFBIG, "%s: larger than %u bytes", f->path, NP_KUBE_FILE_MAX);
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &f->doc)) {
		r = np_kube_seterr(L->err, -EINVAL, "%s:%zu:%zu: invalid YAML: %s%s%s", f->path,
				   p.problem_mark.line + 1, p.problem_mark.column + 1,
				   p.problem ? p.problem : "syntax error", p.context ? " " : "",
				   p.context ? p.context : "");
		yaml_parser_delete(&p);
		return r;
	}
	yaml_parser_delete(&p);
	f->have_doc = true;
	root = yaml_document_get_root_node(&f->doc);
	if (is_null(root))
		return 0; /* an empty file is an empty config, as in kubectl */
	if (root->type != YAML_MAPPING_NODE)
		return yerr(L, f, root, -EINVAL, "(top level)", "expected a mapping (apiVersion, clusters, users, contexts)");
	if (!L->current_context && (r = get_str(L, f, root, "current-context", "", &L->current_context)) < 0)
		return r;
	if (L->current_context && !*L->current_context) {
		free(L->current_context); /* an empty value does not count as set */
		L->current_context = NULL;
	}
	for (enum kind k = 0; k < K_MAX; k++)
		if ((r = parse_list(L, f, root, k)) < 0)
			return r;
	return 0;
}

/* ---- resolving the selected context ---- */

static int load_blob(struct loader *L, struct entry *e, const char *what, const char *data, const char *file,
		     char **out, size_t *len)
{
	_cleanup_free_ char *abs = NULL;
	int r;

	if (data && *data) {
		r = np_base64_decode(data, strlen(data), out, len);
		if (r == -EINVAL)
			return np_kube_seterr(L->err, r, "%s:%d:%d: %s \"%s\": %s-data: not valid base64",
					      e->f->path, e->line, e->col, e->field, e->name, what);
		return r;
	}
	if (!file || !*file)
		return 0;
	abs = np_path_resolve(e->f->dir, file);
	if (!abs)
		return -ENOMEM;
	r = np_read_file(abs, NP_KUBE_FILE_MAX, out, len);
	if (r < 0)
		return np_kube_seterr(L->err, r, "%s:%d:%d: %s \"%s\": %s: cannot read %s: %s", e->f->path, e->line,
				      e->col, e->field, e->name, what, abs, strerror(-r));
	return 0;
}

static int resolve_cluster(struct loader *L, struct entry *e, struct np_kube_config *out)
{
	struct kc_cluster *c = &e->cluster;
	const char *s = c->server;
	size_t n;
	int r;

	if (!s || !*s)
		return np_kube_seterr(L->err, -EINVAL, "%s:%d:%d: %s \"%s\": server: missing", e->f->path, e->line,
				      e->col, e->field, e->name);
	if (!np_startswith(s, "https://") && !np_startswith(s, "http://")) {
		if (strstr(s, "://"))
			return np_kube_seterr(L->err, -EINVAL, "%s:%d:%d: %s \"%s\": server: expected https://HOST[:PORT], got '%s'",
					      e->f->path, e->line, e->col, e->field, e->name, s);
		out->server = np_asprintf("https://%s", s); /* client-go's DefaultServerURL: no scheme means https */
	} else {
		out->server = strdup(s);
	}
	if (!out->server)
		return -ENOMEM;
	n = strlen(out->server);
	while (n > 0 && out->server[n - 1] == '/')
		out->server[--n] = '\0';
	if (c->insecure && ((c->ca_data && *c->ca_data) || (c->ca_file && *c->ca_file)))
		return np_kube_seterr(L->err, -EINVAL,
				      "%s:%d:%d: %s \"%s\": insecure-skip-tls-verify: specifying a root certificates file with the insecure flag is not allowed",
				      e->f->path, e->line, e->col, e->field, e->name);
	out->insecure_skip_tls_verify = c->insecure;
	if (c->tls_server_name && *c->tls_server_name && !(out->tls_server_name = strdup(c->tls_server_name)))
		return -ENOMEM;
	r = load_blob(L, e, "certificate-authority", c->ca_data, c->ca_file, &out->ca_pem, &out->ca_len);
	return r;
}

static int resolve_user(struct loader *L, struct entry *e, struct np_kube_config *out)
{
	struct kc_user *u = &e->user;
	int r;

	if (u->has_auth_provider)
		return np_kube_seterr(L->err, -EOPNOTSUPP, "%s:%d:%d: %s \"%s\": auth-provider: not supported, use an exec plugin",
				      e->f->path, e->line, e->col, e->field, e->name);
	if (u->has_basic)
		return np_kube_seterr(L->err, -EOPNOTSUPP, "%s:%d:%d: %s \"%s\": username/password: basic authentication is not supported",
				      e->f->path, e->line, e->col, e->field, e->name);
	if (u->exec && ((u->token && *u->token) || (u->token_file && *u->token_file)))
		return np_kube_seterr(L->err, -EINVAL, "%s:%d:%d: %s \"%s\": exec: more than one authentication method (token and exec)",
				      e->f->path, e->line, e->col, e->field, e->name);
	if ((r = load_blob(L, e, "client-certificate", u->cert_data, u->cert_file, &out->cert_pem, &out->cert_len)) < 0 ||
	    (r = load_blob(L, e, "client-key", u->key_data, u->key_file, &out->key_pem, &out->key_len)) < 0)
		return r;
	if (!out->cert_pem != !out->key_pem)
		return np_kube_seterr(L->err, -EINVAL, "%s:%d:%d: %s \"%s\": %s: set without %s", e->f->path, e->line,
				      e->col, e->field, e->name, out->cert_pem ? "client-certificate" : "client-key",
				      out->cert_pem ? "client-key" : "client-certificate");
	if (u->token && *u->token && !(out->token = strdup(u->token)))
		return -ENOMEM;
	if (u->token_file && *u->token_file && !(out->token_file = np_path_resolve(e->f->dir, u->token_file)))
		return -ENOMEM;
	out->exec = TAKE_PTR(u->exec);
	return 0;
}

static char *files_list(struct loader *L)
{
	size_t n = 1;
	for (size_t i = 0; i < L->nfiles; i++)
		n += strlen(L->files[i].path) + 1;
	char *s = calloc(1, n);
	for (size_t i = 0; s && i < L->nfiles; i++) {
		if (i)
			strcat(s, ":");
		strcat(s, L->files[i].path);
	}
	return s;
}

static int resolve(struct loader *L, const char *context, struct np_kube_config *out)
{
	_cleanup_free_ char *files = files_list(L);
	const char *name = context && *context ? context : L->current_context;
	struct entry *x, *c, *u;
	int r;

	if (!files)
		return -ENOMEM;
	if (!name)
		return np_kube_seterr(L->err, -EINVAL, "%s: current-context: not set (and no context given)", files);
	x = find(L, K_CONTEXT, name);
	if (!x)
		return np_kube_seterr(L->err, -ENOENT, "%s: contexts: no context named \"%s\"", files, name);
	if (!x->context.cluster || !*x->context.cluster)
		return np_kube_seterr(L->err, -EINVAL, "%s:%d:%d: %s \"%s\": cluster: missing", x->f->path, x->line,
				      x->col, x->field, name);
	c = find(L, K_CLUSTER, x->context.cluster);
	if (!c)
		return np_kube_seterr(L->err, -ENOENT, "%s:%d:%d: %s \"%s\": cluster: no cluster named \"%s\" in %s",
				      x->f->path, x->line, x->col, x->field, name, x->context.cluster, files);
	if ((r = resolve_cluster(L, c, out)) < 0)
		return r;
	/* a context without a user is anonymous; a named user must exist */
	if (x->context.user && *x->context.user) {
		u = find(L, K_USER, x->context.user);
		if (!u)
			return np_kube_seterr(L->err, -ENOENT, "%s:%d:%d: %s \"%s\": user: no user named \"%s\" in %s",
					      x->f->path, x->line, x->col, x->field, name, x->context.user, files);
		if ((r = resolve_user(L, u, out)) < 0)
			return r;
	}
	if (x->context.namespace && *x->context.namespace && !(out->namespace = strdup(x->context.namespace)))
		return -ENOMEM;
	if (!(out->context = strdup(name)))
		return -ENOMEM;
	out->source = TAKE_PTR(files);
	return 0;
}

static void loader_free(struct loader *L)
{
	for (enum kind k = 0; k < K_MAX; k++) {
		for (size_t i = 0; i < L->n[k]; i++)
			entry_free(k, &L->e[k][i]);
		free(L->e[k]);
	}
	for (size_t i = 0; i < L->nfiles; i++) {
		free(L->files[i].path);
		free(L->files[i].dir);
		if (L->files[i].have_doc)
			yaml_document_delete(&L->files[i].doc);
	}
	free(L->files);
	free(L->current_context);
}

static int add_file(struct loader *L, const char *path)
{
	struct kfile *nf = realloc(L->files, (L->nfiles + 1) * sizeof(*nf));
	char real[PATH_MAX];

	if (!nf)
		return -ENOMEM;
	L->files = nf;
	nf = &L->files[L->nfiles];
	memset(nf, 0, sizeof(*nf));
	nf->path = strdup(path);
	/* relative paths in a file are relative to the folder of its real path (shared/cases/30) */
	nf->dir = strdup(realpath(path, real) ? real : path);
	if (!nf->path || !nf->dir) {
		free(nf->path);
		free(nf->dir);
		return -ENOMEM;
	}
	char *slash = strrchr(nf->dir, '/');
	if (slash)
		slash[slash == nf->dir ? 1 : 0] = '\0';
	else
		strcpy(nf->dir, ".");
	L->nfiles++;
	return 0;
}

int np_kubeconfig_parse_buf(const char *path, const char *buf, size_t len, const char *context,
			    struct np_kube_config *out, char **err)
{
	struct loader L = { .err = err };
	int r;

	memset(out, 0, sizeof(*out));
	r = add_file(&L, path);
	if (r >= 0)
		r = parse_file(&L, &L.files[0], buf, len);
	if (r >= 0)
		r = resolve(&L, context, out);
	loader_free(&L);
	if (r < 0)
		np_kube_config_free(out);
	return r;
}

/* The file list of client-go's ClientConfigLoadingRules: explicit, else $KUBECONFIG, else ~/.kube/config. */
static int collect_files(const struct np_kubeconfig_opts *o, char ***files, size_t *n, char **err)
{
	_cleanup_free_ char *home = NULL;
	int r;

	if (o->kubeconfig && *o->kubeconfig) {
		if (access(o->kubeconfig, R_OK) < 0)
			return np_kube_seterr(err, negative_errno(), "--kubeconfig %s: %s", o->kubeconfig, strerror(errno));
		return np_strv_push(files, n, o->kubeconfig);
	}
	if (o->kubeconfig_env && *o->kubeconfig_env) {
		_cleanup_(strv_freep) char **parts = NULL;
		size_t np = 0;
		if ((r = np_split(o->kubeconfig_env, ":", &parts, &np)) < 0)
			return r;
		for (size_t i = 0; i < np; i++) {
			if (!*parts[i] || np_strv_contains(*files, parts[i]) || access(parts[i], F_OK) < 0)
				continue; /* kubectl skips missing files in KUBECONFIG */
			if ((r = np_strv_push(files, n, parts[i])) < 0)
				return r;
		}
		if (*n == 0)
			return np_kube_seterr(err, -ENOENT, "KUBECONFIG=%s: none of these files exists", o->kubeconfig_env);
		return 0;
	}
	if (!o->home || !*o->home)
		return np_kube_seterr(err, -ENOENT, "no kubeconfig: neither --kubeconfig, KUBECONFIG nor HOME is set");
	home = np_asprintf("%s/.kube/config", o->home);
	if (!home)
		return -ENOMEM;
	if (access(home, F_OK) < 0)
		return np_kube_seterr(err, -ENOENT, "%s: %s", home, strerror(errno));
	return np_strv_push(files, n, home);
}

int np_kubeconfig_load(const struct np_kubeconfig_opts *o, struct np_kube_config *out, char **err)
{
	_cleanup_(strv_freep) char **files = NULL;
	struct loader L = { .err = err };
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = collect_files(o, &files, &n, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if ((r = add_file(&L, files[i])) < 0)
			break;
		r = np_read_file(files[i], NP_KUBE_FILE_MAX, &buf, &len);
		if (r < 0) {
			np_kube_seterr(err, r, "%s: %s", files[i], r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
			break;
		}
		r = parse_file(&L, &L.files[i], buf, len);
	}
	if (r >= 0)
		r = resolve(&L, o->context, out);
	loader_free(&L);
	if (r < 0)
		np_kube_config_free(out);
	return r;
}

void np_kube_config_free(struct np_kube_config *c)
{
	free(c->server);
	free(c->tls_server_name);
	free(c->ca_pem);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, c->key_len);
	free(c->key_pem);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	np_kube_exec_free(c->exec);
	free(c->namespace);
	free(c->context);
	free(c->source);
	memset(c, 0, sizeof(*c));
}
