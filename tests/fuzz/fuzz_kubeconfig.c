// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: kubeconfig YAML (np_kubeconfig_parse_buf) and ExecCredential JSON decoding. */
#include "../../pkg/kube/exec.h"
#include "../../pkg/kube/kubeconfig.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_kube_config c;
	struct np_exec_credential cr;
	char *err = NULL;

	/* relative paths resolve under a folder that does not exist: no file is read */
	if (np_kubeconfig_parse_buf("/nonexistent/np-fuzz/config", (const char *)data, size, NULL, &c, &err) == 0)
		np_kube_config_free(&c);
	if (np_kubeconfig_parse_buf("/nonexistent/np-fuzz/config", (const char *)data, size, "x", &c, &err) == 0)
		np_kube_config_free(&c);
	if (np_exec_credential_parse(NULL, (const char *)data, size, &cr, &err) == 0)
		np_exec_credential_free(&cr);
	free(err);
	return 0;
}
