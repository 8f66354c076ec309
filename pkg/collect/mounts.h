/* SPDX-License-Identifier: Apache-2.0 */
/* mounts.h - the mountinfo parser, exposed for the volumes collector, tests and fuzzing. */
#pragma once

#include "../report/mounts.h"
#include "../shared/hostfs.h"

struct np_collect_ctx;

#include <stddef.h>

/*
 * np_parse_mountinfo() - parse /proc/<pid>/mountinfo text.
 *
 * Format (proc(5), "/proc/pid/mountinfo"; fs/proc_namespace.c show_mountinfo()):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)      (6)      (7..)  (-) (8)    (9)       (10)
 * fields separated by exactly one space (an empty source shows as two spaces);
 * zero or more optional fields end at the "-" separator; the kernel escapes
 * space, tab, newline and backslash in paths as octal \040 \011 \012 \134,
 * decoded here (any \ooo from \001 to \377 is decoded; others are kept as is).
 *
 * Appends every line that parses to @out->mounts (caller frees with
 * np_mounts_free()). Lines that do not parse are counted in @out->bad_lines
 * and the first one is named in @out->status; the good lines are kept.
 * Returns 0, -EINVAL when at least one line was malformed (truncated, binary,
 * missing separator, bad numbers) or nothing parsed from non-empty input, or
 * -ENOMEM.
 */
int np_parse_mountinfo(const char *buf, size_t len, struct np_mounts *out);

/*
 * np_mountinfo_unescape() - decode the octal escapes of one mountinfo field
 * in place (see above). Returns @s.
 */
char *np_mountinfo_unescape(char *s);

/*
 * np_read_host_mountinfo() - read and parse the host's mount table through
 * the host root: /proc/1/mountinfo (the host's init, so host paths even from
 * a container that mounts the host's /proc), else /proc/self/mountinfo.
 * Fills @out (source_path names the file read). Returns 0, -EINVAL (some
 * lines malformed, the rest kept), -EFBIG (over 16 MiB), or the -errno of
 * the read of /proc/self/mountinfo when neither could be read.
 */
int np_read_host_mountinfo(const struct np_host *h, struct np_mounts *out);
/* The same through @ctx: in a collection pass the files are read once for every section (np_collect_read()). */
int np_collect_mountinfo(const struct np_collect_ctx *ctx, struct np_mounts *out);

