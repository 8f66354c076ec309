/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `nodeprint cleanup`: remove nodeprint's own keys from Nodes (uninstall; docs/reference.md). Returns the exit code. */
int np_cmd_cleanup(int argc, char **argv);
