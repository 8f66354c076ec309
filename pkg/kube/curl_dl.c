// SPDX-License-Identifier: Apache-2.0
/* curl_dl.c - libcurl's easy API, forwarded to a library loaded with dlopen(3) on first use. */
#define _GNU_SOURCE
#include "curl_dl.h"
#include "util.h"

#define CURL_DISABLE_TYPECHECK 1 /* we define the functions the checking macros wrap */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#define LIBCURL "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	void *lib;
} fn;

int np_curl_load(char **err)
{
	if (fn.lib)
		return 0;
	/*
	 * libcurl4 does TLS with OpenSSL, but librtmp and libldap in its closure link GnuTLS, whose
	 * constructor initializes GnuTLS at load time (gnutls_global_init(): about 0.9 MiB resident)
	 * for nothing that runs here. GNUTLS_NO_IMPLICIT_INIT=1 (GnuTLS's documented switch) skips that
	 * for this load; a user of GnuTLS initializes it explicitly (libmicrohttpd's constructor does).
	 * Set only for the dlopen() and only when unset, so children (exec plugins) never see it; the
	 * process has one thread here (the agent's loop is single-threaded, metrics too).
	 */
	bool set = !getenv("GNUTLS_NO_IMPLICIT_INIT") && setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0) == 0;
	void *lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
	if (set)
		unsetenv("GNUTLS_NO_IMPLICIT_INIT");
	if (!lib)
		return np_kube_seterr(err, -ENOENT, "cannot load %s (Debian package libcurl4): %s", LIBCURL, dlerror());
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&fn.global_init, "curl_global_init" },   { (void **)&fn.easy_init, "curl_easy_init" },
		{ (void **)&fn.easy_cleanup, "curl_easy_cleanup" }, { (void **)&fn.easy_setopt, "curl_easy_setopt" },
		{ (void **)&fn.easy_getinfo, "curl_easy_getinfo" }, { (void **)&fn.easy_perform, "curl_easy_perform" },
		{ (void **)&fn.easy_strerror, "curl_easy_strerror" }, { (void **)&fn.slist_append, "curl_slist_append" },
		{ (void **)&fn.slist_free_all, "curl_slist_free_all" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			dlclose(lib);
			return np_kube_seterr(err, -ENOENT, "%s has no %s", LIBCURL, syms[i].name);
		}
	}
	fn.lib = lib;
	return 0;
}

CURLcode curl_global_init(long flags)
{
	return fn.global_init ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return fn.easy_init ? fn.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *h)
{
	if (fn.easy_cleanup && h)
		fn.easy_cleanup(h);
}

/* The variadic argument's type follows from the option's number (curl.h's CURLOPTTYPE_*). */
CURLcode(curl_easy_setopt)(CURL *h, CURLoption opt, ...)
{
	if (!fn.easy_setopt)
		return CURLE_FAILED_INIT;
	va_list ap;
	CURLcode rc;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = fn.easy_setopt(h, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn.easy_setopt(h, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = fn.easy_setopt(h, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		rc = fn.easy_setopt(h, opt, va_arg(ap, curl_off_t));
	else
		rc = fn.easy_setopt(h, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode(curl_easy_getinfo)(CURL *h, CURLINFO info, ...)
{
	if (!fn.easy_getinfo)
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, info);
	CURLcode rc = fn.easy_getinfo(h, info, va_arg(ap, void *)); /* always a pointer to the result */
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *h)
{
	return fn.easy_perform ? fn.easy_perform(h) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode c)
{
	return fn.easy_strerror ? fn.easy_strerror(c) : "libcurl not loaded";
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return fn.slist_append ? fn.slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (fn.slist_free_all)
		fn.slist_free_all(l);
}
