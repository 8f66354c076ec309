package main

// The files a client needs, written into the state folder once the port is
// known: tokens, kubeconfigs (one per authentication mode) and an env file
// (KEY=value lines, read by tests/kube/server.sh and C tests).

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func kubeconfig(server, ca, userYAML string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: np-test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: np-user
  user:
%s
contexts:
- name: np-test
  context:
    cluster: np-test
    user: np-user
    namespace: default
current-context: np-test
`, server, ca, userYAML)
}

func writeClientFiles(d, base, adminTok, agentTok, agentNode string) error {
	p := func(n string) string { return filepath.Join(d, n) }
	ca := p("ca.crt")
	files := map[string]string{
		"admin.token":                adminTok + "\n",
		"agent.token":                agentTok + "\n",
		"admin.kubeconfig":           kubeconfig(base, ca, "    token: "+adminTok),
		"agent.kubeconfig":           kubeconfig(base, ca, "    token: "+agentTok),
		"agent-tokenfile.kubeconfig": kubeconfig(base, ca, "    tokenFile: "+p("agent.token")),
		"cert.kubeconfig": kubeconfig(base, ca,
			"    client-certificate: "+p("admin.crt")+"\n    client-key: "+p("admin.key")),
		"agent-cert.kubeconfig": kubeconfig(base, ca,
			"    client-certificate: "+p("agent.crt")+"\n    client-key: "+p("agent.key")),
	}
	for n, c := range files {
		if err := os.WriteFile(p(n), []byte(c), 0o600); err != nil {
			return err
		}
	}
	env := map[string]string{
		"NP_KUBE_DIR":                        d,
		"NP_KUBE_SERVER":                     base,
		"NP_KUBE_CA":                         ca,
		"NP_KUBE_TOKEN":                      adminTok,
		"NP_KUBE_ADMIN_TOKEN":                adminTok,
		"NP_KUBE_AGENT_TOKEN":                agentTok,
		"NP_KUBE_AGENT_TOKEN_FILE":           p("agent.token"),
		"NP_KUBE_AGENT_NODE":                 agentNode,
		"NP_KUBE_AGENT_USER":                 agentUser,
		"NP_KUBE_CONTROL_URL":                base + "/np-test",
		"NP_KUBE_CLIENT_CERT":                p("admin.crt"),
		"NP_KUBE_CLIENT_KEY":                 p("admin.key"),
		"NP_KUBE_AGENT_CLIENT_CERT":          p("agent.crt"),
		"NP_KUBE_AGENT_CLIENT_KEY":           p("agent.key"),
		"NP_KUBE_CA_KEY":                     p("ca.key"),
		"NP_KUBE_KUBECONFIG":                 p("admin.kubeconfig"),
		"NP_KUBE_AGENT_KUBECONFIG":           p("agent.kubeconfig"),
		"NP_KUBE_AGENT_TOKENFILE_KUBECONFIG": p("agent-tokenfile.kubeconfig"),
		"NP_KUBE_CERT_KUBECONFIG":            p("cert.kubeconfig"),
		"NP_KUBE_AGENT_CERT_KUBECONFIG":      p("agent-cert.kubeconfig"),
		"NP_KUBE_PID":                        fmt.Sprint(os.Getpid()),
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	tmp := p("env.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p("env"))
}
