#!/bin/bash
# node.sh - a real node for the tests: containerd (CRI) + runc + a kubelet, all built by
# tests/cluster/build.sh (runtime, kube), registered with a running tests/cluster/cluster.sh control
# plane. This machine's kernel, its cgroup v1 hybrid (kubelet: failCgroupV1 false, cgroupfs driver),
# hostNetwork pods; a loopback-only CNI network makes the Node Ready without touching the host's
# interfaces (no bridge, no pod network: nothing nodeprint's DaemonSet needs).
#
#   eval "$(tests/cluster/cluster.sh start)"          # the control plane first (its NP_KUBE_* env)
#   tests/node/node.sh start NODE DIR                   # prints export lines (NP_NODE_*), waits for the Node
#                                                       # (NODE: `hostname`, which the apiserver resolves)
#   tests/node/node.sh import DIR ARCHIVE BASE          # ctr images import an OCI archive as BASE:<tag>
#   tests/node/node.sh stop DIR                         # kubelet, then every pod's containers, containerd
#   For a node elsewhere (the node-in-a-box guest: tests/vm/guest/node.sh, tests/vm/test_pod.py):
#   tests/node/node.sh guest DIR                        # DIR/pause.tar + pause.ref (the sandbox image),
#                                                       # containerd.toml, cni/ (config, loopback plugin)
#   tests/node/node.sh kubeconfig NODE DIR SERVER       # DIR/kubelet.kubeconfig for the apiserver at SERVER
#
# NP_NODE_STATUS_SECONDS (default 10): the kubelet's nodeStatusUpdateFrequency and ReportFrequency,
# how often it writes its Node's status (heartbeat) at the most and at the least.
#
# DIR holds everything (containerd root/state, kubelet root, pod logs, PKI, logs in DIR/log). Sandbox
# image: Kubernetes' pause.c built by build.sh, imported as localhost/np-pause:<k8s version> (no
# registry is reachable). Times go to stderr as "node.sh: <what> <ms> ms".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cmd=${1:-}
log() { echo "node.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
alive() { local p; p=$(cat "$DIR/run/$1.pid" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# $1 = count, $2 = address: that many distinct free ports there, one a line, from the tests' one
# picker (tests/ports.py)
free_ports() { python3 "$ROOT/tests/ports.py" "$1" "$2"; }

ctr_() { "$BIN/ctr" --address "$DIR/containerd.sock" --namespace k8s.io "$@"; }

# containerd's config on stdout: $1 root, $2 state folder, $3 socket, $4 runc, $5 CNI plugin folder,
# $6 CNI config folder, $7 restrict_oom_score_adj, $8 NoPivotRoot (true on a ramdisk root: pivot_root(2)
# refuses the initramfs with EINVAL, runc moves the root with MS_MOVE + chroot instead)
containerd_config() {
	cat <<-EOF
		version = 3
		root = "$1"
		state = "$2"
		[grpc]
		  address = "$3"
		[ttrpc]
		  address = "$3.ttrpc"
		[plugins.'io.containerd.cri.v1.images']
		  snapshotter = "overlayfs"
		  [plugins.'io.containerd.cri.v1.images'.pinned_images]
		    sandbox = "$PAUSE_REF"
		[plugins.'io.containerd.cri.v1.runtime']
		  restrict_oom_score_adj = $7
		  [plugins.'io.containerd.cri.v1.runtime'.containerd]
		    default_runtime_name = "runc"
		    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
		        BinaryName = "$4"
		        SystemdCgroup = false
		        NoPivotRoot = $8
		  [plugins.'io.containerd.cri.v1.runtime'.cni]
		    bin_dirs = ["$5"]
		    conf_dir = "$6"
	EOF
}

# loopback only: the runtime's network is "ready", the node's interfaces are left alone
cni_config() {
	printf '{"cniVersion":"1.0.0","name":"np-lo","plugins":[{"type":"loopback"}]}\n' >"$1/10-np-lo.conflist"
}

start_containerd() {
	mkdir -p "$DIR/containerd" "$DIR/cni" "$DIR/log" "$DIR/run"
	# a root without CAP_SYS_RESOURCE (a sandboxed host) may not lower oom_score_adj: critical pods
	# ask for -997 and runc init would fail with EACCES; then containerd clamps to its own score
	RESTRICT_OOM=false
	grep -q '^CapBnd:' /proc/self/status &&
		[ $((0x$(awk '/^CapBnd:/ {print $2}' /proc/self/status) >> 24 & 1)) = 0 ] && RESTRICT_OOM=true
	cni_config "$DIR/cni"
	containerd_config "$DIR/containerd/root" "$DIR/containerd/state" "$DIR/containerd.sock" "$BIN/runc" \
		/usr/lib/cni "$DIR/cni" $RESTRICT_OOM false >"$DIR/containerd/config.toml"
	local t0
	t0=$(date +%s%N)
	PATH="$BIN:$PATH" setsid "$BIN/containerd" --config "$DIR/containerd/config.toml" \
		>"$DIR/log/containerd.log" 2>&1 </dev/null &
	echo $! >"$DIR/run/containerd.pid"
	for _ in $(seq 300); do
		"$BIN/crictl" --runtime-endpoint "unix://$DIR/containerd.sock" info >/dev/null 2>&1 && break
		alive containerd || die "containerd exited: $(tail -5 "$DIR/log/containerd.log")"
		sleep 0.1
	done
	"$BIN/crictl" --runtime-endpoint "unix://$DIR/containerd.sock" info >/dev/null 2>&1 ||
		die "containerd's CRI did not answer in 30 s: $(tail -5 "$DIR/log/containerd.log")"
	log "containerd $(ms_since "$t0") ms"
}

# Kubernetes' pause.c as a one-file OCI image (umoci) in DIR/pause.tar
pause_tar() {
	local L=$DIR/pause-oci tag=${PAUSE_REF##*:}
	rm -rf "$L" "$DIR/pause-b"
	umoci init --layout "$L" && umoci new --image "$L:$tag" && umoci unpack --rootless --image "$L:$tag" "$DIR/pause-b" >/dev/null
	cp "$BIN/pause" "$DIR/pause-b/rootfs/pause"
	umoci repack --image "$L:$tag" "$DIR/pause-b" && umoci config --image "$L:$tag" --config.entrypoint /pause
	tar -C "$L" -cf "$DIR/pause.tar" .
	rm -rf "$L" "$DIR/pause-b"
}

# ... imported as the sandbox image
pause_image() {
	local t0
	t0=$(date +%s%N)
	pause_tar
	ctr_ images import --base-name "${PAUSE_REF%:*}" "$DIR/pause.tar" >/dev/null
	log "pause image $(ms_since "$t0") ms"
}

# the node's client certificate (CN system:node:NODE, O system:nodes), signed by the cluster CA, in
# DIR/kubelet.kubeconfig for the apiserver at $1 (default $NP_KUBE_SERVER); certificates inline, so
# the file works wherever the kubelet runs (a guest: tests/vm/test_pod.py)
node_kubeconfig() {
	local P=$DIR/pki b64='base64 -w0'
	mkdir -p "$P"
	openssl ecparam -name prime256v1 -genkey -noout -out "$P/kubelet.key" 2>/dev/null
	openssl req -new -key "$P/kubelet.key" -subj "/O=system:nodes/CN=system:node:$NODE" -out "$P/kubelet.csr" 2>/dev/null
	printf '%s\n' "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=clientAuth" >"$P/kubelet.ext"
	openssl x509 -req -in "$P/kubelet.csr" -CA "$NP_KUBE_CA" -CAkey "$NP_KUBE_CA_KEY" -CAcreateserial -days 30 \
		-extfile "$P/kubelet.ext" -out "$P/kubelet.crt" 2>/dev/null
	cat >"$DIR/kubelet.kubeconfig" <<-EOF
		apiVersion: v1
		kind: Config
		clusters: [{name: np, cluster: {server: "${1:-$NP_KUBE_SERVER}", certificate-authority-data: "$($b64 "$NP_KUBE_CA")"}}]
		users: [{name: node, user: {client-certificate-data: "$($b64 "$P/kubelet.crt")", client-key-data: "$($b64 "$P/kubelet.key")"}}]
		contexts: [{name: node, context: {cluster: np, user: node}}]
		current-context: node
	EOF
}

# The DaemonSet mounts the host's /var/lib/kubelet with HostToContainer propagation, which the runtime
# refuses unless that path is on a shared or slave mount. systemd makes / shared; this machine's / is
# private, so /var/lib/kubelet becomes a shared bind of itself (undone by stop).
shared_kubelet_dir() {
	local opt
	mkdir -p /var/lib/kubelet
	opt=$(findmnt -no PROPAGATION -T /var/lib/kubelet)
	case $opt in shared* | *slave*) return 0 ;; esac
	mount --bind /var/lib/kubelet /var/lib/kubelet && mount --make-shared /var/lib/kubelet
	touch "$DIR/run/shared-kubelet"
	log "/var/lib/kubelet was on a $opt mount: now a shared bind mount"
}

start_kubelet() {
	local port healthz t0 ip
	# the kubelet refuses a loopback node IP: the first global IPv4 address (hostNetwork pods get it
	# as their IP). The apiserver reaches the kubelet (logs, exec) by the Node's Hostname address
	# first: name the node after this machine's resolvable hostname; the kubelet listens everywhere.
	ip=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1)
	[ -n "$ip" ] || die "no global IPv4 address for the node (the kubelet refuses a loopback node IP)"
	read -r port healthz < <(free_ports 2 0.0.0.0 | paste -sd' ') # the kubelet listens everywhere
	mkdir -p "$DIR/kubelet" "$DIR/pod-logs"
	# authorization AlwaysAllow for callers the cluster CA signed (the apiserver's kubelet client for
	# logs and exec); anonymous off. failCgroupV1: this machine mounts cgroup v1 hybrid.
	cat >"$DIR/kubelet.yaml" <<-EOF
		apiVersion: kubelet.config.k8s.io/v1beta1
		kind: KubeletConfiguration
		failCgroupV1: false
		cgroupDriver: cgroupfs
		containerRuntimeEndpoint: unix://$DIR/containerd.sock
		address: 0.0.0.0
		port: $port
		readOnlyPort: 0
		healthzBindAddress: 127.0.0.1
		healthzPort: $healthz
		authentication:
		  anonymous: {enabled: false}
		  webhook: {enabled: false}
		  x509: {clientCAFile: "$NP_KUBE_CA"}
		authorization: {mode: AlwaysAllow}
		failSwapOn: false
		podLogsDir: $DIR/pod-logs
		resolvConf: /etc/resolv.conf
		evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
		imageGCHighThresholdPercent: 100
		imageGCLowThresholdPercent: 99
		serializeImagePulls: false
		syncFrequency: 5s
		nodeStatusUpdateFrequency: ${NP_NODE_STATUS_SECONDS:-10}s
		nodeStatusReportFrequency: ${NP_NODE_STATUS_SECONDS:-10}s
	EOF
	t0=$(date +%s%N)
	setsid "$BIN/kubelet" --config "$DIR/kubelet.yaml" --kubeconfig "$DIR/kubelet.kubeconfig" \
		--root-dir "$DIR/kubelet" --cert-dir "$DIR/pki" --hostname-override "$NODE" --node-ip "$ip" \
		>"$DIR/log/kubelet.log" 2>&1 </dev/null &
	echo $! >"$DIR/run/kubelet.pid"
	echo "$healthz" >"$DIR/run/kubelet.healthz"
	for _ in $(seq 600); do
		"$NP_KUBECTL" --kubeconfig "$NP_KUBE_KUBECONFIG" get node "$NODE" >/dev/null 2>&1 && break
		alive kubelet || die "kubelet exited: $(grep -E '^E|[Ee]rror' "$DIR/log/kubelet.log" | tail -5)"
		sleep 0.1
	done
	"$NP_KUBECTL" --kubeconfig "$NP_KUBE_KUBECONFIG" get node "$NODE" >/dev/null 2>&1 ||
		die "Node $NODE not registered in 60 s: $(grep -E '^E' "$DIR/log/kubelet.log" | tail -5)"
	log "node registered $(ms_since "$t0") ms"
	"$NP_KUBECTL" --kubeconfig "$NP_KUBE_KUBECONFIG" wait --for=condition=Ready "node/$NODE" --timeout=90s >/dev/null ||
		die "Node $NODE not Ready in 90 s: $(grep -E '^E' "$DIR/log/kubelet.log" | tail -5)"
	log "node Ready $(ms_since "$t0") ms"
}

stop_all() {
	local p
	if alive kubelet; then
		kill "$(cat "$DIR/run/kubelet.pid")"
		for _ in $(seq 100); do alive kubelet || break; sleep 0.1; done
	fi
	# the pods' containers and sandboxes go with the runtime that made them
	if alive containerd; then
		"$BIN/crictl" --runtime-endpoint "unix://$DIR/containerd.sock" rmp -fa >/dev/null 2>&1 || true
		kill "$(cat "$DIR/run/containerd.pid")"
		for _ in $(seq 100); do alive containerd || break; sleep 0.1; done
	fi
	for p in kubelet containerd; do alive "$p" && kill -9 "$(cat "$DIR/run/$p.pid")"; done
	# shims left by a killed containerd (their pid files are under the state folder)
	for f in $(find "$DIR/containerd/state" -name 'shim.pid' 2>/dev/null); do
		kill -9 "$(cat "$f")" 2>/dev/null || true
	done
	grep -o " $DIR/[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	if [ -f "$DIR/run/shared-kubelet" ]; then
		umount -l /var/lib/kubelet 2>/dev/null || true
		rm -f "$DIR/run/shared-kubelet"
	fi
	return 0
}

case $cmd in
start)
	NODE=${2:?usage: node.sh start NODE DIR}
	DIR=$(readlink -m "${3:?usage: node.sh start NODE DIR}")
	: "${NP_KUBE_SERVER:?start the control plane first: eval \"\$(tests/cluster/cluster.sh start)\"}"
	[ "$(id -u)" = 0 ] || die "a kubelet and containerd need root"
	BIN=$("$ROOT/tests/cluster/build.sh" runtime kube)
	PAUSE_REF=localhost/np-pause:$(cat "$BIN/.pause.version")
	mkdir -p "$DIR/run"
	start_containerd
	pause_image
	node_kubeconfig
	shared_kubelet_dir
	start_kubelet
	cat <<-EOF
		export NP_NODE_NAME='$NODE'
		export NP_NODE_DIR='$DIR'
		export NP_CRI='unix://$DIR/containerd.sock'
		export NP_CRICTL='$BIN/crictl'
		export NP_CTR='$BIN/ctr'
		export NP_CONTAINERD_SOCK='$DIR/containerd.sock'
	EOF
	;;
import)
	DIR=$(readlink -m "${2:?usage: node.sh import DIR ARCHIVE BASE}")
	BIN=$("$ROOT/tests/cluster/build.sh" runtime)
	t0=$(date +%s%N)
	ctr_ images import --base-name "${4:?usage: node.sh import DIR ARCHIVE BASE}" "${3:?}" >&2
	log "image import $(ms_since "$t0") ms"
	;;
guest)
	# the guest's paths: tests/vm/guest/node.sh (binaries on the k8sbin share, this DIR as /share)
	DIR=$(readlink -m "${2:?usage: node.sh guest DIR}")
	BIN=$("$ROOT/tests/cluster/build.sh" runtime kube)
	PAUSE_REF=localhost/np-pause:$(cat "$BIN/.pause.version")
	mkdir -p "$DIR/cni"
	pause_tar
	echo "$PAUSE_REF" >"$DIR/pause.ref"
	cni_config "$DIR/cni"
	cp /usr/lib/cni/loopback "$DIR/cni/"
	containerd_config /var/lib/containerd/root /run/containerd /run/containerd/containerd.sock /opt/k8s/runc \
		/share/cni /share/cni false true >"$DIR/containerd.toml"
	;;
kubeconfig)
	NODE=${2:?usage: node.sh kubeconfig NODE DIR SERVER}
	DIR=$(readlink -m "${3:?usage: node.sh kubeconfig NODE DIR SERVER}")
	: "${NP_KUBE_CA_KEY:?start the control plane first: eval \"\$(tests/cluster/cluster.sh start)\"}"
	mkdir -p "$DIR"
	node_kubeconfig "${4:?usage: node.sh kubeconfig NODE DIR SERVER}"
	;;
stop)
	DIR=$(readlink -m "${2:?usage: node.sh stop DIR}")
	BIN=$("$ROOT/tests/cluster/build.sh" runtime)
	stop_all
	;;
*) echo "usage: node.sh start NODE DIR | import DIR ARCHIVE BASE | stop DIR | guest DIR | kubeconfig NODE DIR SERVER" >&2; exit 2 ;;
esac
