// SPDX-License-Identifier: Apache-2.0
/* Structured logs: logfmt and JSON lines, levels, and secrets never written. */
#include "testutil.h"
#include "../../pkg/shared/log.h"

#include <jansson.h>
#include <sys/socket.h>
#include <unistd.h>

/* Run @fn with stderr captured; returns what it wrote (malloc'd). */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/np-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	int saved = dup(STDERR_FILENO);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 8192);
	size_t n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

static void emit(void)
{
	np_log(NP_LOG_DEBUG, "hidden", NULL);
	np_log(NP_LOG_INFO, "cycle", "n=%u node=%s", 3u, "node-a");
	np_log(NP_LOG_WARN, "auth", "token=%s header=\"Authorization: Bearer %s\" user=%s", "abc.def", "xyz", "me");
}

/* Values from outside (the API server's Status message, a kubeconfig's context name) with quotes. */
static void emit_hostile(void)
{
	np_log(NP_LOG_WARN, "get", "node=%s error=\"%s\"", "ghost",
	       "GET /api/v1/nodes/ghost: 404 NotFound: nodes \"ghost\" not found");
	np_log(NP_LOG_WARN, "ctx", "context=%s error=\"%s\"", "x\" k\"ey=v Authorization: Bearer SECRETTOKEN123",
	       "a\\b");
	np_log(NP_LOG_WARN, "ctl", "node=%s model=\"%s\"", "ctl\x01\x1b[31mred", "tab\there\xff\xc3\xa9");
	np_log(NP_LOG_INFO, "nums", "a=%d b=%lu c=%llu d=%zu e=%.1f f=%5.2f g=%g h=0x%06x i=%.*s j=%%", -3, 4ul, 5ull,
	       (size_t)6, 7.25, 8.5, 0.5, 0xabc, 2, "xyz");
}

static void test_hostile_values(void **state)
{
	(void)state;
	assert_int_equal(np_log_setup("info", "json"), 0);
	char *out = capture(emit_hostile);
	assert_null(strstr(out, "SECRETTOKEN123"));
	int lines = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		if (!j)
			fail_msg("not JSON: %s (%s)", line, e.text);
		if (lines == 0)
			assert_string_equal(json_string_value(json_object_get(j, "error")),
					    "GET /api/v1/nodes/ghost: 404 NotFound: nodes \"ghost\" not found");
		if (lines == 1) {
			assert_string_equal(json_string_value(json_object_get(j, "context")), "[redacted]");
			assert_string_equal(json_string_value(json_object_get(j, "error")), "a\\b");
			assert_null(json_object_get(j, "k\"ey"));
		}
		if (lines == 3) {
			static const char *const want[][2] = { { "a", "-3" }, { "b", "4" }, { "c", "5" }, { "d", "6" },
							      { "e", "7.2" }, { "f", " 8.50" }, { "g", "0.5" },
							      { "h", "0x000abc" }, { "i", "xy" } };
			for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
				if (!json_string_value(json_object_get(j, want[i][0])) ||
				    strcmp(json_string_value(json_object_get(j, want[i][0])), want[i][1]) != 0)
					fail_msg("%s: got '%s', want '%s' in %s", want[i][0],
						 json_string_value(json_object_get(j, want[i][0])), want[i][1], line);
		}
		if (lines == 2) {
			/* control characters never reach the line; a byte that is not UTF-8 is U+FFFD */
			assert_string_equal(json_string_value(json_object_get(j, "node")), "ctl  [31mred");
			assert_string_equal(json_string_value(json_object_get(j, "model")), "tab here\xef\xbf\xbd\xc3\xa9");
		}
		json_decref(j);
	}
	assert_int_equal(lines, 4);
	free(out);
	/* logfmt: the quote inside the value is escaped, the line still parses as the same pairs */
	assert_int_equal(np_log_setup("info", "logfmt"), 0);
	out = capture(emit_hostile);
	assert_non_null(strstr(out, "error=\"GET /api/v1/nodes/ghost: 404 NotFound: nodes \\\"ghost\\\" not found\""));
	assert_null(strstr(out, "SECRETTOKEN123"));
	assert_null(strchr(out, '\x1b')); /* no terminal escape sequence */
	assert_non_null(strstr(out, "node=\"ctl  [31mred\""));
	free(out);
}

static void test_logfmt(void **state)
{
	(void)state;
	assert_int_equal(np_log_setup("info", "logfmt"), 0);
	char *out = capture(emit);
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "level=info msg=\"cycle\" n=3 node=node-a\n"));
	assert_non_null(strstr(out, "token=\"[redacted]\""));
	assert_non_null(strstr(out, "header=\"[redacted]\""));
	assert_non_null(strstr(out, "user=me"));
	assert_null(strstr(out, "abc.def"));
	assert_null(strstr(out, "xyz"));
	free(out);
}

static void test_json(void **state)
{
	(void)state;
	assert_int_equal(np_log_setup("debug", "json"), 0);
	char *out = capture(emit);
	int lines = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		if (!j)
			fail_msg("not JSON: %s (%s)", line, e.text);
		assert_non_null(json_object_get(j, "time"));
		if (lines == 1) {
			assert_string_equal(json_string_value(json_object_get(j, "msg")), "cycle");
			assert_string_equal(json_string_value(json_object_get(j, "n")), "3");
		}
		if (lines == 2)
			assert_string_equal(json_string_value(json_object_get(j, "token")), "[redacted]");
		json_decref(j);
	}
	assert_int_equal(lines, 3); /* debug shown at level debug */
	free(out);
	assert_int_equal(np_log_setup("loud", NULL), -EINVAL);
	assert_int_equal(np_log_setup(NULL, "xml"), -EINVAL);
	np_log_setup("info", "logfmt");
}

/* Each line is one write(2): on a SOCK_SEQPACKET stderr every write is one record, so the first record
 * read is the whole first line (stdio's unbuffered stderr wrote the message a byte at a time). */
static void test_one_write_per_line(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	int saved = dup(STDERR_FILENO);
	fflush(stderr);
	dup2(sv[0], STDERR_FILENO);
	for (int json = 0; json < 2; json++) {
		assert_int_equal(np_log_setup("info", json ? "json" : "logfmt"), 0);
		np_log(NP_LOG_INFO, "kernel log \"event\"", "event=%s device=%s", "PathFailed", "8:0");
		np_log(NP_LOG_WARN, "second", NULL);
		char rec[512];
		ssize_t n = recv(sv[1], rec, sizeof(rec) - 1, 0);
		assert_true(n > 0);
		rec[n] = '\0';
		const char *want = json ? "\"msg\":\"kernel log \\\"event\\\"\",\"event\":\"PathFailed\",\"device\":\"8:0\"}\n"
					: "msg=\"kernel log \\\"event\\\"\" event=PathFailed device=8:0\n";
		if (!strstr(rec, want) || strchr(rec, '\n') != rec + n - 1 || strncmp(rec, json ? "{\"time\":" : "time=", 5))
			fail_msg("first record %zd bytes, not the whole line ending in %s: %s", n, want, rec);
		n = recv(sv[1], rec, sizeof(rec) - 1, 0);
		assert_true(n > 0);
		rec[n] = '\0';
		assert_non_null(strstr(rec, json ? "\"msg\":\"second\"}\n" : "msg=\"second\"\n"));
		assert_ptr_equal(strchr(rec, '\n'), rec + n - 1);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(sv[0]);
	close(sv[1]);
	np_log_setup("info", "logfmt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logfmt),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_one_write_per_line),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
