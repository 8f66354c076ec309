#!/bin/bash
# server.sh - the API server the kube and vm tests talk to: a real control plane (etcd + kube-apiserver
# v1.37.2 from tests/cluster/build.sh) behind tests/cluster/faultproxy, which injects faults and keeps a
# request log (docs/test-cluster.md, "Fault proxy"). The agent's identity is real: the shipped
# ServiceAccount and ClusterRole (manifests/rbac.yaml), a token from TokenRequest bound to a Pod on its Node.
#
#   tests/kube/server.sh start [DIR]   build if needed, start on free 127.0.0.1 ports, wait until ready,
#                                      print the env lines (eval "$(tests/kube/server.sh start)")
#   tests/kube/server.sh env [DIR]     print `export NP_KUBE_...=...` lines of a running server
#   tests/kube/server.sh stop [DIR]    stop it (the folder is removed when start created it)
#   tests/kube/server.sh status [DIR]  exit 0 when it runs
#
# Started again in the same DIR (after `stop DIR` on a DIR you gave), it keeps the ports, CA, tokens and
# stored objects (etcd's data): an API server restart as clients see it. NP_KUBE_PORT=N picks the proxy's
# port; NP_KUBE_AGENT_NODE=NAME the Node the agent's token is bound to (default node-1).
# Without DIR: $NP_KUBE_DIR, else the folder the last argument-less `start` created (its path is kept
# in .cache/kube/current). NP_K8S_BIN=DIR uses prebuilt binaries instead of tests/cluster/build.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CUR=${NP_KUBE_CACHE:-$ROOT/.cache/kube}/current
cmd=${1:-}
DIR=${2:-${NP_KUBE_DIR:-}}
log() { echo "server.sh: $*" >&2; }
die() { log "$*"; exit 1; }

print_env() {
	local k v
	while IFS='=' read -r k v; do
		printf "export %s='%s'\n" "$k" "$v"
	done <"$1/env"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
running() { alive "$1/pid.proxy" && alive "$1/pid.apiserver" && alive "$1/pid.etcd"; }

# $1 = count: that many distinct free ports from the tests' one picker (tests/ports.py), one a line
free_ports() { python3 "$ROOT/tests/ports.py" "$1"; }

# $1 = folder, $2 = name, $3 = subject, $4 = extendedKeyUsage, $5 = subjectAltName (optional)
issue() {
	local d=$1 n=$2 subj=$3 eku=$4 san=${5:-}
	[ -f "$d/$n.crt" ] && return 0
	openssl ecparam -name prime256v1 -genkey -noout -out "$d/$n.key" 2>/dev/null
	openssl req -new -key "$d/$n.key" -subj "$subj" -out "$d/$n.csr" 2>/dev/null
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$eku"
		[ -n "$san" ] && echo "subjectAltName=$san"
	} >"$d/$n.ext"
	openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 365 \
		-extfile "$d/$n.ext" -out "$d/$n.crt" 2>/dev/null
	rm -f "$d/$n.csr" "$d/$n.ext"
	chmod 600 "$d/$n.key"
}

pki() {
	local d=$1
	if [ ! -f "$d/ca.crt" ]; then
		openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key" 2>/dev/null
		openssl req -x509 -new -key "$d/ca.key" -subj /CN=nodeprint-test-ca -days 3650 -out "$d/ca.crt" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature 2>/dev/null
		chmod 600 "$d/ca.key"
	fi
	issue "$d" apiserver /CN=kube-apiserver serverAuth \
		"IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
	issue "$d" proxy /CN=np-faultproxy serverAuth "IP:127.0.0.1,DNS:localhost"
	issue "$d" admin "/O=system:masters/CN=np-admin" clientAuth
	issue "$d" agent "/O=system:serviceaccounts/O=system:serviceaccounts:nodeprint/CN=system:serviceaccount:nodeprint:nodeprint" clientAuth
	if [ ! -f "$d/sa.key" ]; then
		openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
		openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
		chmod 600 "$d/sa.key"
	fi
	if [ ! -f "$d/admin.token" ]; then
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$d/admin.token"
		echo >>"$d/admin.token"
		printf '%s,np-admin,np-admin,"system:masters"\n' "$(cat "$d/admin.token")" >"$d/tokens.csv"
		chmod 600 "$d/admin.token" "$d/tokens.csv"
	fi
	# Metadata for every request, one entry per request (a watch: ResponseStarted too)
	printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n' >"$d/audit-policy.yaml"
}

kubeconfig() { # $1 = server, $2 = CA, $3 = user lines (YAML, indented 4)
	printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: np-test\n  cluster:\n    server: %s\n    certificate-authority: %s\n' "$1" "$2"
	printf 'users:\n- name: np-user\n  user:\n%s\ncontexts:\n- name: np-test\n  context:\n    cluster: np-test\n    user: np-user\n' "$3"
	printf '    namespace: default\ncurrent-context: np-test\n'
}

# wait until URL answers 200 with the admin token, at most $3 s; $2 = pid file of the process
wait_ready() {
	local url=$1 pidf=$2 max=$3 t0=$SECONDS
	until curl -sf -o /dev/null --max-time 2 --cacert "$DIR/ca.crt" -H "Authorization: Bearer $(cat "$DIR/admin.token")" "$url"; do
		alive "$pidf" || { log "$(basename "$pidf" | cut -d. -f2) exited during start-up; log:"; tail -20 "${pidf/pid./}.log" >&2; return 1; }
		[ $((SECONDS - t0)) -lt "$max" ] || { log "$url not ready after $max s"; return 1; }
		sleep 0.1
	done
}

stop_one() {
	local pidf=$1 pid
	alive "$pidf" || { rm -f "$pidf"; return 0; }
	pid=$(cat "$pidf")
	kill "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	rm -f "$pidf"
}

stop_all() {
	stop_one "$1/pid.proxy"
	stop_one "$1/pid.apiserver"
	stop_one "$1/pid.etcd"
}

start() {
	local bin owned=0 t0 ms node=${NP_KUBE_AGENT_NODE:-node-1}
	if [ -n "${NP_K8S_BIN:-}" ]; then
		bin=$NP_K8S_BIN
	else
		bin=$("$ROOT/tests/cluster/build.sh" kube etcd faultproxy) || die "tests/cluster/build.sh failed"
	fi
	for b in etcd kube-apiserver kubectl faultproxy; do [ -x "$bin/$b" ] || die "$bin/$b missing"; done
	if [ -z "$DIR" ]; then
		DIR=$(mktemp -d /tmp/np-kube.XXXXXX)
		owned=1
	fi
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd)
	if running "$DIR"; then log "already running in $DIR"; print_env "$DIR"; exit 0; fi
	stop_all "$DIR"
	[ $owned = 1 ] && touch "$DIR/.np-kube-owned"
	t0=$(date +%s%N)
	pki "$DIR"
	# ports: kept across a restart in the same folder
	if [ ! -f "$DIR/ports" ]; then
		local p
		mapfile -t p < <(free_ports 4)
		echo "${NP_KUBE_PORT:-${p[0]}} ${p[1]} ${p[2]} ${p[3]}" >"$DIR/ports"
	fi
	local pport aport eport epeer
	read -r pport aport eport epeer <"$DIR/ports"
	rm -f "$DIR/env"

	setsid "$bin/etcd" --name np --data-dir "$DIR/etcd" --unsafe-no-fsync --log-level error \
		--listen-client-urls "http://127.0.0.1:$eport" --advertise-client-urls "http://127.0.0.1:$eport" \
		--listen-peer-urls "http://127.0.0.1:$epeer" --initial-advertise-peer-urls "http://127.0.0.1:$epeer" \
		--initial-cluster "np=http://127.0.0.1:$epeer" </dev/null >"$DIR/etcd.log" 2>&1 &
	echo $! >"$DIR/pid.etcd"
	setsid "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$eport" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$aport" \
		--tls-cert-file "$DIR/apiserver.crt" --tls-private-key-file "$DIR/apiserver.key" \
		--client-ca-file "$DIR/ca.crt" --token-auth-file "$DIR/tokens.csv" \
		--authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --endpoint-reconciler-type none \
		--allow-privileged=true \
		--service-account-issuer https://kubernetes.default.svc --service-account-key-file "$DIR/sa.pub" \
		--service-account-signing-key-file "$DIR/sa.key" --service-cluster-ip-range 10.0.0.0/24 \
		--audit-policy-file "$DIR/audit-policy.yaml" --audit-log-path "$DIR/audit.log" \
		--audit-log-format json --audit-log-mode blocking --audit-log-maxsize 200 \
		--cert-dir "$DIR/apiserver-certs" </dev/null >"$DIR/apiserver.log" 2>&1 &
	echo $! >"$DIR/pid.apiserver"
	setsid "$bin/faultproxy" --listen "127.0.0.1:$pport" --upstream "https://127.0.0.1:$aport" \
		--upstream-ca "$DIR/ca.crt" --cert "$DIR/proxy.crt" --key "$DIR/proxy.key" --client-ca "$DIR/ca.crt" \
		--token-auth-file "$DIR/tokens.csv" --admin-token-file "$DIR/admin.token" \
		--pass-cert "$DIR/admin.crt,$DIR/admin.key" --pass-cert "$DIR/agent.crt,$DIR/agent.key" \
		</dev/null >"$DIR/proxy.log" 2>&1 &
	echo $! >"$DIR/pid.proxy"
	if ! wait_ready "https://127.0.0.1:$aport/readyz" "$DIR/pid.apiserver" 120 ||
		! wait_ready "https://127.0.0.1:$pport/readyz" "$DIR/pid.proxy" 10; then
		stop_all "$DIR"
		exit 1
	fi
	local server="https://127.0.0.1:$pport" ca="$DIR/ca.crt"
	kubeconfig "$server" "$ca" "    token: $(cat "$DIR/admin.token")" >"$DIR/admin.kubeconfig"
	kubeconfig "$server" "$ca" "    client-certificate: $DIR/admin.crt
    client-key: $DIR/admin.key" >"$DIR/cert.kubeconfig"
	kubeconfig "$server" "$ca" "    client-certificate: $DIR/agent.crt
    client-key: $DIR/agent.key" >"$DIR/agent-cert.kubeconfig"
	chmod 600 "$DIR"/*.kubeconfig
	local k=("$bin/kubectl" --kubeconfig "$DIR/admin.kubeconfig")
	# the agent's identity as in a cluster: the shipped namespace, ServiceAccount and RBAC, a Pod of
	# the DaemonSet bound to its Node, a token bound to that Pod (it carries the node-name extra)
	if [ ! -f "$DIR/agent.token" ] || [ "$(cat "$DIR/agent.node" 2>/dev/null)" != "$node" ]; then
		"${k[@]}" apply -f "$ROOT/manifests/namespace.yaml" -f "$ROOT/manifests/rbac.yaml" >"$DIR/bootstrap.log" 2>&1 ||
			die "applying manifests/rbac.yaml failed: $(tail -5 "$DIR/bootstrap.log")"
		# the default ServiceAccounts kube-controller-manager creates (Pods need them), when it is not running
		for ns in default kube-system; do
			"${k[@]}" -n "$ns" get serviceaccount default >/dev/null 2>&1 ||
				"${k[@]}" -n "$ns" create serviceaccount default >>"$DIR/bootstrap.log" 2>&1 || true
		done
		"${k[@]}" apply -f - >>"$DIR/bootstrap.log" 2>&1 <<-EOF || die "agent pod: $(tail -5 "$DIR/bootstrap.log")"
			{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nodeprint-$node", "namespace": "nodeprint",
			 "labels": {"app.kubernetes.io/name": "nodeprint"}},
			 "spec": {"nodeName": "$node", "serviceAccountName": "nodeprint",
			          "tolerations": [{"operator": "Exists"}],
			          "containers": [{"name": "agent", "image": "nodeprint:test"}]}}
		EOF
		"${k[@]}" -n nodeprint create token nodeprint --bound-object-kind Pod --bound-object-name "nodeprint-$node" \
			--duration 48h >"$DIR/agent.token.tmp" 2>>"$DIR/bootstrap.log" || die "TokenRequest failed: $(tail -3 "$DIR/bootstrap.log")"
		mv "$DIR/agent.token.tmp" "$DIR/agent.token"
		echo "$node" >"$DIR/agent.node"
		chmod 600 "$DIR/agent.token"
	fi
	kubeconfig "$server" "$ca" "    token: $(cat "$DIR/agent.token")" >"$DIR/agent.kubeconfig"
	kubeconfig "$server" "$ca" "    tokenFile: $DIR/agent.token" >"$DIR/agent-tokenfile.kubeconfig"
	chmod 600 "$DIR"/*.kubeconfig
	cat >"$DIR/env.tmp" <<-EOF
		NP_K8S_BIN=$bin
		NP_KUBE_ADMIN_TOKEN=$(cat "$DIR/admin.token")
		NP_KUBE_ADMIN_USER=np-admin
		NP_KUBE_AGENT_CERT_KUBECONFIG=$DIR/agent-cert.kubeconfig
		NP_KUBE_AGENT_CLIENT_CERT=$DIR/agent.crt
		NP_KUBE_AGENT_CLIENT_KEY=$DIR/agent.key
		NP_KUBE_AGENT_KUBECONFIG=$DIR/agent.kubeconfig
		NP_KUBE_AGENT_NODE=$node
		NP_KUBE_AGENT_TOKEN=$(cat "$DIR/agent.token")
		NP_KUBE_AGENT_TOKENFILE_KUBECONFIG=$DIR/agent-tokenfile.kubeconfig
		NP_KUBE_AGENT_TOKEN_FILE=$DIR/agent.token
		NP_KUBE_AGENT_USER=system:serviceaccount:nodeprint:nodeprint
		NP_KUBE_APISERVER_URL=https://127.0.0.1:$aport
		NP_KUBE_AUDIT_LOG=$DIR/audit.log
		NP_KUBE_CA=$ca
		NP_KUBE_CA_KEY=$DIR/ca.key
		NP_KUBE_CERT_KUBECONFIG=$DIR/cert.kubeconfig
		NP_KUBE_CLIENT_CERT=$DIR/admin.crt
		NP_KUBE_CLIENT_KEY=$DIR/admin.key
		NP_KUBE_CONTROL_URL=$server/np-test
		NP_KUBE_DIR=$DIR
		NP_KUBE_KUBECONFIG=$DIR/admin.kubeconfig
		NP_KUBE_PID=$(cat "$DIR/pid.apiserver")
		NP_KUBE_SERVER=$server
		NP_KUBE_TOKEN=$(cat "$DIR/admin.token")
	EOF
	mv "$DIR/env.tmp" "$DIR/env"
	ms=$((($(date +%s%N) - t0) / 1000000))
	log "ready in $((ms / 1000)).$(printf %03d $((ms % 1000))) s: $server (kube-apiserver $("$bin/kube-apiserver" --version 2>/dev/null | awk '{print $2}') on :$aport), state in $DIR"
	[ $owned = 1 ] && { mkdir -p "$(dirname "$CUR")"; echo "$DIR" >"$CUR"; }
	print_env "$DIR"
}

case $cmd in
start) start ;;
env | stop | status)
	if [ -z "$DIR" ] && [ -f "$CUR" ]; then DIR=$(cat "$CUR"); fi
	if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then log "no server folder (give DIR or set NP_KUBE_DIR)"; exit 1; fi
	case $cmd in
	env) running "$DIR" || { log "not running ($DIR)"; exit 1; }; print_env "$DIR" ;;
	status) running "$DIR" ;;
	stop)
		stop_all "$DIR"
		[ -f "$CUR" ] && [ "$(cat "$CUR")" = "$DIR" ] && rm -f "$CUR"
		if [ -f "$DIR/.np-kube-owned" ]; then rm -rf "$DIR"; fi
		;;
	esac
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
