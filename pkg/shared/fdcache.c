// SPDX-License-Identifier: Apache-2.0
#include "fdcache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kept {
	struct kept *next;
	int fd;
	bool used;  /* since the last sweep */
	size_t len; /* of its last whole read, 0: unknown */
	char path[];
};

struct np_fdcache {
	struct kept **b; /* chained buckets, a power of two */
	size_t nb, n, max;
};

/* FNV-1a over the path. */
static size_t hash(const char *k)
{
	uint64_t h = 1469598103934665603ull;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ull;
	return (size_t)h;
}

struct np_fdcache *np_fdcache_new(size_t max)
{
	struct np_fdcache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->nb = 64;
	c->max = max;
	if (!(c->b = calloc(c->nb, sizeof(*c->b)))) {
		free(c);
		return NULL;
	}
	return c;
}

static struct kept **slot(const struct np_fdcache *c, const char *path)
{
	struct kept **p = &c->b[hash(path) & (c->nb - 1)];
	while (*p && strcmp((*p)->path, path) != 0)
		p = &(*p)->next;
	return p;
}

static void unlink_close(struct np_fdcache *c, struct kept **p)
{
	struct kept *k = *p;
	*p = k->next;
	close(k->fd);
	free(k);
	c->n--;
}

int np_fdcache_get(struct np_fdcache *c, const char *path, size_t *len)
{
	struct kept *k = *slot(c, path);
	if (!k)
		return -ENOENT;
	k->used = true;
	if (len)
		*len = k->len;
	return k->fd;
}

void np_fdcache_note_len(struct np_fdcache *c, const char *path, size_t len)
{
	struct kept *k = *slot(c, path);
	if (k)
		k->len = len;
}

/* Twice the buckets once there are more entries than buckets; a failed growth keeps the old ones. */
static void grow(struct np_fdcache *c)
{
	size_t nb = c->nb * 2;
	struct kept **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < c->nb; i++)
		for (struct kept *k = c->b[i], *next; k; k = next) {
			next = k->next;
			size_t j = hash(k->path) & (nb - 1);
			k->next = b[j];
			b[j] = k;
		}
	free(c->b);
	c->b = b;
	c->nb = nb;
}

int np_fdcache_put(struct np_fdcache *c, const char *path, int fd)
{
	struct kept **p = slot(c, path);
	if (*p) /* replaced: the older descriptor goes */
		unlink_close(c, p);
	if (c->n >= c->max)
		return -ENOSPC;
	size_t len = strlen(path);
	struct kept *k = malloc(sizeof(*k) + len + 1);
	if (!k)
		return -ENOMEM;
	memcpy(k->path, path, len + 1);
	k->fd = fd;
	k->used = true;
	k->len = 0;
	p = &c->b[hash(path) & (c->nb - 1)];
	k->next = *p;
	*p = k;
	if (++c->n > c->nb)
		grow(c);
	return 0;
}

void np_fdcache_drop(struct np_fdcache *c, const char *path)
{
	struct kept **p = slot(c, path);
	if (*p)
		unlink_close(c, p);
}

size_t np_fdcache_sweep(struct np_fdcache *c)
{
	size_t closed = 0;
	for (size_t i = 0; c && i < c->nb; i++)
		for (struct kept **p = &c->b[i]; *p;) {
			if (!(*p)->used) {
				unlink_close(c, p);
				closed++;
				continue;
			}
			(*p)->used = false;
			p = &(*p)->next;
		}
	return closed;
}

void np_fdcache_flush(struct np_fdcache *c)
{
	for (size_t i = 0; c && i < c->nb; i++)
		while (c->b[i])
			unlink_close(c, &c->b[i]);
}

size_t np_fdcache_count(const struct np_fdcache *c)
{
	return c ? c->n : 0;
}

void np_fdcache_free(struct np_fdcache *c)
{
	if (!c)
		return;
	np_fdcache_flush(c);
	free(c->b);
	free(c);
}
