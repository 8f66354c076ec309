// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: /proc/net/snmp and /proc/net/netstat, every counter the tcp section reads. */
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
	for (int i = 0; i < NP_TCP__N; i++) {
		int64_t v;
		np_snmp_get(buf, size, np_tcp_counter_proto(i), np_tcp_counter_name(i), &v);
	}
	free(buf);
	return 0;
}
