// SPDX-License-Identifier: Apache-2.0
/* benchstore.c - records as JSON files in the state directory (see benchstore.h). */
#define _GNU_SOURCE
#include "benchstore.h"
#include "../shared/hostfs.h"
#include "../shared/macro.h"
#include "../shared/strutil.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static int mkdir_p(const char *dir)
{
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return negative_errno();
	_cleanup_free_ char *parent = strdup(dir);
	if (!parent)
		return -ENOMEM;
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -ENOENT;
	*slash = '\0';
	int r = mkdir_p(parent);
	if (r < 0)
		return r;
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : negative_errno();
}

int np_bench_store_save(const char *state_dir, const struct np_bench_record *r)
{
	_cleanup_free_ char *dir = np_asprintf("%s/baselines", state_dir), *key = np_bench_record_key(r);
	if (!dir || !key)
		return -ENOMEM;
	int ret = mkdir_p(dir);
	if (ret < 0)
		return ret;
	_cleanup_free_ char *path = np_asprintf("%s/%s.json", dir, key), *tmp = np_asprintf("%s/.%s.tmp", dir, key);
	json_t *j = np_bench_record_to_json(r);
	_cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!path || !tmp || !text)
		return -ENOMEM;
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return negative_errno();
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t k = write(fd, text + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			ret = negative_errno();
			unlink(tmp);
			return ret;
		}
		off += (size_t)k;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0 || rename(tmp, path) < 0) {
		ret = negative_errno();
		unlink(tmp);
		return ret;
	}
	return 0;
}

void np_bench_records_free(struct np_bench_record *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		np_bench_record_free(&r[i]);
	free(r);
}

int np_bench_store_load(const char *state_dir, struct np_bench_record **out, size_t *n, size_t *bad)
{
	*out = NULL;
	*n = 0;
	if (bad)
		*bad = 0;
	_cleanup_free_ char *dir = np_asprintf("%s/baselines", state_dir);
	if (!dir)
		return -ENOMEM;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : negative_errno();
	struct dirent *de;
	while ((de = readdir(d)) && *n < NP_BENCH_STORE_MAX) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 6 || !streq(de->d_name + l - 5, ".json"))
			continue;
		_cleanup_close_ int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		_cleanup_free_ char *buf = NULL, *err = NULL;
		size_t len;
		json_t *j = NULL;
		struct np_bench_record rec;
		if (fd >= 0 && np_read_fd(fd, NP_BENCH_RECORD_MAX, 0, &buf, &len) >= 0)
			j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
		int r = j ? np_bench_record_from_json(j, &rec, &err) : -EINVAL;
		json_decref(j);
		if (r == -ENOMEM) {
			np_bench_records_free(*out, *n);
			*out = NULL;
			*n = 0;
			return r;
		}
		if (r < 0) {
			if (bad)
				(*bad)++;
			continue;
		}
		struct np_bench_record *nr = realloc(*out, (*n + 1) * sizeof(*nr));
		if (!nr) {
			np_bench_record_free(&rec);
			np_bench_records_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -ENOMEM;
		}
		*out = nr;
		nr[(*n)++] = rec;
	}
	return 0;
}
