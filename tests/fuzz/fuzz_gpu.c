// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: /proc/driver/nvidia/version and gpus/<addr>/information parsers, and
 * amdgpu's ras/<block>_err_count parser.
 */
#include "../../pkg/collect/gpu.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_str(const char *s)
{
	if (s && (!*s || strlen(s) > 128))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = strndup((const char *)data, size);
	if (!buf)
		return 0;
	char *v = NULL;
	if (np_nvidia_version_parse(buf, &v) == 0 && (!v || !*v || strlen(v) > 64))
		abort();
	free(v);
	v = NULL;
	np_nvidia_info_field(buf, "Video BIOS", &v);
	free(v);

	struct np_gpu_dev d;
	np_gpu_dev_init(&d);
	if (np_nvidia_info_parse(buf, &d) == 0) {
		check_str(d.model);
		check_str(d.vbios);
		check_str(d.uuid);
		check_str(d.bus_type);
		check_str(d.bus_location);
		if (d.irq < -1 || d.device_minor < -1 || d.excluded < -1 || d.excluded > 1)
			abort();
	}
	free(d.model);
	free(d.vbios);
	free(d.uuid);
	free(d.bus_type);
	free(d.bus_location);

	int64_t ue, ce, de;
	int r = np_amdgpu_ras_parse(buf, &ue, &ce, &de);
	if (r == 0 && (ue < 0 || ce < 0 || de < -1))
		abort();
	if (r < 0 && (ue != -1 || ce != -1 || de != -1 || (r != -EINVAL && r != -EAGAIN)))
		abort();
	free(buf);
	return 0;
}
