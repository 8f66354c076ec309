#!/bin/bash
# server.sh - start / stop the test Kubernetes API server (docs/test-apiserver.md).
#
#   tests/kube/server.sh start [DIR]   build if needed, start on a free 127.0.0.1 port, wait until
#                                      ready, print the env lines (eval "$(tests/kube/server.sh start)")
#   tests/kube/server.sh env [DIR]     print `export NP_KUBE_...=...` lines of a running server
#   tests/kube/server.sh stop [DIR]    stop it (the folder is removed when start created it)
#   tests/kube/server.sh status [DIR]  exit 0 when it runs
#
# Started again in the same DIR (after `stop DIR` on a DIR you gave), it keeps the port, CA, tokens and
# stored objects: a restart of the API server as clients see it. NP_KUBE_PORT=N picks the port.
# DIR is the server's state folder (CA, certificates, tokens, kubeconfigs, env, log, etcd data).
# Without DIR: $NP_KUBE_DIR, else the folder the last argument-less `start` created (its path is kept
# in .cache/kube/current). $NP_KUBE_APISERVER names a prebuilt binary (default: build-server.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CUR=${NP_KUBE_CACHE:-$ROOT/.cache/kube}/current
cmd=${1:-}
DIR=${2:-${NP_KUBE_DIR:-}}
log() { echo "server.sh: $*" >&2; }

print_env() {
	local k v
	while IFS='=' read -r k v; do
		printf "export %s='%s'\n" "$k" "$v"
	done <"$1/env"
}

running() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

# the binary: rebuilt only when a source file is newer than it
binary() {
	if [ -n "${NP_KUBE_APISERVER:-}" ]; then echo "$NP_KUBE_APISERVER"; return; fi
	local bin=${NP_KUBE_CACHE:-$ROOT/.cache/kube}/bin/np-kube-apiserver
	if [ -x "$bin" ] && [ -z "$(find "$HERE/server" "$HERE/build-server.sh" "$HERE/sid-packages.txt" -newer "$bin" -print -quit)" ]; then
		echo "$bin"
		return
	fi
	"$HERE/build-server.sh"
}

case $cmd in
start)
	bin=$(binary)
	owned=0
	if [ -z "$DIR" ]; then
		DIR=$(mktemp -d /tmp/np-kube.XXXXXX)
		owned=1
	fi
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd)
	if running "$DIR"; then log "already running in $DIR"; print_env "$DIR"; exit 0; fi
	# a restart in the same folder keeps the port (so kubeconfigs stay valid), unless NP_KUBE_PORT says
	port=${NP_KUBE_PORT:-}
	if [ -z "$port" ] && [ -f "$DIR/env" ]; then
		port=$(sed -n 's|^NP_KUBE_SERVER=https://127.0.0.1:||p' "$DIR/env")
	fi
	rm -f "$DIR/ready" "$DIR/env" "$DIR/pid"
	[ $owned = 1 ] && touch "$DIR/.np-kube-owned"
	t0=$(date +%s%N)
	setsid "$bin" --dir "$DIR" ${port:+--port "$port"} ${NP_KUBE_AGENT_NODE:+--agent-node "$NP_KUBE_AGENT_NODE"} \
		</dev/null >"$DIR/server.log" 2>&1 &
	echo $! >"$DIR/pid"
	until [ -f "$DIR/ready" ]; do
		if ! running "$DIR"; then
			log "server exited during start-up; its log ($DIR/server.log):"
			tail -30 "$DIR/server.log" >&2
			exit 1
		fi
		if [ $((($(date +%s%N) - t0) / 1000000000)) -ge 60 ]; then
			log "not ready after 60 s; log in $DIR/server.log"
			kill "$(cat "$DIR/pid")"
			exit 1
		fi
		sleep 0.05
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	log "ready in $((ms / 1000)).$(printf %03d $((ms % 1000))) s: $(grep '^NP_KUBE_SERVER=' "$DIR/env" | cut -d= -f2), state in $DIR"
	[ $owned = 1 ] && { mkdir -p "$(dirname "$CUR")"; echo "$DIR" >"$CUR"; }
	print_env "$DIR"
	;;
env | stop | status)
	if [ -z "$DIR" ] && [ -f "$CUR" ]; then DIR=$(cat "$CUR"); fi
	if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then log "no server folder (give DIR or set NP_KUBE_DIR)"; exit 1; fi
	case $cmd in
	env) running "$DIR" || { log "not running ($DIR)"; exit 1; }; print_env "$DIR" ;;
	status) running "$DIR" ;;
	stop)
		if running "$DIR"; then
			pid=$(cat "$DIR/pid")
			kill "$pid"
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		fi
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
