// SPDX-License-Identifier: Apache-2.0
/* cli.c - exit codes, option errors, output formats (JSON, YAML) and the text width. */
#define _GNU_SOURCE
#include "cli.h"
#include "../../pkg/report/json_write.h"
#include "../../pkg/shared/macro.h"
#include "../../pkg/shared/strutil.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <yaml.h>

int np_cli_bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];
	if (c == ':')
		fprintf(stderr, "nodeprint %s: option '%s' needs a value (nodeprint %s --help)\n", cmd, arg, cmd);
	else if (optopt && !(arg && arg[0] == '-' && arg[1] == '-'))
		fprintf(stderr, "nodeprint %s: unknown option '-%c' (nodeprint %s --help)\n", cmd, optopt, cmd);
	else
		fprintf(stderr, "nodeprint %s: unknown option '%s' (nodeprint %s --help)\n", cmd, arg, cmd);
	return NP_EXIT_USAGE;
}

int np_cli_format(const char *cmd, const char *s, enum np_format *fmt)
{
	if (streq(s, "text"))
		*fmt = NP_FMT_TEXT;
	else if (streq(s, "json"))
		*fmt = NP_FMT_JSON;
	else if (streq(s, "yaml"))
		*fmt = NP_FMT_YAML;
	else {
		fprintf(stderr, "nodeprint %s: --output: expected text, json or yaml, got '%s'\n", cmd, s);
		return -EINVAL;
	}
	return 0;
}

/*
 * A string that a YAML 1.1 or 1.2 reader would take for something else (null, a boolean, a
 * number, empty) is double-quoted; any other is left to libyaml's choice of style (it quotes
 * what needs quoting: ": ", leading "-", "#", control characters).
 */
static bool needs_quotes(const char *s)
{
	static const char *const words[] = { "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n" };
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	if (strchr("0123456789+-.", s[0]))
		return true; /* numbers, .inf, .nan, 0x1f, 1_000, 12:30 (sexagesimal) */
	return false;
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

/* Untagged: plain (or libyaml's choice) unless @quoted. Both implicit flags, so no "!" tag is written. */
static int emit_scalar(yaml_emitter_t *e, const char *v, bool quoted)
{
	yaml_event_t ev;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)v, (int)strlen(v), 1, 1,
				     quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	return emit(e, &ev);
}

/* A JSON real as a YAML float: always with a '.' or an exponent after one ("1.0e+20"), as YAML 1.1 wants. */
static void real_text(double d, char *buf, size_t len)
{
	if (isnan(d) || isinf(d)) {
		snprintf(buf, len, "%s", isnan(d) ? ".nan" : d > 0 ? ".inf" : "-.inf");
		return;
	}
	char t[40];
	snprintf(t, sizeof(t), "%.17g", d);
	char *ex = strchr(t, 'e');
	if (strchr(t, '.'))
		snprintf(buf, len, "%s", t);
	else if (ex)
		snprintf(buf, len, "%.*s.0%s", (int)(ex - t), t, ex);
	else
		snprintf(buf, len, "%s.0", t);
}

static int emit_json(yaml_emitter_t *e, const json_t *j, unsigned depth)
{
	yaml_event_t ev;
	char num[48];
	const char *k;
	json_t *v;
	size_t i;
	int r = 0;

	if (depth > 64)
		return -ELOOP;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		r = emit(e, &ev);
		json_object_foreach((json_t *)j, k, v) {
			if (r >= 0)
				r = emit_scalar(e, k, needs_quotes(k));
			if (r >= 0)
				r = emit_json(e, v, depth + 1);
		}
		yaml_mapping_end_event_initialize(&ev);
		return r < 0 ? r : emit(e, &ev);
	case JSON_ARRAY:
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		r = emit(e, &ev);
		json_array_foreach(j, i, v)
			if (r >= 0)
				r = emit_json(e, v, depth + 1);
		yaml_sequence_end_event_initialize(&ev);
		return r < 0 ? r : emit(e, &ev);
	case JSON_STRING:
		return emit_scalar(e, json_string_value(j), needs_quotes(json_string_value(j)));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return emit_scalar(e, num, false);
	case JSON_REAL:
		real_text(json_real_value(j), num, sizeof(num));
		return emit_scalar(e, num, false);
	case JSON_TRUE:
		return emit_scalar(e, "true", false);
	case JSON_FALSE:
		return emit_scalar(e, "false", false);
	default:
		return emit_scalar(e, "null", false);
	}
}

static int dump_yaml(const json_t *j, FILE *f)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output_file(&e, f);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1); /* no folding of long strings */
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	int r = emit(&e, &ev);
	if (r >= 0) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		r = emit(&e, &ev);
	}
	if (r >= 0)
		r = emit_json(&e, j, 0);
	if (r >= 0) {
		yaml_document_end_event_initialize(&ev, 1);
		r = emit(&e, &ev);
	}
	if (r >= 0) {
		yaml_stream_end_event_initialize(&ev);
		r = emit(&e, &ev);
	}
	if (r >= 0 && !yaml_emitter_flush(&e))
		r = -EIO;
	yaml_emitter_delete(&e);
	return r;
}

bool np_cli_dump_compact(enum np_format fmt)
{
	/* indented for people at a terminal; compact when piped (a large host's per-CPU interrupt
	 * arrays are millions of numbers: one per line would multiply size and time) */
	return fmt != NP_FMT_YAML && !isatty(STDOUT_FILENO);
}

int np_cli_dump(const json_t *j, enum np_format fmt)
{
	if (fmt == NP_FMT_YAML)
		return dump_yaml(j, stdout);
	int r;
	if (!np_cli_dump_compact(fmt))
		r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ? -EIO : 0;
	else
		r = np_json_write_compact(j, stdout);
	fputc('\n', stdout);
	return r;
}

unsigned np_cli_width(void)
{
	const char *env = getenv("COLUMNS");
	uint64_t v;
	if (env && np_parse_u64(env, &v) >= 0 && v >= 20 && v <= 10000)
		return (unsigned)v;
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 0;
}

const char *np_cli_node_name(const char *given, char *buf, size_t len)
{
	if (given)
		return given;
	const char *env = getenv("NODE_NAME");
	if (env && *env)
		return env;
	if (gethostname(buf, len) < 0)
		return "unknown";
	buf[len - 1] = '\0';
	return buf;
}
