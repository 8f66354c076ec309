/* SPDX-License-Identifier: Apache-2.0 */
/*
 * block.h - parsers of the block collector, exposed for tests and fuzzing.
 * Sources: Documentation/ABI/stable/sysfs-block (queue attributes, size, holders,
 * slaves), Documentation/block/switching-sched.rst (scheduler), the udev
 * database written by systemd-udevd (/run/udev/data/b<major>:<minor>, see
 * systemd src/libsystemd/sd-device/device-private.c device_update_db()).
 */
#pragma once

#include "../report/block.h"

#include <stddef.h>
#include <stdint.h>

struct np_collect_ctx;

/* Largest udev database file accepted (real ones are a few KiB). */
#define NP_UDEV_DB_MAX (1u << 20)

/*
 * np_udev_db_parse() - the udev database file of one device: lines "X:data"
 * where X is a letter (S: symlink, L: link priority, W: watch, I: init time,
 * E: property KEY=VALUE, G:/Q: tags, V: version). Returns the E: properties as
 * a malloc'd NULL-terminated "KEY=VALUE" vector in *@props (np_strv_free) and
 * 0, or -EINVAL when some lines are malformed (the good properties are still
 * returned, *@bad counts the rest) or -ENOMEM. *@props is never NULL on
 * success or -EINVAL.
 */
int np_udev_db_parse(const char *buf, size_t len, char ***props, size_t *bad);

/* Value of @key in a KEY=VALUE vector, or NULL (borrowed). */
const char *np_udev_prop(char *const *props, const char *key);

/*
 * np_udev_unescape() - decode udev's \xNN escapes (ID_MODEL_ENC, ID_VENDOR_ENC:
 * udev_util_encode_string()), trim spaces. Returns a malloc'd string or NULL
 * (ENOMEM). Bytes that are not printable become '?'.
 */
char *np_udev_unescape(const char *s);

/*
 * np_udev_identity() - vendor, model, serial and WWN from udev properties, as
 * lsblk reads them: ID_VENDOR_ENC/ID_MODEL_ENC decoded (spaces kept) else
 * ID_VENDOR/ID_MODEL, ID_SERIAL_SHORT else ID_SERIAL, ID_WWN_WITH_EXTENSION
 * else ID_WWN. Each out string is malloc'd, or NULL when absent or empty.
 * Returns how many were found (0-4).
 */
int np_udev_identity(char *const *props, char **vendor, char **model, char **serial, char **wwn);

/*
 * np_block_parse_scheduler() - queue/scheduler ("none [mq-deadline] kyber bfq"):
 * the bracketed active one in *@active (or the single name when there is one
 * and no brackets, as single-queue "none" prints), every name in *@all.
 * Returns 0, -EINVAL (empty, or more than one bracketed name), -ENOMEM. Caller frees.
 */
int np_block_parse_scheduler(const char *s, char **active, char ***all);

/*
 * np_block_transport() - the transport of a device: from udev ID_PATH (e.g.
 * "pci-0000:00:17.0-ata-1" -> "sata", "...-nvme-1" -> "nvme", "ip-...-iscsi-..."
 * -> "iscsi", "...-fc-..." -> "fc", "...-sas-..." -> "sas", "...-usb-..." -> "usb")
 * and ID_BUS, else from the device's sysfs path (/nvme/, /ata, /virtio,
 * /session (iscsi), /rport- (fc), /end_device- or /port- (sas), /usb, /mmc_host/,
 * /vbd- (xen)). Returns a static string or NULL when unknown/virtual.
 */
const char *np_block_transport(const char *id_path, const char *id_bus, const char *syspath);

/*
 * np_block_kind() - kind of a device from its name and sysfs facts: "partition"
 * (has a partition attribute), "dm" (dm/ folder), "md" (md/ folder), "loop",
 * "nvme" (nvmeXnY), "rom" (srN), "zram" ... else "disk". Static string.
 */
const char *np_block_kind(const char *name, bool is_partition, bool has_dm, bool has_md);

/*
 * np_block_watch_stalls() - the agent's stall watch between its collections:
 * one read of /proc/diskstats (Documentation/admin-guide/iostats.rst) fed to
 * the block section's stall detector kept in @ctx->states, the one its
 * collections feed (stall.h). Returns how many stalls began at this sample
 * (> 0: the caller collects and publishes them now), 0 when none, -ENODATA
 * when @ctx keeps no detector (a one-shot command), or -errno of the read or
 * the feed (-ENOMEM).
 */
int np_block_watch_stalls(const struct np_collect_ctx *ctx);

/*
 * np_block_stall_next_ms() - when the watch's next sample is worth taking,
 * CLOCK_MONOTONIC ms: the moment a device with I/O in flight and nothing
 * completed would become stalled, and at most half the stall threshold after
 * the last sample (a stall that starts on an idle device is then declared
 * within 1.5 thresholds of its last completion, whatever the poll period).
 * INT64_MAX when @ctx keeps no detector or it has no sample yet.
 */
int64_t np_block_stall_next_ms(const struct np_collect_ctx *ctx);
