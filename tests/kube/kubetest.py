"""kubetest.py - what the TAP tests against the test cluster share: TAP lines and a real kube-apiserver
behind the fault proxy, started for the test (tests/kube/server.sh), whose env (NP_KUBE_*) is handed
over in ENV; `kubectl` on PATH is then the one tests/cluster/build.sh built (NP_K8S_BIN)."""
import collections, json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402,F401 - the kube tests import it from here

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.sh")
ENV = {}


def audit(user):
    """kube-apiserver's audit log (NP_KUBE_AUDIT_LOG): (verb, status code) of each request of @user that
    completed there (faults the proxy answered never reach it)."""
    out = []
    with open(ENV["NP_KUBE_AUDIT_LOG"]) as f:
        for line in f:
            e = json.loads(line)
            if e.get("stage") == "ResponseComplete" and e.get("user", {}).get("username") == user:
                out.append((e["verb"], e.get("responseStatus", {}).get("code", 0)))
    return out


def audit_summary(user):
    """A TAP comment line: the user's requests by verb and status, e.g. 'get 200: 41, patch 200: 12'."""
    c = collections.Counter(f"{v} {s}" for v, s in audit(user))
    print("# audit log, " + user + ": " + ", ".join(f"{k}: {n}" for k, n in sorted(c.items())), flush=True)
    return c


def valve_classes(*classes):
    """Let the agent use the safety valve's Lease of each policy class in @classes when the Role
    nodeprint-valve names its Leases (resourceNames). The shipped Role grants the namespace's leases
    and the admission policy nodeprint-valve-leases limits the names: then nothing is to be done."""
    kubectl = os.path.join(ENV["NP_K8S_BIN"], "kubectl")
    role = json.loads(subprocess.run([kubectl, "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "-n", "nodeprint", "get", "role",
                                      "nodeprint-valve", "-o", "json"], capture_output=True, text=True, check=True).stdout)
    if "resourceNames" not in role["rules"][0]:
        return  # the shipped Role: every Lease of the namespace, the admission policy names them
    names = role["rules"][0]["resourceNames"]
    names += [f"nodeprint-valve-{c}" for c in classes if f"nodeprint-valve-{c}" not in names]
    subprocess.run([kubectl, "--kubeconfig", ENV["NP_KUBE_KUBECONFIG"], "apply", "-f", "-"], input=json.dumps(role),
                   capture_output=True, text=True, check=True)


def run_with_server(main, label):
    """Start a server in a temp folder, fill ENV, run main(tmp), stop it; exit with the TAP result.
    A server that cannot start, or a crash in main, is a failure with its reason, never a pass."""
    if not os.path.exists(SERVER):
        tap(False, "tests/kube/server.sh is missing")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            sdir = os.path.join(tmp, "server")
            start = subprocess.run([SERVER, "start", sdir], capture_output=True, text=True, timeout=3600)
            if start.returncode != 0:
                tap(False, "test cluster (kube-apiserver + fault proxy) starts", start.stderr[-3000:])
            else:
                for line in open(os.path.join(sdir, "env")):
                    k, _, v = line.strip().partition("=")
                    ENV[k] = v
                os.environ["PATH"] = ENV["NP_K8S_BIN"] + os.pathsep + os.environ.get("PATH", "")
                try:
                    main(tmp)
                except Exception as e:
                    tap(False, f"{label} crashed", repr(e))
                finally:
                    subprocess.run([SERVER, "stop", sdir], capture_output=True)
    sys.exit(taplib.finish())
