"""TAP lines for the e2e scripts: tap(ok, name, detail) prints "ok N - name" or "not ok N - name"
with the detail as "# " lines; counts in n and failed."""
n = failed = 0


def tap(ok, name, detail=""):
    global n, failed
    n += 1
    failed += 0 if ok else 1
    print(f"{'ok' if ok else 'not ok'} {n} - {name}", flush=True)
    if not ok and detail:
        for line in str(detail).splitlines()[:20]:
            print(f"# {line}")
    return ok
