#!/usr/bin/env python3
"""End-to-end: the command line as a script or a person meets it. Per-command --help, one-line
errors for bad options (exit 2), -o yaml equal to -o json (read back by PyYAML), the documented exit
codes (docs/reference.md "Exit codes"), host roots without proc/ and sys/, --only as a partial
report, findings first, text cut to $COLUMNS with a marker and a note, and every -o json valid
against docs/report.schema.json. Fixtures are captures (tests/fixtures/). TAP output."""
import json, os, re, shutil, subprocess, sys, tempfile

import yaml

import report_schema

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: taplib
import taplib  # noqa: E402
from taplib import tap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NODEPRINT", os.path.join(ROOT, "build", "nodeprint"))
AER = os.path.join(ROOT, "tests", "fixtures", "nib-q35-aer")     # an uncorrectable AER: one finding
VM = os.path.join(ROOT, "tests", "fixtures", "host-vm")            # a clean VM capture


def np(*args, env=None):
    e = dict(os.environ)
    e.pop("COLUMNS", None)
    e.update(env or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120, env=e)


def one_line_error(p, *needles):
    lines = p.stderr.splitlines()
    return p.returncode == 2 and len(lines) == 1 and p.stdout == "" and all(x in lines[0] for x in needles)


def test_help():
    glob = np("--help").stdout
    for cmd in ["inspect", "plan", "run", "fleet", "cleanup", "baseline", "policy", "collectors", "version", "kube"]:
        p = np(cmd, "--help")
        h = np("help", cmd)
        tap(p.returncode == 0 and p.stdout.startswith(f"Usage: nodeprint {cmd}") and p.stdout != glob and
            h.returncode == 0 and h.stdout == p.stdout,
            f"{cmd} --help prints its own usage (and `nodeprint help {cmd}` the same)", p.stdout[:200] + p.stderr)
    p = np("inspect", "--help")
    tap("--only" in p.stdout and "yaml" in p.stdout and "Exit codes" in p.stdout and "--cluster" not in p.stdout,
        "inspect --help: its options and exit codes, not plan's cluster options", p.stdout)
    tap("--cluster" in np("plan", "--help").stdout, "plan --help lists --cluster")


def test_bad_options():
    for cmd in ["inspect", "plan", "run", "fleet", "cleanup", "kube"]:
        p = np(cmd, "--no-such-flag")
        tap(one_line_error(p, "--no-such-flag", f"nodeprint {cmd} --help"),
            f"{cmd} --no-such-flag: one line naming it and the help, exit 2", f"exit {p.returncode}\n{p.stderr}")
    # regression: baseline printed getopt's "show: option ... requires an argument" and its whole usage
    for args, needle in [(["--no-such-flag"], "unknown option '--no-such-flag'"), (["--profile"], "needs a value")]:
        p = np("baseline", "show", *args)
        tap(one_line_error(p, "nodeprint baseline", needle, "nodeprint baseline --help"),
            f"baseline show {args[0]}: one line naming it and the help, exit 2", f"exit {p.returncode}\n{p.stderr}")
    p = np("inspect", "-Z")
    tap(one_line_error(p, "'-Z'"), "an unknown short option: one line, exit 2", p.stderr)
    p = np("inspect", "--policy")
    tap(one_line_error(p, "--policy", "needs a value"), "an option without its value: one line, exit 2", p.stderr)
    p = np("inspect", "-o", "xml")
    tap(one_line_error(p, "xml", "text, json or yaml"), "-o xml: one line naming the formats, exit 2", p.stderr)
    p = np("frobnicate")
    tap(one_line_error(p, "frobnicate"), "an unknown command: one line, exit 2", p.stderr)
    for args, needle in [(["--poll", "0"], "--poll"), (["--poll", "0.05"], "--poll"),
                         (["--smart-interval", "0.5"], "--smart-interval"), (["--poll", "x"], "--poll")]:
        p = np("run", "--node-name", "n", "--dry-run", "--cycles", "1", *args)
        tap(one_line_error(p, needle), f"run {' '.join(args)} is refused, not rounded (exit 2)", p.stderr)


def test_host_root():
    with tempfile.TemporaryDirectory() as d:
        p = np("inspect", "--host-root", d)
        tap(one_line_error(p, d, "proc/", "sys/"), "a host root without proc/ and sys/ is a usage error (exit 2)",
            f"exit {p.returncode}\n{p.stderr}")
        os.makedirs(os.path.join(d, "proc"))
        os.makedirs(os.path.join(d, "sys"))
        p = np("inspect", "--host-root", d)
        tap(one_line_error(p, d, "hold none of a host's files", "proc/self/mountinfo"),
            "a host root with empty proc/ and sys/ says they are empty, not missing (exit 2)",
            f"exit {p.returncode}\n{p.stderr}")
        os.rmdir(os.path.join(d, "proc"))
        os.makedirs(os.path.join(d, "sys", "class"))
        p = np("inspect", "--host-root", d, "-o", "json")
        doc = report_schema.loads(p.stdout) if p.stdout else {}
        down = [s["source"] for s in doc.get("sources", []) if not s["up"]]
        tap(p.returncode == 3 and doc["host_root"] == d and "kmsg" in down,
            "with only a sys/ it is read, blind (exit 3): the sources it lacks are down", f"{p.returncode} {down}")
    p = np("inspect", "--host-root", "/nonexistent-root")
    tap(one_line_error(p, "/nonexistent-root"), "a missing host root: one line, exit 2", p.stderr)


def test_policy_usage():
    for args, needle in [(["--bogus"], "unknown option '--bogus'"), (["--check"], "--check needs a FILE"),
                         (["--default", "extra"], "unexpected argument 'extra'"), ([], "expected --default or --check")]:
        p = np("policy", *args)
        tap(one_line_error(p, "nodeprint policy", needle, "nodeprint policy --help"),
            f"policy {' '.join(args)}: one line saying what is wrong, exit 2", f"exit {p.returncode}\n{p.stderr}")


def test_policy_check():
    p = np("policy", "--check", "/etc/passwd")
    tap(p.returncode == 1 and "not a nodeprint policy" in p.stderr and ": :" not in p.stderr and
        "policy --default" in p.stderr, "policy --check /etc/passwd says it is not a policy and how to get one",
        p.stderr)


def test_shipped_policy():
    """manifests/configmap.yaml and the chart's values.yaml ship the built-in policy as `policy --default`
    prints it, byte for byte (the chart with labelPrefix templated): "the built-in policy" in their
    comments stays true when a default changes."""
    d = np("policy", "--default")
    cm = yaml.safe_load(open(os.path.join(ROOT, "manifests", "configmap.yaml")))["data"]["policy.yaml"]
    tap(d.returncode == 0 and cm == d.stdout, "manifests/configmap.yaml's policy.yaml is `policy --default`",
        "regenerate it from `nodeprint policy --default`" if cm != d.stdout else "")
    v = yaml.safe_load(open(os.path.join(ROOT, "helm", "nodeprint", "values.yaml")))["policy"]
    v = v.replace("labelPrefix: {{ .Values.labelPrefix }}", "labelPrefix: nodeprint.io", 1)
    tap(d.returncode == 0 and v == d.stdout, "helm values.yaml's policy is `policy --default` (labelPrefix templated)",
        "regenerate it from `nodeprint policy --default`" if v != d.stdout else "")


def without_times(doc):
    """@doc without what differs between two runs: when and how long it took to collect."""
    if isinstance(doc, dict):
        return {k: without_times(v) for k, v in doc.items() if k not in ("collected_at_ms", "duration_us", "collect_us")}
    if isinstance(doc, list):
        return [without_times(v) for v in doc]
    return doc


def test_formats_and_exit():
    for root in (AER, VM):
        j = np("inspect", "--host-root", root, "-o", "json")
        y = np("inspect", "--host-root", root, "-o", "yaml")
        doc = report_schema.loads(j.stdout)
        ydoc = yaml.safe_load(y.stdout)
        tap(y.returncode == j.returncode and without_times(ydoc) == without_times(doc),
            f"-o yaml reads back (PyYAML) as the -o json document ({os.path.basename(root)})",
            f"exit {y.returncode}/{j.returncode}; keys {sorted(ydoc or {})[:8]}")
        ids = {f["id"] for f in doc["plan"]["findings"]}
        want = 4 if ids - {"source-unreadable"} else 3 if ids else 0
        tap(j.returncode == want, f"inspect exits {want} with {len(doc['plan']['findings'])} findings "
            f"({os.path.basename(root)})", j.stderr)
    # fixed expectations: the AER capture holds one uncorrectable error, the VM capture none
    doc = report_schema.loads(np("inspect", "--host-root", AER, "-o", "json").stdout)
    tap([f["id"] for f in doc["plan"]["findings"] if f["id"] != "source-unreadable"] == ["pcie-errors"],
        "the AER capture has one finding, pcie-errors",
        doc["plan"]["findings"])
    p = np("plan", "--host-root", AER)
    tap(p.returncode == 4, "plan exits 4 with findings too", p.stderr)
    # drift from a pin is a finding too
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write("apiVersion: nodeprint.io/v1\nkind: Policy\nclasses:\n  - name: any\n    match: {}\n"
                "    pins:\n      kernel: {release: [\"0.0.0-not-this\"]}\n")
        f.flush()
        p = np("inspect", "--host-root", VM, "--policy", f.name, "-o", "json")
        plan = report_schema.loads(p.stdout)["plan"] if p.stdout else {}
        tap(p.returncode == 4 and plan.get("bundle_state") == "drift", "bundle drift from a pin exits 4",
            f"exit {p.returncode} {plan.get('bundle_state')} {p.stderr}")
    y = np("plan", "-o", "yaml")
    tap(y.returncode == 0 and set(yaml.safe_load(y.stdout)) == {"plan"}, "plan -o yaml", y.stderr)


def test_partial():
    # regression: an empty --only (an unset shell variable, a stray comma) read nothing and exited 0
    for arg in ("", ","):
        e = np("inspect", "--host-root", AER, "--only", arg)
        tap(e.returncode == 2 and "--only: no section" in e.stderr and not e.stdout,
            f"--only '{arg}' is bad usage (exit 2), not an empty report that exits 0", (e.returncode, e.stderr))
    p = np("inspect", "--host-root", AER, "--only", "pci", "-o", "json")
    doc = report_schema.loads(p.stdout)
    tap(doc.get("partial") is True and doc.get("sections") == ["pci"] and doc["fingerprint"].get("partial") is True,
        "--only pci: the report says partial, which sections, and that the fingerprint is partial",
        {k: doc.get(k) for k in ("partial", "sections")})
    tap("pci" in doc and not any(k in doc for k in ("kernel", "modules", "net", "block", "nvme", "multipath")),
        "sections not read are absent, not empty", sorted(doc))
    plan = doc["plan"]
    tap(not any(k.endswith(("/bundle", "/bundle-state", "/kernel")) for k in plan["labels"]) and
        not plan["annotations"], "a partial report plans no bundle, bundle-state, kernel label nor fingerprint",
        plan["labels"])
    tap([c["type"] for c in plan["conditions"]] == ["PCIeHealthy"] and plan["conditions"][0]["status"] == "False",
        "it plans only the conditions of what it read (PCIeHealthy False from the AER)", plan["conditions"])
    full = report_schema.loads(np("inspect", "--host-root", AER, "-o", "json").stdout)
    tap(len(full["plan"]["conditions"]) > 1 and "partial" not in full and "partial" not in full["fingerprint"],
        "the whole report plans every condition and is not marked partial", full["plan"]["conditions"])
    t = np("inspect", "--host-root", AER, "--only", "pci").stdout
    tap("PARTIAL, only: pci" in t.splitlines()[0] and "== Kernel ==" not in t and "== Modules ==" not in t and
        "== PCIe" in t and "not the node's bundle hash" in t,
        "text: the title says PARTIAL, other sections are left out, the hash is marked partial", t[:600])


def test_text_layout():
    t = np("inspect", "--host-root", AER).stdout.splitlines()
    heads = [l for l in t if l.startswith("== ")]
    f = t.index("== Findings ==") if "== Findings ==" in t else 999
    tap([h for h in heads if not h.startswith("== BLIND")][0] == "== Findings ==" and
        any("pcie-errors" in l for l in t[f:f + 4]), "inspect: the findings come first (after a BLIND block only)",
        "\n".join(t[:12]))
    tap(any(re.search(r"\d+ shown .*-o json lists all", l) for l in t), "the modules table says how to see hidden rows")
    wide = np("inspect", "--host-root", AER, "--wide", env={"COLUMNS": "60"}).stdout.splitlines()
    cut = np("inspect", "--host-root", AER, env={"COLUMNS": "60"}).stdout.splitlines()
    note = [l for l in cut if "--wide" in l]
    body = cut[:len(cut) - 2] if note else cut
    marked = [l for l in body if l.endswith("...")]
    long = [l for l in wide if len(l) > 60]
    tap(long and all(len(l) <= 60 for l in body), f"COLUMNS=60: every line within 60 columns ({len(long)} were longer)",
        [l for l in body if len(l) > 60][:3])
    tap(len(note) == 1 and note[0].startswith(f"{len(marked)} lines were cut at 60 columns") and
        len(marked) == len(long), "the cut lines end with ... and a closing note counts them and names --wide",
        f"{note} marked={len(marked)} long={len(long)}")
    same = len(wide) == len(body) and all(w == c or (c.endswith("...") and w.startswith(c[:-3]))
                                          for w, c in zip(wide, body))
    tap(same, "a cut line is the whole line's beginning (--wide shows the rest)")
    piped = np("inspect", "--host-root", AER).stdout.splitlines()
    tap(any(len(l) > 60 for l in piped) and not any("--wide" in l for l in piped),
        "piped without COLUMNS: nothing is cut (text for grep and files)")


def test_hostile_strings():
    # regression: text output wrote host strings raw, so a DMI or model string with escape
    # sequences retitled (OSC) or cleared (CSI 2J) the user's terminal; a copy of a real capture
    # with such a product_name (firmware sets it) must print it with '?' for each control character
    with tempfile.TemporaryDirectory() as d:
        root = os.path.join(d, "root")
        shutil.copytree(VM, root, symlinks=True)
        os.makedirs(os.path.join(root, "sys", "class", "dmi", "id"), exist_ok=True)
        with open(os.path.join(root, "sys", "class", "dmi", "id", "product_name"), "wb") as f:
            f.write(b"R740\x1b]0;owned\x07\x1b[2J\rend\n")
        for args, env in ((("--wide",), None), ((), {"COLUMNS": "200"}), (("--color", "always"), None)):
            p = np("inspect", "--host-root", root, *args, env=env)
            line = [l for l in p.stdout.splitlines() if "R740" in l]
            esc = re.sub(r"\x1b\[[0-9;]*m", "", p.stdout)  # our own colours are fine
            tap(p.returncode in (0, 3) and len(line) == 1 and "R740?]0;owned??[2J?end" in line[0] and
                not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", esc),
                f"inspect {' '.join(args) or 'COLUMNS=200'}: control characters of host strings print as '?'",
                (p.returncode, line))


def main():
    for t in (test_help, test_bad_options, test_host_root, test_policy_usage, test_policy_check, test_shipped_policy, test_formats_and_exit, test_partial,
              test_text_layout, test_hostile_strings):
        try:
            t()
        except Exception as e:  # a crash is a failure, never a silent pass
            tap(False, f"{t.__name__} crashed", repr(e))
    tap(report_schema.validated >= 7, f"{report_schema.validated} -o json outputs valid against docs/report.schema.json")


if __name__ == "__main__":
    taplib.run(main, "test_cli")
