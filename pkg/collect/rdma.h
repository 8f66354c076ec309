/* SPDX-License-Identifier: Apache-2.0 */
/* rdma.h - the rdma collector's parsers, public for tests and fuzzing. */
#pragma once

#include "../report/rdma.h"

/*
 * np_rdma_state_parse() - a "<number>: <name>" attribute of
 * /sys/class/infiniband: ports/N/state (drivers/infiniband/core/sysfs.c
 * state_show(): "%d: %s", "4: ACTIVE"), ports/N/phys_state ("5: LinkUp",
 * "7: Phy Test") and node_type ("1: CA"). Returns 0 with the number (0..255)
 * in *@code and the name in *@name (malloc'd, caller frees), or -EINVAL (no
 * number, no ": ", an empty, non-printable or over-long name), -ENOMEM.
 */
int np_rdma_state_parse(const char *s, int *code, char **name);

/*
 * np_rdma_rate_parse() - ports/N/rate (rate_show(): "%d%s Gb/sec (%dX %s)",
 * "100 Gb/sec (4X EDR)", "2.5 Gb/sec (1X SDR)"): the leading number, Gb/s.
 * Returns 0, or -EINVAL when it is not "<digits>[.<digits>] Gb/sec...".
 */
int np_rdma_rate_parse(const char *s, double *gbps);
