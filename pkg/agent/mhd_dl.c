// SPDX-License-Identifier: Apache-2.0
/* mhd_dl.c - the part of libmicrohttpd's API the metrics endpoint uses, forwarded to a library loaded with dlopen(3). */
#define _GNU_SOURCE
#include "mhd_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <microhttpd.h>

#define LIBMHD "libmicrohttpd.so.12"

static struct {
	struct MHD_Daemon *(*start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
					      MHD_AccessHandlerCallback, void *, va_list);
	void (*stop_daemon)(struct MHD_Daemon *);
	enum MHD_Result (*run)(struct MHD_Daemon *);
	enum MHD_Result (*get_timeout)(struct MHD_Daemon *, MHD_UNSIGNED_LONG_LONG *);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	struct MHD_Response *(*create_response_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
	void (*destroy_response)(struct MHD_Response *);
	void *lib;
} fn;

int np_mhd_load(const char **err)
{
	static char msg[512];
	if (fn.lib)
		return 0;
	void *lib = dlopen(LIBMHD, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(msg, sizeof(msg), "cannot load %s (Debian package libmicrohttpd12): %s", LIBMHD, dlerror());
		*err = msg;
		return -ENOENT;
	}
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&fn.start_daemon_va, "MHD_start_daemon_va" },
		{ (void **)&fn.stop_daemon, "MHD_stop_daemon" },
		{ (void **)&fn.run, "MHD_run" },
		{ (void **)&fn.get_timeout, "MHD_get_timeout" },
		{ (void **)&fn.get_daemon_info, "MHD_get_daemon_info" },
		{ (void **)&fn.create_response_from_buffer, "MHD_create_response_from_buffer" },
		{ (void **)&fn.add_response_header, "MHD_add_response_header" },
		{ (void **)&fn.queue_response, "MHD_queue_response" },
		{ (void **)&fn.destroy_response, "MHD_destroy_response" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			dlclose(lib);
			snprintf(msg, sizeof(msg), "%s has no %s", LIBMHD, syms[i].name);
			*err = msg;
			return -ENOENT;
		}
	}
	fn.lib = lib;
	return 0;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
				    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	if (!fn.start_daemon_va) {
		errno = ENOENT;
		return NULL;
	}
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *d = fn.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
	if (fn.stop_daemon && d)
		fn.stop_daemon(d);
}

enum MHD_Result MHD_run(struct MHD_Daemon *d)
{
	return fn.run ? fn.run(d) : MHD_NO;
}

enum MHD_Result MHD_get_timeout(struct MHD_Daemon *d, MHD_UNSIGNED_LONG_LONG *timeout)
{
	return fn.get_timeout ? fn.get_timeout(d, timeout) : MHD_NO;
}

/* Only info types without further arguments are asked for (MHD_DAEMON_INFO_EPOLL_FD). */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...)
{
	return fn.get_daemon_info ? fn.get_daemon_info(d, type) : NULL;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buf, enum MHD_ResponseMemoryMode mode)
{
	return fn.create_response_from_buffer ? fn.create_response_from_buffer(size, buf, mode) : NULL;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *header, const char *content)
{
	return fn.add_response_header ? fn.add_response_header(r, header, content) : MHD_NO;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int code, struct MHD_Response *r)
{
	return fn.queue_response ? fn.queue_response(c, code, r) : MHD_NO;
}

void MHD_destroy_response(struct MHD_Response *r)
{
	if (fn.destroy_response && r)
		fn.destroy_response(r);
}
