/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - what every nodeprint command shares: the exit codes (documented in
 * docs/reference.md, "Exit codes"), one-line option errors, output formats.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

enum np_exit {
	NP_EXIT_OK = 0,       /* done; for inspect: no finding, no drift, every source read */
	NP_EXIT_ERROR = 1,    /* could not do it (API unreachable, out of memory, write error) */
	NP_EXIT_USAGE = 2,    /* bad command line, policy file or host root: nothing was done */
	NP_EXIT_BLIND = 3,    /* inspect: no finding, but some sources could not be read */
	NP_EXIT_FINDINGS = 4, /* inspect: at least one finding (drift from the pins included) */
};

enum np_format { NP_FMT_TEXT, NP_FMT_JSON, NP_FMT_YAML };

/*
 * np_cli_bad_option() - after getopt_long() returned '?' or ':' (the option
 * string must start with ':' so a missing argument is told apart): print one
 * line "nodeprint CMD: unknown option '--x' (nodeprint CMD --help)" and
 * return NP_EXIT_USAGE.
 */
int np_cli_bad_option(const char *cmd, int c, char **argv);

/* Parse "text", "json" or "yaml" into @fmt; prints one line and returns -EINVAL otherwise. */
int np_cli_format(const char *cmd, const char *s, enum np_format *fmt);

/*
 * np_cli_dump() - print @j (reference kept by the caller) as JSON (indented on
 * a terminal, compact when piped) or YAML (block style, libyaml's emitter).
 * Returns 0 or -EIO.
 */
int np_cli_dump(const json_t *j, enum np_format fmt);

/*
 * np_cli_dump_compact() - whether np_cli_dump() writes @fmt with
 * np_json_write_compact() (JSON, stdout not a terminal): the case where a
 * deferral of large arrays may be current (pkg/report/json_write.h).
 */
bool np_cli_dump_compact(enum np_format fmt);

/*
 * np_cli_width() - columns the text output may use: $COLUMNS when it is a
 * number from 20 to 10000, else the terminal's width when stdout is one, else
 * 0 = unlimited (piped text is for grep and files; truncating it would lose data).
 */
unsigned np_cli_width(void);

/*
 * np_cli_node_name() - the Node a command is about: @given (--node-name) when
 * set, else $NODE_NAME, else the hostname written into @buf (@len bytes), else
 * "unknown". Returns a borrowed string.
 */
const char *np_cli_node_name(const char *given, char *buf, size_t len);
