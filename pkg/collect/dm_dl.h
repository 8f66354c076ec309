/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dm_dl.h - libdevmapper loaded with dlopen("libdevmapper.so.1.02.1") only
 * when a dm-multipath map is read on a host whose device-mapper control
 * device is reachable (as libcurl is: pkg/kube/curl_dl.c). Its closure
 * (libselinux, libpcre2) was mapped at every start for nothing on nodes
 * without multipath. dm_dl.c defines the libdevmapper entry points
 * multipath.c calls (<libdevmapper.h>) and forwards them.
 */
#pragma once

/*
 * np_dm_load() - load libdevmapper once, silence its log (it would print to
 * stderr) and turn off udev synchronisation (read-only tasks). Returns 0,
 * or -ENOENT with a message naming the library (Debian package
 * libdevmapper1.02.1) and dlerror() in *@why (caller frees; NULL on -ENOMEM).
 */
int np_dm_load(char **why);
