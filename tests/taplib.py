"""TAP for nodeprint's script tests, the one copy every suite imports (tests/run.sh counts the lines).

tap(ok, name, detail) prints "ok N - name" or "not ok N - name" and, on a failure, the first lines of
@detail as "# " comments; returns ok. eq(got, want, name) compares. finish() prints the plan "1..N"
and returns the exit status (1 when a test failed). run(main, label) runs a script's main(): a crash
is a failure with its reason, never a silent pass; then it prints the plan and exits (1 when a test
failed or main() returned a non-zero int).
taplib.n and taplib.failed are the counts so far. A harness that keeps its own counts (one guest
group) makes a Tap().

A script outside tests/ puts the folder on its path first:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
"""
import sys, traceback

DETAIL_LINES = 30


class Tap:
    """One TAP stream: ok(), eq(), fail() number the lines; n and failed count them."""

    def __init__(self):
        self.n = self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        self.failed += 0 if cond else 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {name}", flush=True)
        if not cond and detail:
            for line in str(detail).splitlines()[:DETAIL_LINES]:
                print(f"# {line}", flush=True)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, f"got:  {got!r}\nwant: {want!r}")

    def fail(self, name, detail=None):
        return self.ok(False, name, detail)

    def finish(self):
        print(f"1..{self.n}", flush=True)
        return 1 if self.failed else 0


_stream = Tap()
tap = _stream.ok
eq = _stream.eq
finish = _stream.finish


def run(main, label):
    """Run @main(), a crash as the failure "@label crashed"; print the plan and exit 1 when a test
    failed or main() returned a non-zero int, else 0."""
    rc = 0
    try:
        rc = main()
    except Exception as e:  # noqa: BLE001 - any crash is a failure with its reason
        tap(False, f"{label} crashed", repr(e) + "\n" + traceback.format_exc()[-1500:])
    code = finish()
    sys.exit(code or (1 if isinstance(rc, int) and rc else 0))


def __getattr__(name):
    if name in ("n", "failed"):
        return getattr(_stream, name)
    raise AttributeError(name)
