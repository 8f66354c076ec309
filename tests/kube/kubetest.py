"""kubetest.py - what the TAP tests against the test cluster share: TAP lines and a real kube-apiserver
behind the fault proxy, started for the test (tests/kube/server.sh), whose env (NP_KUBE_*) is handed
over in ENV; `kubectl` on PATH is then the one tests/cluster/build.sh built (NP_K8S_BIN)."""
import os, subprocess, sys, tempfile

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.sh")
ENV = {}
_count = {"n": 0, "failed": 0}


def tap(ok, name, detail=""):
    """One TAP line; on failure the first lines of @detail as comments."""
    _count["n"] += 1
    _count["failed"] += 0 if ok else 1
    print(f"{'ok' if ok else 'not ok'} {_count['n']} - {name}", flush=True)
    if not ok and detail:
        for line in str(detail).splitlines()[:25]:
            print(f"# {line}")


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
    print(f"1..{_count['n']}")
    sys.exit(1 if _count["failed"] else 0)
