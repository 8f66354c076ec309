// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: /proc/net/snmp and /proc/net/netstat, every counter the tcp section reads, one
 * at a time and all in one walk (np_snmp_get_many()), which must agree.
 */
#include "../../pkg/collect/tcp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	const char *names[NP_TCP__N];
	int64_t got[NP_TCP__N];
	int rc[NP_TCP__N];
	for (int i = 0; i < NP_TCP__N; i++)
		names[i] = np_tcp_counter_name(i);
	for (int i = 0; i < NP_TCP__N; i++) {
		int64_t v;
		int r = np_snmp_get(buf, size, np_tcp_counter_proto(i), np_tcp_counter_name(i), &v);
		/* the one walk for many names answers for each as the walk for one */
		if (np_snmp_get_many(buf, size, np_tcp_counter_proto(i), names, NP_TCP__N, got, rc) < 0)
			continue;
		if (rc[i] != r || (r == 0 && got[i] != v))
			abort();
	}
	free(buf);
	return 0;
}
