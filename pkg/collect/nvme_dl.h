/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvme_dl.h - libnvme loaded with dlopen("libnvme.so.1") only when a host
 * NVMe controller's device node is opened (as libcurl is: pkg/kube/curl_dl.c).
 * libnvme's closure (libcrypto 3, json-c) cost every run about 3 ms of
 * startup and 1 MiB resident on nodes with no NVMe at all. nvme_dl.c defines
 * the two exported entry points that libnvme's inline helpers in <nvme/ioctl.h>
 * call (nvme_identify, nvme_get_log_page; libnvme 1.3) and forwards them.
 */
#pragma once

/*
 * np_nvme_load() - load libnvme once. Returns 0, or -ENOENT with a message
 * naming the library (Debian package libnvme1) and dlerror() in *@why
 * (caller frees; NULL on -ENOMEM) when it or an entry point is missing.
 */
int np_nvme_load(char **why);
