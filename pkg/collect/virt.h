/* SPDX-License-Identifier: Apache-2.0 */
/* virt.h - the virt collector's parsers, public for tests and fuzzing. */
#pragma once

#include "../report/virt.h"

#include <stddef.h>

/*
 * np_virtio_features_parse() - /sys/bus/virtio/devices/virtioN/features
 * (drivers/virtio/virtio.c features_show(): one '0' or '1' per feature bit,
 * bit 0 first, then a newline; 64 characters on current kernels, 32 on old
 * ones). Returns 0 with the numbers of the bits set as a NULL-terminated
 * vector of decimal strings in *@bits (free with np_strv_free(); NULL when
 * none) and their count in *@n, or -EINVAL (another character, empty, more
 * than 128 bits), -ENOMEM.
 */
int np_virtio_features_parse(const char *s, char ***bits, size_t *n);

/* The device type of virtio device ID @id (VIRTIO 1.2, 5 "Device Types"), or NULL. Static. */
const char *np_virtio_type(unsigned id);
