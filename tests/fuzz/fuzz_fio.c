// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: fio's --output-format=json parser (pkg/collect/fio.c) and,
 * on the same bytes, the stored-record reader (np_bench_record_from_json), the
 * input of `baseline show` and of the class's ConfigMap. Seeds: real fio 3.33
 * captures (tests/fixtures/fio/).
 */
#include "../../pkg/collect/fio.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_fio_result res;
	char *err = NULL;
	int r = np_fio_parse_json((const char *)data, size, &res, &err);
	if (r == -ENOMEM)
		abort();
	if (r < 0 && !err)
		abort(); /* every failure says why */
	for (unsigned f = 0; r == 0 && f < NP_BF_N; f++)
		if (!isfinite(res.fig.v[f]) || res.fig.v[f] < 0)
			abort();
	free(err);
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	if (j) {
		struct np_bench_record rec;
		err = NULL;
		if (np_bench_record_from_json(j, &rec, &err) == 0) {
			json_t *back = np_bench_record_to_json(&rec);
			json_decref(back);
			char *key = np_bench_record_key(&rec);
			free(key);
			np_bench_record_free(&rec);
		}
		free(err);
		json_decref(j);
	}
	return 0;
}
