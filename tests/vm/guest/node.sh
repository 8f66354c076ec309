#!/bin/sh
# node.sh runtime | kubelet NODE PORT - a real node inside the node-in-a-box guest (tests/vm/test_pod.py):
#   runtime: containerd + runc, the sandbox image imported, make image's archive importing in the
#            background ($L/import.ms when done)
#   kubelet: the kubelet, registered as NODE, listening on PORT (the host forwards it in)
# The binaries (tests/cluster/build.sh) run from the read-only 9p share "k8sbin" at /opt/k8s: the
# static Go binaries stay in the host's page cache, not in the guest's RAM. The run's share (/share)
# holds what the host wrote: tests/node/node.sh guest (pause.tar, pause.ref, containerd.toml, cni/),
# tests/node/node.sh kubeconfig (kubelet.kubeconfig: system:node:NODE, apiserver 10.96.0.1:443), and
# image.tar (make image's OCI archive). The guest's cgroup v2 (a stock kernel, no systemd: cgroupfs
# driver), containerd's overlayfs snapshotter on a tmpfs, runc with NoPivotRoot (the root is the
# initramfs), a loopback-only CNI network, hostNetwork pods on the NIC of nib.Devices.cluster_net
# (10.96.0.15/24). Logs in /share/log/, times as "node.sh: <what> <ms> ms" on stderr.
set -e
K=/opt/k8s
S=/share
L=$S/log
log() { echo "node.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }
now() { cut -d' ' -f1 /proc/uptime | tr -d .; }         # hundredths of a second
ms_since() { echo $((($(now) - $1) * 10)); }
usage() { echo "usage: node.sh runtime | kubelet NODE PORT" >&2; exit 2; }

runtime() {
	mkdir -p $K $L /var/lib/containerd /var/lib/kubelet /var/log/pods
	mount | grep -q " $K " || mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro,cache=loose k8sbin $K ||
		die "cannot mount the k8sbin share"

	# cgroup v2, every controller the kubelet asks for delegated from the root
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
	done
	modprobe overlay
	# the runtime's and the kubelet's state on tmpfs (cadvisor finds its filesystem; the initramfs root,
	# "rootfs", it does not); /var/lib/kubelet shared, for the DaemonSet's HostToContainer mount
	mount -t tmpfs -o size=600m tmpfs /var/lib/containerd
	mount -t tmpfs -o size=200m tmpfs /var/lib/kubelet
	mount --make-shared /var/lib/kubelet
	mount -t tmpfs -o size=50m tmpfs /var/log/pods
	mount --make-rshared /
	echo "nameserver 10.96.0.3" >/etc/resolv.conf

	# the network: the cluster NIC (virtio-net, the only one), static
	modprobe virtio_net
	i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	ip addr add 10.96.0.15/24 dev eth0 && ip link set eth0 up && ip link set lo up
	ip route add default via 10.96.0.2

	PAUSE_REF=$(cat $S/pause.ref)
	t0=$(now)
	PATH=$K:$PATH setsid $K/containerd --config $S/containerd.toml >$L/containerd.log 2>&1 </dev/null &
	echo $! >/run/containerd.pid
	i=0
	until $K/ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; do
		kill -0 "$(cat /run/containerd.pid)" 2>/dev/null || die "containerd exited: $(tail -5 $L/containerd.log)"
		[ $i -lt 600 ] || die "containerd did not answer in 60 s"
		sleep 0.1; i=$((i + 1))
	done
	log "containerd $(ms_since "$t0") ms"
	t0=$(now)
	ctr_ images import --base-name "${PAUSE_REF%:*}" $S/pause.tar >/dev/null
	log "pause image $(ms_since "$t0") ms"
	# the agent's image in the background (about 80 s under TCG: gunzip and digests of a 36 MB layer),
	# while the host starts the control plane and the kubelet registers: $L/import.ms when done
	rm -f $L/import.ms
	(
		t0=$(now)
		ctr_ images import --base-name docker.io/library/nodeprint $S/image.tar >$L/import.log 2>&1 &&
			ms_since "$t0" >$L/import.ms
	) </dev/null >/dev/null 2>&1 &
}

kubelet() {
	NODE=${1:?usage: node.sh kubelet NODE PORT}
	PORT=${2:?usage: node.sh kubelet NODE PORT}
	printf '127.0.0.1 localhost\n10.96.0.15 %s\n' "$NODE" >/etc/hosts
	hostname "$NODE"

	cat >/var/lib/kubelet.yaml <<-EOF
	apiVersion: kubelet.config.k8s.io/v1beta1
	kind: KubeletConfiguration
	cgroupDriver: cgroupfs
	containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
	address: 0.0.0.0
	port: $PORT
	readOnlyPort: 0
	healthzBindAddress: 127.0.0.1
	authentication:
	  anonymous: {enabled: false}
	  webhook: {enabled: false}
	  x509: {clientCAFile: "/var/lib/kubelet-ca.crt"}
	authorization: {mode: AlwaysAllow}
	failSwapOn: false
	resolvConf: /etc/resolv.conf
	evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
	imageGCHighThresholdPercent: 100
	imageGCLowThresholdPercent: 99
	syncFrequency: 5s
	nodeStatusReportFrequency: 10s
	EOF
	# the cluster CA (the kubeconfig's) authenticates the apiserver's kubelet client (logs, exec)
	sed -n 's/.*certificate-authority-data: "\([^"]*\)".*/\1/p' $S/kubelet.kubeconfig | base64 -d >/var/lib/kubelet-ca.crt
	t0=$(now)
	setsid $K/kubelet --config /var/lib/kubelet.yaml --kubeconfig $S/kubelet.kubeconfig --root-dir /var/lib/kubelet \
		--cert-dir /var/lib/kubelet/pki --hostname-override "$NODE" --node-ip 10.96.0.15 \
		>$L/kubelet.log 2>&1 </dev/null &
	echo $! >/run/kubelet.pid
	sleep 1
	kill -0 "$(cat /run/kubelet.pid)" 2>/dev/null || die "kubelet exited: $(tail -5 $L/kubelet.log)"
	log "kubelet started $(ms_since "$t0") ms"
}

ctr_() { $K/ctr --address /run/containerd/containerd.sock --namespace k8s.io "$@"; }
case ${1:-} in
runtime) runtime ;;
kubelet) shift; kubelet "$@" ;;
*) usage ;;
esac
