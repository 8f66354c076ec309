/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mhd_dl.h - libmicrohttpd loaded on first use (dlopen "libmicrohttpd.so.12"),
 * only when the agent serves metrics (--metrics-address), as pkg/kube/curl_dl.h
 * does for libcurl. Linked, libmicrohttpd and its GnuTLS closure (gnutls,
 * p11-kit, nettle, hogweed, gmp, tasn1, idn2, unistring, ffi) cost about
 * 3 MiB of resident memory in every command, `version` included: its
 * constructor runs gnutls_global_init(). pkg/agent/mhd_dl.c defines the eight
 * entry points pkg/agent/metrics.c uses and forwards them to the loaded library.
 */
#pragma once

/*
 * np_mhd_load() - load libmicrohttpd once. Returns 0, or -ENOENT with a
 * message naming the library and dlerror() in *@err (static storage, not to
 * be freed) when it cannot be loaded (install the libmicrohttpd12 package).
 */
int np_mhd_load(const char **err);
