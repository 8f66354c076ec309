// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: /proc/[pid]/stat and /proc/stat (btime) parsers of the process_* metrics. */
#include "../../pkg/agent/process.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t a, b, c;
	np_proc_stat_parse((const char *)data, size, &a, &b, &c);
	np_proc_btime_parse((const char *)data, size, &a);
	return 0;
}
