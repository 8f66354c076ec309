/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `nodeprint baseline run|compare|show` (docs/baseline.md). Returns the exit code. */
int np_cmd_baseline(int argc, char **argv);
