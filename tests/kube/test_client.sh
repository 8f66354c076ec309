#!/bin/bash
# test_client.sh - the Kubernetes client (pkg/kube) against a real kube-apiserver behind the fault
# proxy, kubectl (built by tests/cluster/build.sh) as a second writer: starts them (tests/kube/server.sh),
# runs build/tests/kube_it (TAP) and `nodeprint kube` from the command line, stops them. Prints TAP.
set -u
cd "$(dirname "$0")/../.."
. tests/taplib.sh
[ -x tests/kube/server.sh ] || tap_bail "tests/kube/server.sh missing: the test API server is needed"
[ -x build/tests/kube_it ] && [ -x build/nodeprint ] || make -j2 build/nodeprint build/tests/kube_it >/dev/null ||
	tap_bail "building build/tests/kube_it failed"
DIR=$(mktemp -d /tmp/np-kube-client.XXXXXX)
trap 'tests/kube/server.sh stop "$DIR" >/dev/null 2>&1; rm -rf "$DIR"' EXIT
if ! envlines=$(tests/kube/server.sh start "$DIR" 2>"$DIR.start.log"); then
	log=$(tail -20 "$DIR.start.log")
	rm -f "$DIR.start.log"
	tap_bail "the test cluster (kube-apiserver + fault proxy) did not start" "$log"
fi
rm -f "$DIR.start.log"
eval "$envlines"
export PATH=$NP_K8S_BIN:$PATH # kubectl of the pinned release, the independent second client

# the C scenarios (numbered by kube_it itself; renumbered here)
out=$(build/tests/kube_it 2>&1)
rc=$?
while IFS= read -r line; do
	case $line in
	"ok "*) tap OK "${line#ok * - }" ;;
	"not ok "*) tap FAIL "${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	esac
done <<<"$out"
[ $rc -eq 0 ] || [ "$TAP_FAILED" -gt 0 ] || tap FAIL "kube_it exited with $rc"

# the command line: nodeprint kube against the same server, kubectl reading back
np() { build/nodeprint kube --kubeconfig "$NP_KUBE_AGENT_KUBECONFIG" "$@"; }
node=cli-node-$$
kubectl --kubeconfig "$NP_KUBE_KUBECONFIG" create -f - >/dev/null 2>&1 <<EOF2
{"apiVersion":"v1","kind":"Node","metadata":{"name":"$node"}}
EOF2
if np taint "$node" nodeprint.io/cli=yes:NoSchedule 2>/dev/null | grep -qx changed &&
	kubectl --kubeconfig "$NP_KUBE_KUBECONFIG" get node "$node" -o jsonpath='{range .spec.taints[*]}{.key}{"\n"}{end}' | grep -qx nodeprint.io/cli; then
	tap OK "nodeprint kube taint: kubectl sees the taint"
else
	tap FAIL "nodeprint kube taint: kubectl sees the taint"
fi
if np taint "$node" nodeprint.io/cli=yes:NoSchedule 2>/dev/null | grep -qx unchanged; then
	tap OK "nodeprint kube taint again: no write"
else
	tap FAIL "nodeprint kube taint again: no write"
fi
if np get-node "$node" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["metadata"]["name"]!=sys.argv[1])' "$node"; then
	tap OK "nodeprint kube get-node prints the Node as JSON"
else
	tap FAIL "nodeprint kube get-node prints the Node as JSON"
fi
err=$(np get-node no-such-node-$$ 2>&1 >/dev/null)
if [ $? -ne 0 ] && grep -q ENOENT <<<"$err"; then
	tap OK "nodeprint kube get-node of a missing node fails with ENOENT"
else
	tap FAIL "nodeprint kube get-node of a missing node fails with ENOENT" "$err"
fi
tap_finish
