// SPDX-License-Identifier: Apache-2.0
/* Structured logs: logfmt and JSON lines, levels, and secrets never written. */
#include "testutil.h"
#include "../../pkg/shared/log.h"

#include <jansson.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logfmt),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
