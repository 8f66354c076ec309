/* SPDX-License-Identifier: Apache-2.0 */
/*
 * multipath.h - dm-multipath parsers and collector pieces, public for tests
 * and fuzzing.
 *
 * Formats (kernel drivers/md/dm-mpath.c multipath_status(); multipath-tools
 * libmultipath/dmparser.c; Documentation/admin-guide/device-mapper/): the
 * table and the status of a "multipath" target are counted token lists:
 *   table:  <#features> <feature>... <#hw args> [<hw name> <hw args>...]
 *           <#groups> <initial group>
 *           { <selector> <#sel args> <sel arg>... <#paths> <#path args>
 *             { <maj:min> <path arg>... } }
 *   status: <#features> <queue_io> <pg_init_count> [...] <#hw status args> [...]
 *           <#groups> <next group>
 *           { <A|E|D> <#group status args> [...] <#paths> <#path status args>
 *             { <maj:min> <A|F> <fail count> <path status arg>... } }
 * Counts are consumed exactly; leftovers or missing tokens are -EINVAL.
 */
#pragma once

#include "../report/multipath.h"
#include "../shared/hostfs.h"

#include <stddef.h>
#include <stdint.h>

/*
 * np_dm_line_params() - split one `dmsetup table|status` line,
 * "[<name>: ]<start> <length> <target> <params>", into its parts.
 * *@name (may be NULL when the line has no prefix), *@target and *@params
 * are malloc'd (caller frees). Returns 0, or -EINVAL.
 */
int np_dm_line_params(const char *line, char **name, char **target, char **params);

/*
 * np_dm_mpath_parse_table() - parse a multipath table's params into @m:
 * features, hardware_handler, groups (selector, paths with major_minor and
 * args). @m's previous groups/features are replaced. Returns 0, -EINVAL
 * (malformed: *@why, when not NULL, gets a static reason), -ENOMEM.
 */
int np_dm_mpath_parse_table(const char *params, struct np_mpath_map *m, const char **why);

/*
 * np_dm_mpath_parse_status() - parse a multipath status into @m. When @m
 * already has groups (from the table), the status must describe the same
 * groups and paths (same count, same maj:min) and only adds states
 * (-EINVAL otherwise: table and status disagree); else the groups are built
 * from the status. Returns 0, -EINVAL, -ENOMEM.
 */
int np_dm_mpath_parse_status(const char *params, struct np_mpath_map *m, const char **why);

/* Name each path of @m ("8:0" -> "sda") through /sys/dev/block/M:m under the host root. */
void np_mpath_path_names(const struct np_host *h, struct np_mpath_map *m);

/* multipathd's view of one path / group / map (`show maps json`). */
struct np_mpd_path {
	char *dev, *dev_t, *dm_st, *dev_st, *chk_st;
};

struct np_mpd_group {
	bool have_pri;
	int64_t pri;
	int64_t group;   /* 1-based "group" number; 0 when absent */
	char *dm_st;
	struct np_mpd_path *paths;
	size_t n_paths;
};

struct np_mpd_map {
	char *name, *uuid, *sysfs;
	bool have_paths_active;
	int64_t paths_active;  /* JSON "paths": the number of ACTIVE paths, not all (case 15) */
	int64_t path_faults;   /* a lifetime counter, not a state */
	char *queueing;        /* "on", "off", "-", "N chk", "N sec" (print.c snprint_queueing()) */
	struct np_mpd_group *groups;
	size_t n_groups;
};

struct np_mpd {
	int64_t major_version, minor_version;
	struct np_mpd_map *maps;
	size_t n_maps;
};

/*
 * np_multipathd_parse_json() - parse the reply to `show maps json` (or
 * `show topology json`): libmultipath/print.h templates, tolerant of version
 * differences (missing keys, numbers printed as strings). Returns 0,
 * -EINVAL (not JSON, or no "maps" array), -ENOMEM. Free with np_mpd_free().
 */
int np_multipathd_parse_json(const char *buf, size_t len, struct np_mpd *out);
void np_mpd_free(struct np_mpd *d);

/*
 * np_multipathd_config_int() - the integer @key of top-level section @section
 * ("defaults") in multipathd's reply to `show config` (libmultipath/print.c
 * snprint_config(): "<section> {" lines, then "\t<key> <value>" lines up to
 * "}"; nested sections such as "device {" are skipped). Returns 0 and *@out,
 * -ENOENT (no such section or key), -EINVAL (the value is not an integer).
 */
int np_multipathd_config_int(const char *cfg, const char *section, const char *key, int64_t *out);

/*
 * np_multipathd_merge() - add multipathd's checker/device state and group
 * priority to the maps of @s, matching maps by dm name ("sysfs"), uuid or
 * name, groups by position and paths by maj:min (then by name). Returns the
 * number of paths matched.
 */
size_t np_multipathd_merge(struct np_multipath *s, const struct np_mpd *d);

