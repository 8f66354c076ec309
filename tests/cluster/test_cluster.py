#!/usr/bin/env python3
"""The test cluster itself (tests/cluster/cluster.sh): the pinned components answer, authorization
is Node,RBAC (not allow-all), APF and the audit log are on, Nodes registered by cluster.py are Ready
with a renewed Lease, and `restart` keeps the port, the CA, tokens and stored objects. TAP output."""
import os, socket, sys, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import run_with_cluster, tap  # noqa: E402
import ports  # noqa: E402 - tests/, on the path through cluster


def port_of(url):
    return urllib.parse.urlsplit(url).port


def taken_ports(c):
    """Start on two ports another process holds (etcd's client port, kube-apiserver's), as when a
    port found free is taken before the component binds it: each is started again on a new port."""
    thieves = [socket.socket() for _ in range(2)]
    try:
        for s in thieves:
            s.bind(("127.0.0.1", ports.free_port()))
            s.listen()
        t_etcd, t_api = (s.getsockname()[1] for s in thieves)
        os.environ["NP_CLUSTER_PORTS"] = f"ETCD_PORT={t_etcd} API_PORT={t_api}"
        err = c.start().stderr
    finally:
        os.environ.pop("NP_CLUSTER_PORTS", None)
        for s in thieves:
            s.close()
    etcd, api = port_of(c.env["NP_KUBE_ETCD"]), port_of(c.env["NP_KUBE_SERVER"])
    tap("etcd: a port was taken before it bound" in err and "kube-apiserver: a port was taken before it bound" in err
        and etcd not in (t_etcd, t_api) and api not in (t_etcd, t_api),
        f"etcd's port {t_etcd} and kube-apiserver's {t_api} taken: each started again, on {etcd} and {api}", err[-2000:])
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = (int(x) for x in f.read().split())
    tap(all(not lo <= p <= hi for p in (etcd, api)),
        f"the new ports are outside the ephemeral range {lo}-{hi} (tests/ports.py)", (etcd, api))


def main(c, tmp):
    taken_ports(c)
    v = c.must("GET", "/version")
    tap(v.get("gitVersion") == "v1.37.2", "kube-apiserver v1.37.2", v)
    st, body = c.api("GET", "/readyz?verbose")
    tap(st == 200 and "[+]poststarthook/rbac/bootstrap-roles ok" in str(body), "readyz, with RBAC's bootstrap roles", body)
    fs = c.must("GET", "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas")["items"]
    tap(any(f["metadata"]["name"] == "system-nodes" for f in fs), f"API Priority and Fairness: {len(fs)} FlowSchemas")
    c.create_node("node-1")
    n = c.node("node-1")
    ready = {x["type"]: x["status"] for x in n["status"]["conditions"]}
    tap(ready.get("Ready") == "True" and n["status"]["allocatable"]["pods"] == "110" and
        not n["spec"].get("taints"), "a registered Node: Ready, allocatable, not tainted not-ready", n)
    lease = c.must("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1")
    r0 = lease["spec"]["renewTime"]
    r1 = c.wait(lambda: (x := c.must("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1"))
                ["spec"]["renewTime"] != r0 and x["spec"]["renewTime"], timeout=25, every=1)
    tap(bool(r1) and r1 > r0, f"the heartbeat renews the Node's Lease ({r0} -> {r1})")

    # authorization is real: a service account without a binding is refused by RBAC
    c.kubectl("create", "namespace", "probe")
    c.kubectl("create", "serviceaccount", "nobody", "-n", "probe")
    tok = c.kubectl("create", "token", "nobody", "-n", "probe").stdout.strip()
    mark = c.audit_mark()
    st, body = c.api("GET", "/api/v1/nodes", token=tok)
    tap(st == 403 and "cannot list resource" in str(body), "RBAC enforced: a service account without a binding gets 403", body)
    ev = [e for e in c.audit(mark, user="system:serviceaccount:probe:nobody") if e["stage"] == "ResponseComplete"]
    tap(len(ev) == 1 and ev[0]["verb"] == "list" and ev[0]["responseStatus"]["code"] == 403 and
        ev[0]["annotations"].get("authorization.k8s.io/decision") == "forbid", "and the audit log records it", ev)

    # controllers run: the service-account controller made default/default
    tap(c.wait(lambda: c.api("GET", "/api/v1/namespaces/default/serviceaccounts/default")[0] == 200, timeout=60),
        "kube-controller-manager runs (default/default ServiceAccount exists)")

    before = dict(c.env)
    rv = n["metadata"]["resourceVersion"]
    t0 = time.monotonic()
    c.restart()
    dt = time.monotonic() - t0
    tap(c.env["NP_KUBE_SERVER"] == before["NP_KUBE_SERVER"] and c.env["NP_KUBE_ADMIN_TOKEN"] == before["NP_KUBE_ADMIN_TOKEN"]
        and open(c.env["NP_KUBE_CA"]).read() == open(before["NP_KUBE_CA"]).read(),
        f"restart ({dt:.1f} s) keeps the port, the token and the CA")
    n2 = c.node("node-1")
    tap(n2["metadata"]["uid"] == n["metadata"]["uid"] and int(n2["metadata"]["resourceVersion"]) >= int(rv),
        "and the stored objects (same Node uid)")
    st, _ = c.api("GET", "/api/v1/nodes", token=tok)
    tap(st == 403, "a token issued before the restart is still valid (403 by RBAC, not 401)", st)
    print(f"# restart took {dt:.1f} s", flush=True)
    logs = sorted(os.listdir(os.path.join(c.dir, "log")))
    tap(logs == ["etcd.log", "heartbeat.log", "kube-apiserver.log", "kube-controller-manager.log", "kube-scheduler.log"],
        "one log per component", logs)


if __name__ == "__main__":
    run_with_cluster(main, "test_cluster", start=False)
