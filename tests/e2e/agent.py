"""The agent under test on this machine, for the e2e scripts: `nodeprint run --dry-run` (no cluster)
with its HTTP endpoint on a free loopback port, waited for, stopped with SIGTERM and killed if it
outlives the test."""
import os, subprocess, sys, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))


sys.path.insert(0, os.path.join(ROOT, "tests"))
from ports import free_port  # noqa: E402,F401 - the tests' one port picker (the e2e scripts import it from here)


def get(url):
    """(status, body, Content-Type) of a GET; an HTTP error status is an answer, not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), ""


class Agent:
    """`with Agent(node, *args, prefix=(...), address="--metrics-address") as a:` runs
    [*prefix, nodeprint, "run", "--dry-run", "--node-name", node, *args, address, 127.0.0.1:PORT];
    a.base is "http://127.0.0.1:PORT", a.proc the process (stderr piped). stop() sends SIGTERM and
    returns (exit status, stderr); leaving the block kills an agent still running."""

    def __init__(self, node, *args, prefix=(), address="--metrics-address"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.cmd = [*prefix, BIN, "run", "--dry-run", "--node-name", node, *args, address, f"127.0.0.1:{self.port}"]
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stderr=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stderr.close()
        return False

    def get(self, path):
        """get() of @path on the agent."""
        return get(self.base + path)

    def wait(self, path="/readyz", until=lambda code, body: code == 200, tries=50, step=0.1):
        """GET @path every @step seconds until until(code, body) or @tries ran out (refused
        connections are retried); returns the last (code, body, content type), (0, "", "") if none."""
        last = (0, "", "")
        for _ in range(tries):
            try:
                last = self.get(path)
                if until(last[0], last[1]):
                    break
            except OSError:
                pass
            time.sleep(step)
        return last

    def stop(self, timeout=10):
        """SIGTERM, then the exit status and what the agent wrote to stderr."""
        self.proc.terminate()
        rc = self.proc.wait(timeout=timeout)
        return rc, self.proc.stderr.read()
