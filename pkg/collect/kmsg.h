/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kmsg.h - the /dev/kmsg record parser, the event classifier and the
 * follower, exposed for the agent (which keeps a follower open and polls its
 * fd), tests and fuzzing.
 *
 * Record format (Documentation/ABI/testing/dev-kmsg): one read() returns one
 * record "prio,seq,ts_usec,flags[,more];message\n" followed by zero or more
 * dictionary lines " KEY=VALUE\n"; prio = facility << 3 | level; non-printable
 * bytes and '\' in the message are escaped as \xNN.
 */
#pragma once

#include "../report/kmsg.h"
#include "../shared/hostfs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The window of the path flaps the kmsg section reports (inspect: the log alone, no polling). */
#define NP_KMSG_FLAP_WINDOW_MS (3600 * 1000LL)

/* CONSOLE_EXT_LOG_MAX is 8192; twice that is never too small (EINVAL). */
#define NP_KMSG_RECORD_MAX 16384

struct np_kmsg_record {
	unsigned facility;   /* prio >> 3 */
	unsigned level;      /* prio & 7 */
	uint64_t seq;
	uint64_t ts_us;      /* monotonic microseconds since boot */
	char flags;          /* '-' (whole), 'c' (continued), '+' (continuation, old kernels), '?' unknown */
	char *message;       /* decoded text (malloc'd) */
	char **dict;         /* every " KEY=VALUE" line, decoded, in order (malloc'd vector, may be NULL) */
	const char *subsystem; /* value of SUBSYSTEM= in dict, or NULL (points into dict) */
	const char *device;    /* value of DEVICE= in dict, or NULL (points into dict) */
};

/*
 * np_kmsg_parse_record() - parse one record of @len bytes (no NUL needed).
 * Returns 0 and fills @rec (release with np_kmsg_record_free()), -EINVAL
 * when the header is not "number,number,number,flags;…" or the record holds
 * a NUL or a raw newline followed by a non-dictionary line, -EFBIG when
 * longer than NP_KMSG_RECORD_MAX, -ENOMEM.
 */
int np_kmsg_parse_record(const char *buf, size_t len, struct np_kmsg_record *rec);
void np_kmsg_record_free(struct np_kmsg_record *rec);

/*
 * np_kmsg_unescape() - decode \xNN (two hex digits) in place; \x00 is kept
 * as the four characters. Returns @s.
 */
char *np_kmsg_unescape(char *s);

/* What np_kmsg_classify() found; strings malloc'd (release with np_kmsg_match_free()). */
struct np_kmsg_match {
	enum np_kmsg_kind kind;
	char *device, *map, *detail, *op;
	uint64_t sector;
	bool has_sector;
};

/*
 * np_kmsg_classify() - match a decoded message against the rules table
 * (pkg/collect/kmsg_rules.c: one POSIX ERE per message form of the kernel's
 * and drivers' own format strings, each with its source and kernel versions;
 * docs/report/kmsg.md lists them). The first rule that matches wins.
 * Returns the kind (NP_KMSG_NONE when nothing matched: @m is then empty),
 * -ENOMEM, or -EINVAL when a rule does not compile (a bug: the unit test
 * compiles them all). @m is filled on a match.
 */
int np_kmsg_classify(const char *message, struct np_kmsg_match *m);

/*
 * np_kmsg_rules_release() - free the compiled rules (and the matching tables glibc's regexec()
 * built in them); the next np_kmsg_classify() compiles what it needs again. A one-shot run calls
 * it once the log is read: the memory goes to the report and its JSON.
 */
void np_kmsg_rules_release(void);

/* The rules table: how many rules, and rule @i's kind, expression and origin (static strings).
 * np_kmsg_rule_info() returns 0, -ERANGE past the end, -EINVAL when the rules do not compile. */
size_t np_kmsg_rules_count(void);
/*
 * np_kmsg_re_needle() - the longest run of literal text that every match of
 * the POSIX ERE @re contains (outside groups and brackets, not made optional
 * by ?, * or {}), into @buf (@size bytes, NUL-terminated). Returns its length;
 * 0 (empty) when the pattern has a top-level '|' or no such text.
 */
size_t np_kmsg_re_needle(const char *re, char *buf, size_t size);
int np_kmsg_rule_info(size_t i, enum np_kmsg_kind *kind, const char **re, const char **origin);
void np_kmsg_match_free(struct np_kmsg_match *m);

/* "nvme2n1", "nvme0c1n1", "nvme nvme2" forms -> controller "nvme2"/"nvme1". Returns malloc'd or NULL. */
char *np_nvme_controller_of(const char *name);

/*
 * np_kmsg_parse_stream() - split a saved capture (records back to back, each
 * ending in "\n", dictionary lines starting with a space: what
 * tests/kmsg_capture.py writes, and the same bytes /dev/kmsg returns) and
 * call @cb for each record that parses. Returns the number of records that
 * did not parse (0 = all good), or the negative value @cb returned.
 */
int np_kmsg_parse_stream(const char *buf, size_t len,
			 int (*cb)(const struct np_kmsg_record *rec, void *ud), void *ud);

struct np_kmsg_follower {
	int fd;
	bool stream;          /* a regular file (capture under a fixture root): parsed as a stream */
	bool have_seq;
	uint64_t first_seq, last_seq;
	uint64_t records_read, lost, duplicates, bad_records;
	bool overrun;         /* EPIPE seen: the gap is counted at the next record */
};

/*
 * np_kmsg_follower_open() - open @path (NULL = "/dev/kmsg") under the host
 * root, non-blocking, positioned at the first record still in the ring
 * buffer (lseek SEEK_SET 0, which unlike SEEK_DATA also returns records a
 * `dmesg -C` cleared). A regular file (a capture) is accepted too. Returns
 * 0 or -errno (-EACCES/-EPERM without CAP_SYSLOG under dmesg_restrict).
 */
int np_kmsg_follower_open(struct np_kmsg_follower *f, const struct np_host *h, const char *path);

/*
 * np_kmsg_follower_read() - read every record available now (until EAGAIN),
 * calling @cb for each record never delivered before (sequence number above
 * the last one seen; a record seen again after a reopen is skipped and
 * counted in duplicates). On EPIPE (the reader was overtaken by the ring
 * buffer) the lost records are counted from the sequence gap and reading
 * goes on. Returns the number of records delivered, -errno of read(), or the
 * negative value @cb returned. Poll f->fd for POLLIN to call it again.
 */
int np_kmsg_follower_read(struct np_kmsg_follower *f,
			  int (*cb)(const struct np_kmsg_record *rec, void *ud), void *ud);
void np_kmsg_follower_close(struct np_kmsg_follower *f);

/*
 * np_kmsg_add_record() - classify @rec and add it to @s when it matches: a
 * record identical to a kept event (same kind, facility, device and message
 * text) adds to that event's count and becomes its newest occurrence (the
 * event moves to the end); another one is appended, keeping only the newest
 * @s->max_events (0 = 256). @wall_offset_ms, when non-zero, is added to the
 * record's monotonic ms to estimate wall time. *@ev (may be NULL) gets the
 * event the record went to (valid until the next call). Returns 1 when the
 * record matched, 0 when it did not, -ENOMEM.
 */
int np_kmsg_add_record(struct np_kmsg *s, const struct np_kmsg_record *rec, int64_t wall_offset_ms,
		       struct np_kmsg_event **ev);

/*
 * np_kmsg_wall_offset_ms() - the offset that turns a kmsg timestamp into an
 * estimated Unix time: @now_real_ms - @now_mono_us / 1000, from
 * CLOCK_REALTIME and CLOCK_MONOTONIC read together. printk stamps use the
 * same clock as CLOCK_MONOTONIC (local_clock(), stopped during suspend), so
 * the estimate is right unless the machine was suspended (or the VM paused)
 * between the record and now: then the record looks newer by that time.
 */
int64_t np_kmsg_wall_offset_ms(int64_t now_real_ms, uint64_t now_mono_us);
