#!/bin/bash
# cluster.sh - a real Kubernetes control plane on 127.0.0.1 for the tests (docs/test-cluster.md):
# etcd, kube-apiserver, kube-scheduler, kube-controller-manager (built by tests/cluster/build.sh) and
# the node heartbeat helper (tests/cluster/cluster.py heartbeat: renews every Node's Lease as a kubelet
# would, so Nodes registered without a kubelet stay Ready).
#
#   tests/cluster/cluster.sh start [DIR]    build if needed, start on free ports, wait until ready,
#                                           print the env lines: eval "$(tests/cluster/cluster.sh start)"
#   tests/cluster/cluster.sh env [DIR]      print the `export NP_...='...'` lines of a running cluster
#   tests/cluster/cluster.sh stop [DIR]     stop every process (DIR is removed when start created it)
#   tests/cluster/cluster.sh restart [DIR]  stop and start again keeping state: ports, PKI, tokens, etcd
#   tests/cluster/cluster.sh status [DIR]   exit 0 when every component runs
#   tests/cluster/cluster.sh agent NODE [DIR]  print the path of a kubeconfig for nodeprint on NODE: a
#                                           token from TokenRequest bound to a Pod of the DaemonSet's
#                                           spec on NODE (tests/cluster/cluster.py agent)
#
# DIR is the cluster's state folder. Without DIR: $NP_KUBE_DIR, else the folder the last argument-less
# `start` created ($NP_KUBE_CACHE/current-cluster, default .cache/kube). A `stop DIR` then `start DIR`
# (or `restart DIR`) keeps the ports, so kubeconfigs stay valid. NP_K8S_BIN=DIR skips the build and
# takes the binaries from DIR. Ports of a new DIR come from tests/ports.py; a component that finds
# one taken when it binds is started again on a new one. NP_CLUSTER_PORTS='ETCD_PORT=N API_PORT=N ...'
# (also ETCD_PEER_PORT, SCHED_PORT, KCM_PORT) are tried first, unchecked, replaced as well when taken
# (tests/cluster/test_cluster.py starts on two taken ports).
#
# The env (stable interface, DIR/env as KEY=value lines):
#   NP_KUBE_SERVER       https://127.0.0.1:PORT            NP_KUBE_CA, NP_KUBE_CA_KEY  cluster CA (PEM)
#   NP_KUBE_KUBECONFIG   admin kubeconfig (token)          NP_KUBE_CERT_KUBECONFIG     admin, client cert
#   NP_KUBE_TOKEN, NP_KUBE_ADMIN_TOKEN  admin bearer token (user np-admin, group system:masters)
#   NP_KUBE_CLIENT_CERT, NP_KUBE_CLIENT_KEY  admin client certificate (CN np-admin, O system:masters)
#   NP_KUBE_AUDIT_LOG    the apiserver's audit log (JSON lines, level Metadata, stage ResponseComplete
#                        and ResponseStarted of watches): the request log tests read
#   NP_KUBECTL, NP_HELM  the built kubectl and helm;  NP_K8S_BIN  their folder (all binaries)
#   NP_KUBE_DIR          DIR;  NP_KUBE_PID  kube-apiserver's pid;  NP_KUBE_ETCD  etcd's client URL
#   NP_KUBE_SA_ISSUER    the service-account token issuer
# Component logs: DIR/log/NAME.log; pids: DIR/run/NAME.pid.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CUR=${NP_KUBE_CACHE:-$ROOT/.cache/kube}/current-cluster
cmd=${1:-}
[ "$cmd" = agent ] && { NODE=${2:?usage: cluster.sh agent NODE [DIR]}; shift; }
DIR=${2:-${NP_KUBE_DIR:-}}
COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler heartbeat"
START_TIMEOUT=${NP_CLUSTER_START_TIMEOUT:-180}
log() { echo "cluster.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

print_env() {
	local k v
	while IFS='=' read -r k v; do printf "export %s='%s'\n" "$k" "$v"; done <"$1/env"
}
pid_of() { cat "$DIR/run/$1.pid" 2>/dev/null; }
alive() { local p; p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
running() { local c; for c in $COMPONENTS; do alive "$c" || return 1; done; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# ports: kept in DIR/ports across restarts, else new ones from tests/ports.py (below the ephemeral
# range: no connection's source port or bind(0) takes them meanwhile); PORTS_NEW=1 when picked now,
# so a component that finds one taken after all is started again on a new one (start_up)
PORTS_NEW=0
pick_ports() {
	if [ ! -f "$DIR/ports" ]; then
		local p
		p=$(python3 "$ROOT/tests/ports.py" 5) || die "tests/ports.py found no free ports"
		paste -d= <(printf '%s\n' ETCD_PORT ETCD_PEER_PORT API_PORT SCHED_PORT KCM_PORT) <(echo "$p") >"$DIR/ports"
		for p in ${NP_CLUSTER_PORTS:-}; do sed -i "s/^${p%%=*}=.*/$p/" "$DIR/ports"; done
		PORTS_NEW=1
	fi
	# shellcheck disable=SC1091
	. "$DIR/ports"
	[ -n "${NP_KUBE_PORT:-}" ] && API_PORT=$NP_KUBE_PORT
	return 0
}

# $@ = names of port variables: new ports for them, saved in DIR/ports; returns 1 when none could
# change (NP_KUBE_PORT, the caller's choice, is kept)
repick_ports() {
	local v p n=0
	for v in "$@"; do
		[ "$v" = API_PORT ] && [ -n "${NP_KUBE_PORT:-}" ] && continue
		p=$(python3 "$ROOT/tests/ports.py" 1) || die "tests/ports.py found no free port"
		printf -v "$v" '%s' "$p"
		sed -i "s/^$v=.*/$v=$p/" "$DIR/ports"
		n=$((n + 1))
	done
	configs # the kubeconfigs name API_PORT
	[ $n -gt 0 ]
}

# $1 = name, $2 = subject, $3 = extensions (or ""), $4 = the signing CA (default ca): a P-256 key
# and a certificate
cert() {
	local n=$1 subj=$2 ext=$3 ca=${4:-ca} p=$DIR/pki
	[ -f "$p/$n.crt" ] && return 0
	openssl ecparam -name prime256v1 -genkey -noout -out "$p/$n.key" 2>/dev/null
	openssl req -new -key "$p/$n.key" -subj "$subj" -out "$p/$n.csr" 2>/dev/null
	printf '%s\n' "keyUsage=critical,digitalSignature,keyEncipherment" "$ext" >"$p/$n.ext"
	openssl x509 -req -in "$p/$n.csr" -CA "$p/$ca.crt" -CAkey "$p/$ca.key" -CAcreateserial -days 3650 \
		-extfile "$p/$n.ext" -out "$p/$n.crt" 2>/dev/null
	rm -f "$p/$n.csr" "$p/$n.ext"
}

# $1 = name, $2 = common name: a self-signed P-256 CA
ca() {
	local p=$DIR/pki
	[ -f "$p/$1.crt" ] && return 0
	openssl ecparam -name prime256v1 -genkey -noout -out "$p/$1.key" 2>/dev/null
	openssl req -x509 -new -key "$p/$1.key" -subj "/CN=$2" -days 3650 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-out "$p/$1.crt" 2>/dev/null
}

pki() {
	local p=$DIR/pki
	mkdir -p "$p"
	ca ca nodeprint-test-ca
	cert apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	cert admin "/O=system:masters/CN=np-admin" "extendedKeyUsage=clientAuth"
	cert kube-controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
	cert kube-scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
	cert apiserver-kubelet-client "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
	# the aggregation layer's front proxy (kubeadm's layout): without a request-header CA every
	# component logs "missing content for CA bundle" forever
	ca front-proxy-ca front-proxy-ca
	cert front-proxy-client "/CN=front-proxy-client" "extendedKeyUsage=clientAuth" front-proxy-ca
	[ -f "$p/sa.key" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$p/sa.key" 2>/dev/null
	[ -f "$p/sa.pub" ] || openssl pkey -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
	[ -f "$p/admin.token" ] || openssl rand -hex 24 >"$p/admin.token"
	echo "$(cat "$p/admin.token"),np-admin,np-admin,system:masters" >"$p/tokens.csv"
	chmod 600 "$p"/*.key "$p/admin.token" "$p/tokens.csv"
}

# $1 = file, $2 = user name, then either "token T" or "cert NAME"
kubeconfig() {
	local f=$1 user=$2 how=$3 what=$4
	{
		echo "apiVersion: v1"
		echo "kind: Config"
		echo "clusters:"
		echo "- name: np-test"
		echo "  cluster: {server: 'https://127.0.0.1:$API_PORT', certificate-authority: '$DIR/pki/ca.crt'}"
		echo "users:"
		echo "- name: $user"
		if [ "$how" = token ]; then
			echo "  user: {token: '$what'}"
		else
			echo "  user: {client-certificate: '$DIR/pki/$what.crt', client-key: '$DIR/pki/$what.key'}"
		fi
		echo "contexts:"
		echo "- name: np-test"
		echo "  context: {cluster: np-test, user: $user, namespace: default}"
		echo "current-context: np-test"
	} >"$f"
	chmod 600 "$f"
}

configs() {
	kubeconfig "$DIR/admin.kubeconfig" np-admin token "$(cat "$DIR/pki/admin.token")"
	kubeconfig "$DIR/admin-cert.kubeconfig" np-admin cert admin
	kubeconfig "$DIR/kube-controller-manager.kubeconfig" system:kube-controller-manager cert kube-controller-manager
	kubeconfig "$DIR/kube-scheduler.kubeconfig" system:kube-scheduler cert kube-scheduler
	# Metadata for every request; one entry per request (watches: ResponseStarted too)
	cat >"$DIR/audit-policy.yaml" <<-'EOF'
		apiVersion: audit.k8s.io/v1
		kind: Policy
		omitStages: [RequestReceived]
		rules:
		  - level: Metadata
	EOF
}

# $1 = component, rest = command line: started in its own session, output in DIR/log/NAME.log
declare -A LOG_FROM
launch() {
	local n=$1
	shift
	LOG_FROM[$n]=$(stat -c %s "$DIR/log/$n.log" 2>/dev/null || echo 0)
	setsid "$@" </dev/null >>"$DIR/log/$n.log" 2>&1 &
	echo $! >"$DIR/run/$n.pid"
}

# $1 = component, $2 = probe command (string, eval'd each time), waits until the probe succeeds or the
# component dies: returns 1 when it exited during start-up, exits on the time-out
await() {
	local n=$1 probe=$2 t0
	t0=$(date +%s%N)
	until eval "$probe" >/dev/null 2>&1; do
		if ! alive "$n"; then
			return 1
		fi
		if [ "$(ms_since "$t0")" -ge $((START_TIMEOUT * 1000)) ]; then
			log "$n not ready after $START_TIMEOUT s; log in $DIR/log/$n.log"
			tail -15 "$DIR/log/$n.log" >&2
			stop_all
			exit 1
		fi
		sleep 0.2
	done
	log "$n ready ($(ms_since "$t0") ms)"
}

# $1 = component (launched), $2 = its probe (single-quoted: the port variables expand at each try), rest
# = its port variables. A component that exits during start-up because a port of this start's picking
# was taken meanwhile ("address already in use" in what it logged) is started again, at most twice, on
# new ones; any other exit stops the cluster with its log.
start_up() {
	local n=$1 probe=$2 try
	shift 2
	for try in 1 2 3; do
		await "$n" "$probe" && return 0
		if [ "$try" -lt 3 ] && [ "$PORTS_NEW" = 1 ] &&
			tail -c +$((${LOG_FROM[$n]:-0} + 1)) "$DIR/log/$n.log" | grep -q 'address already in use' &&
			repick_ports "$@"; then
			log "$n: a port was taken before it bound (address already in use): again on new ports"
			spawn "$n"
			continue
		fi
		break
	done
	log "$n exited during start-up; its log ($DIR/log/$n.log):"
	tail -25 "$DIR/log/$n.log" >&2
	stop_all
	exit 1
}

# $@ = components: SIGTERM to all at once (each takes 1-3 s to end), KILL after 15 s
stop_some() {
	local c p pids=""
	for c in "$@"; do
		p=$(pid_of "$c") || continue
		[ -n "$p" ] && kill "$p" 2>/dev/null && pids="$pids $p"
		rm -f "$DIR/run/$c.pid"
	done
	for p in $pids; do
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
	return 0
}

# etcd last: kube-apiserver ends slowly without it
stop_all() {
	stop_some heartbeat kube-scheduler kube-controller-manager kube-apiserver
	stop_some etcd
}

# $1 = component: launch it on the current ports (BIN, P, ISSUER set by start)
spawn() {
	case $1 in
	etcd)
		launch etcd "$BIN/etcd" --name np-test --data-dir "$DIR/etcd" \
			--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
			--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
			--initial-cluster "np-test=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn \
			--unsafe-no-fsync --quota-backend-bytes 2147483648
		;;
	kube-apiserver)
		# the default admission chain plus NodeRestriction; ValidatingAdmissionPolicy is in the default set
		launch kube-apiserver "$BIN/kube-apiserver" \
			--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
			--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
			--tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key" \
			--client-ca-file "$P/ca.crt" --token-auth-file "$P/tokens.csv" \
			--kubelet-client-certificate "$P/apiserver-kubelet-client.crt" --kubelet-client-key "$P/apiserver-kubelet-client.key" \
			--requestheader-client-ca-file "$P/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
			--requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
			--requestheader-extra-headers-prefix X-Remote-Extra- \
			--proxy-client-cert-file "$P/front-proxy-client.crt" --proxy-client-key-file "$P/front-proxy-client.key" \
			--service-account-issuer "$ISSUER" --service-account-key-file "$P/sa.pub" \
			--service-account-signing-key-file "$P/sa.key" --api-audiences "$ISSUER" \
			--service-cluster-ip-range 10.96.0.0/16 \
			--authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
			--enable-priority-and-fairness=true --allow-privileged=true \
			--audit-policy-file "$DIR/audit-policy.yaml" --audit-log-path "$DIR/audit.log" \
			--audit-log-format json --audit-log-mode blocking --audit-log-maxsize 0 \
			--profiling=false --endpoint-reconciler-type none
		;;
	kube-controller-manager)
		launch kube-controller-manager "$BIN/kube-controller-manager" \
			--kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
			--authentication-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
			--authorization-kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
			--bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
			--use-service-account-credentials=true --service-account-private-key-file "$P/sa.key" \
			--root-ca-file "$P/ca.crt" --cluster-signing-cert-file "$P/ca.crt" --cluster-signing-key-file "$P/ca.key" \
			--controllers '*' --allocate-node-cidrs=false --profiling=false
		;;
	kube-scheduler)
		launch kube-scheduler "$BIN/kube-scheduler" \
			--kubeconfig "$DIR/kube-scheduler.kubeconfig" \
			--authentication-kubeconfig "$DIR/kube-scheduler.kubeconfig" \
			--authorization-kubeconfig "$DIR/kube-scheduler.kubeconfig" \
			--bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false \
			--profiling=false
		;;
	heartbeat) launch heartbeat python3 "$HERE/cluster.py" heartbeat "$DIR" ;;
	esac
}

start() {
	local owned=0 t_all curl_api api
	t_all=$(date +%s%N)
	if [ -n "${NP_K8S_BIN:-}" ]; then BIN=$NP_K8S_BIN; else BIN=$("$HERE/build.sh" kube etcd helm); fi
	if [ -z "$DIR" ]; then
		DIR=$(mktemp -d /tmp/np-cluster.XXXXXX)
		owned=1
	fi
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd)
	if running; then log "already running in $DIR"; print_env "$DIR"; return 0; fi
	stop_all # a half-running cluster: start it whole
	[ $owned = 1 ] && touch "$DIR/.np-cluster-owned"
	mkdir -p "$DIR/log" "$DIR/run" "$DIR/etcd"
	rm -f "$DIR/env"
	pick_ports
	pki
	configs
	P=$DIR/pki ISSUER=https://kubernetes.default.svc.cluster.local
	curl_api="curl -sf --max-time 3 --cacert $P/ca.crt -H 'Authorization: Bearer $(cat "$P/admin.token")'"

	spawn etcd
	start_up etcd 'curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q true' ETCD_PORT ETCD_PEER_PORT
	spawn kube-apiserver
	start_up kube-apiserver "$curl_api"' "https://127.0.0.1:$API_PORT/readyz"' API_PORT
	spawn kube-controller-manager
	spawn kube-scheduler
	start_up kube-controller-manager 'curl -skf --max-time 3 "https://127.0.0.1:$KCM_PORT/healthz"' KCM_PORT
	start_up kube-scheduler 'curl -skf --max-time 3 "https://127.0.0.1:$SCHED_PORT/healthz"' SCHED_PORT
	api=https://127.0.0.1:$API_PORT

	cat >"$DIR/env" <<-EOF
		NP_KUBE_SERVER=$api
		NP_KUBE_CA=$P/ca.crt
		NP_KUBE_CA_KEY=$P/ca.key
		NP_KUBE_TOKEN=$(cat "$P/admin.token")
		NP_KUBE_ADMIN_TOKEN=$(cat "$P/admin.token")
		NP_KUBE_CLIENT_CERT=$P/admin.crt
		NP_KUBE_CLIENT_KEY=$P/admin.key
		NP_KUBE_KUBECONFIG=$DIR/admin.kubeconfig
		NP_KUBE_CERT_KUBECONFIG=$DIR/admin-cert.kubeconfig
		NP_KUBE_AUDIT_LOG=$DIR/audit.log
		NP_KUBE_SA_ISSUER=$ISSUER
		NP_KUBE_ETCD=http://127.0.0.1:$ETCD_PORT
		NP_K8S_BIN=$BIN
		NP_KUBECTL=$BIN/kubectl
		NP_HELM=$BIN/helm
		NP_KUBE_DIR=$DIR
		NP_KUBE_PID=$(pid_of kube-apiserver)
	EOF
	spawn heartbeat
	start_up heartbeat "[ -f '$DIR/run/heartbeat.ready' ]"
	rm -f "$DIR/run/heartbeat.ready"
	log "cluster ready in $(($(ms_since "$t_all") / 1000)) s: $api, state in $DIR"
	[ $owned = 1 ] && { mkdir -p "$(dirname "$CUR")"; echo "$DIR" >"$CUR"; }
	print_env "$DIR"
}

case $cmd in
start) start ;;
env | stop | status | restart | agent)
	if [ -z "$DIR" ] && [ -f "$CUR" ]; then DIR=$(cat "$CUR"); fi
	if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then log "no cluster folder (give DIR or set NP_KUBE_DIR)"; exit 1; fi
	DIR=$(cd "$DIR" && pwd)
	case $cmd in
	env) running || die "not running ($DIR)"; print_env "$DIR" ;;
	status) running ;;
	restart) stop_all; start ;;
	agent) running || die "not running ($DIR)"; exec python3 "$HERE/cluster.py" agent "$DIR" "$NODE" ;;
	stop)
		stop_all
		[ -f "$CUR" ] && [ "$(cat "$CUR")" = "$DIR" ] && rm -f "$CUR"
		if [ -f "$DIR/.np-cluster-owned" ]; then rm -rf "$DIR"; fi
		;;
	esac
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
