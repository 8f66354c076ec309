/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mounts.h - the "mounts" section: the host's mount table as the kernel
 * shows it in /proc/<pid>/mountinfo (proc(5), "/proc/pid/mountinfo";
 * fs/proc_namespace.c show_mountinfo()), escapes decoded, and an index
 * block device (major:minor) -> mount points. docs/report/mounts.md.
 */
#ifndef NP_REPORT_MOUNTS_H
#define NP_REPORT_MOUNTS_H

#include "bundle.h"
#include "out.h"
#include "status.h"

#include <stddef.h>
#include <stdint.h>

struct np_mount {
	uint64_t mount_id;     /* field 1: unique id of the mount */
	uint64_t parent_id;    /* field 2: id of the parent mount (itself for the root of the tree) */
	unsigned major, minor; /* field 3: st_dev of files on this filesystem */
	char *root;            /* field 4: path inside the filesystem that forms this mount's root */
	char *mount_point;     /* field 5: relative to the reading process's root */
	char *options;         /* field 6: per-mount options */
	char **optional;       /* fields 7..: "shared:N", "master:N", "propagate_from:N", "unbindable" */
	char *fstype;          /* after "-": "type[.subtype]" */
	char *source;          /* after "-": filesystem specific, "none", or "" */
	char *super_options;   /* after "-": per-superblock options */
};

/* One block device (major != 0 and present in /sys/dev/block) and its mounts. */
struct np_mount_dev {
	unsigned major, minor;
	char *name;            /* kernel name from /sys/dev/block/M:m ("vda", "loop0p1"), NULL if unknown */
	size_t *mounts;        /* indexes into np_mounts.mounts, in mountinfo order */
	size_t n_mounts;
};

struct np_mounts {
	struct np_status status;
	char *source_path;     /* the mountinfo file read, e.g. "/proc/1/mountinfo" */
	struct np_mount *mounts;
	size_t n;
	struct np_mount_dev *devices;
	size_t n_devices;
	unsigned bad_lines;    /* lines that did not parse (the first is named in status) */
};

/* Release one entry's strings (not the struct itself). */
void np_mount_free(struct np_mount *m);
void np_mounts_free(struct np_mounts *s);
json_t *np_mounts_to_json(const struct np_mounts *s);
void np_mounts_print(const struct np_mounts *s, struct np_out *o);
int np_mounts_bundle(const struct np_mounts *s, struct np_bundle *b);

#endif /* NP_REPORT_MOUNTS_H */

/* Its member of struct np_report: report.h reads this header a second time for it (sections.h). */
#ifdef NP_REPORT_MEMBER
NP_REPORT_MEMBER(mounts)
#endif
