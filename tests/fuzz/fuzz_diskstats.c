// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: /proc/diskstats parser, the iostat arithmetic between
 * consecutive lines, and the stall detector fed the parsed sample twice
 * (the second time with every counter frozen and one I/O in flight).
 */
#include "../../pkg/collect/diskstats.h"
#include "../../pkg/collect/stall.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_diskstats s;
	int r = np_diskstats_parse((const char *)data, size, &s);
	if (r == -ENOMEM)
		abort();
	for (size_t i = 1; i < s.n; i++) {
		struct np_block_rates rt;
		np_ds_rates(&s.dev[i - 1].c, &s.dev[i].c, 1000.0, &rt);
	}
	struct np_stall_cfg cfg = { .stall_ms = 1, .await_ms = 1, .await_window_ms = 2 };
	struct np_stall_detector *d = np_stall_new(&cfg);
	if (!d)
		abort();
	np_stall_feed(d, &s, 0);
	for (size_t i = 0; i < s.n; i++)
		s.dev[i].c.v[NP_DS_IN_FLIGHT] = 1;
	np_stall_feed(d, &s, 5);
	const struct np_stall_event *ev;
	size_t n = np_stall_events(d, &ev);
	for (size_t i = 0; i < n; i++)
		if (ev[i].duration_ms < 0)
			abort();
	np_stall_free(d);
	np_diskstats_free(&s);
	return 0;
}
