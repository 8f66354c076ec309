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
