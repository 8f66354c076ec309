// SPDX-License-Identifier: Apache-2.0
#include "mounts.h"
#include "json.h"
#include "report.h"
#include "section.h"
#include "../shared/strutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "M:m" into @buf (at least 24 bytes); returns @buf. */
static char *np_format_devnum(unsigned major, unsigned minor, char *buf, size_t size)
{
	snprintf(buf, size, "%u:%u", major, minor);
	return buf;
}

void np_mount_free(struct np_mount *m)
{
	free(m->root);
	free(m->mount_point);
	free(m->options);
	np_strv_free(m->optional);
	free(m->fstype);
	free(m->source);
	free(m->super_options);
}

void np_mounts_free(struct np_mounts *s)
{
	for (size_t i = 0; i < s->n; i++)
		np_mount_free(&s->mounts[i]);
	free(s->mounts);
	for (size_t i = 0; i < s->n_devices; i++) {
		free(s->devices[i].name);
		free(s->devices[i].mounts);
	}
	free(s->devices);
	free(s->source_path);
	np_status_clear(&s->status);
	*s = (struct np_mounts){ 0 };
}

static json_t *mount_to_json(const struct np_mount *m)
{
	char dev[24];
	json_t *o = json_object();
	np_json_u64(o, "mount_id", m->mount_id);
	np_json_u64(o, "parent_id", m->parent_id);
	np_json_str(o, "major_minor", np_format_devnum(m->major, m->minor, dev, sizeof(dev)));
	np_json_str(o, "root", m->root);
	np_json_str(o, "mount_point", m->mount_point);
	np_json_str(o, "fstype", m->fstype);
	np_json_str(o, "source", m->source);
	np_json_str(o, "options", m->options);
	np_json_str(o, "super_options", m->super_options);
	json_object_set_new(o, "optional_fields", np_json_strv(m->optional));
	return o;
}

json_t *np_mounts_to_json(const struct np_mounts *s)
{
	char dev[24];
	json_t *o = json_object();
	np_json_str(o, "source_path", s->source_path);
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, mount_to_json(&s->mounts[i]));
	json_object_set_new(o, "mounts", a);
	json_t *d = json_array();
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct np_mount_dev *md = &s->devices[i];
		json_t *e = json_object();
		np_json_str(e, "major_minor", np_format_devnum(md->major, md->minor, dev, sizeof(dev)));
		np_json_str(e, "name", md->name);
		json_t *mp = json_array();
		for (size_t k = 0; k < md->n_mounts; k++) {
			const struct np_mount *m = &s->mounts[md->mounts[k]];
			json_t *x = json_object();
			np_json_str(x, "mount_point", m->mount_point);
			np_json_str(x, "root", m->root);
			np_json_str(x, "fstype", m->fstype);
			np_json_str(x, "options", m->options);
			np_json_str(x, "super_options", m->super_options);
			json_array_append_new(mp, x);
		}
		json_object_set_new(e, "mounts", mp);
		json_array_append_new(d, e);
	}
	json_object_set_new(o, "devices", d);
	np_json_u64(o, "bad_lines", s->bad_lines);
	np_status_to_json(&s->status, o);
	return o;
}

void np_mounts_print(const struct np_mounts *s, struct np_out *o)
{
	static const char *const hdr[] = { "DEVICE", "MAJ:MIN", "MOUNT POINT", "FSTYPE", "OPTIONS" };
	char dev[24];
	np_out_heading(o, "Mounts (block devices)");
	if (s->status.err)
		np_out_error(o, s->status.error);
	struct np_table *t = np_table_new(5, hdr);
	if (!t)
		return;
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct np_mount_dev *md = &s->devices[i];
		np_format_devnum(md->major, md->minor, dev, sizeof(dev));
		for (size_t k = 0; k < md->n_mounts; k++) {
			const struct np_mount *m = &s->mounts[md->mounts[k]];
			const char *cells[] = { md->name, dev, m->mount_point, m->fstype, m->options };
			np_table_add(t, NP_TONE_PLAIN, cells);
		}
	}
	np_table_print_free(t, o);
	np_out_kvf(o, "mounts", "%zu in %s (%zu on block devices)", s->n,
		   s->source_path ? s->source_path : "-", s->n_devices);
}

int np_mounts_bundle(const struct np_mounts *s, struct np_bundle *b)
{
	(void)s;
	(void)b;
	return 0;
}

NP_SECTION_SOURCE(mounts, 80, "the mount table", "MountsUnreadable", NULL);
