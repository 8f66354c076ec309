/* SPDX-License-Identifier: Apache-2.0 */
/*
 * curl_dl.h - libcurl loaded on first use (dlopen "libcurl.so.4"), not at
 * program start. libcurl's dependency tree (TLS, Kerberos, LDAP, SSH, ...)
 * costs about 7 MiB of resident memory at exec time: measured with an empty
 * program linked with -lcurl, 7.7 MiB against 1.0 MiB without. `inspect`,
 * `plan` and `policy` never talk HTTP, so they no longer pay for it.
 * pkg/kube/curl_dl.c defines the nine libcurl entry points the client uses
 * and forwards them to the loaded library.
 */
#pragma once

/*
 * np_curl_load() - load libcurl once. Returns 0, or -ENOENT with a message
 * naming the library and dlerror() in *@err (caller frees) when it cannot be
 * loaded (install the libcurl4 package).
 */
int np_curl_load(char **err);
