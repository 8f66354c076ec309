/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sections.h - the report's sections, one line each: the section's header
 * pkg/report/<name>.h. report.h reads this file twice: first for the sections'
 * types, then, with NP_REPORT_MEMBER(name) defined, for the members of struct
 * np_report: each section header ends, outside its include guard, with
 * NP_REPORT_MEMBER(<name>), which gives the member struct np_<name> <name>.
 * No include guard here: the second pass needs it.
 */
#include "block.h"
#include "gpu.h"
#include "kernel.h"
#include "kmsg.h"
#include "modules.h"
#include "mounts.h"
#include "multipath.h"
#include "net.h"
#include "numa.h"
#include "nvme.h"
#include "pci.h"
#include "rdma.h"
#include "tcp.h"
#include "timeouts.h"
#include "virt.h"
#include "volumes.h"
