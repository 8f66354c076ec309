/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `nodeprint kube VERB ...`: a debug client for the API server (docs/kube-client.md). Returns the exit code. */
int np_cmd_kube(int argc, char **argv);
