/* SPDX-License-Identifier: Apache-2.0 */
/* tcp.h - the tcp collector's parser, public for tests and fuzzing. */
#pragma once

#include "../report/tcp.h"

#include <stddef.h>
#include <stdint.h>

/*
 * np_snmp_get() - one counter of /proc/net/snmp or /proc/net/netstat
 * (net/ipv4/proc.c snmp_seq_show(), netstat_seq_show(): per protocol a line
 * "<Proto>: <name>..." followed by "<Proto>: <value>..." with as many values).
 * @proto without the colon ("Tcp", "TcpExt"). Returns 0 and *@out, -ENOENT
 * (no such protocol or counter), -EINVAL (a header without its values line, a
 * count mismatch, a value that is not a decimal).
 */
int np_snmp_get(const char *buf, size_t len, const char *proto, const char *name, int64_t *out);

/*
 * np_snmp_get_many() - np_snmp_get() of @n counters of one protocol, its two lines walked once:
 * @rc[i] gets what np_snmp_get() would return for @names[i], and @out[i] its value when @rc[i]
 * is 0. Returns 0, or -ENOMEM (@rc then partly filled).
 */
int np_snmp_get_many(const char *buf, size_t len, const char *proto, const char *const *names, size_t n,
		     int64_t *out, int *rc);
