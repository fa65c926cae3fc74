#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kvm-unit-tests under Petrel (`make kut`, and `make test` via `check`).

    tools/kut.py build           build the suite from KUT_SRC into build/kut/
    tools/kut.py run [NAME...]   run entries (default: every x86 entry) under
                                 Petrel on QEMU TCG (SVM), write
                                 build/kut/results.tsv and compare it with
                                 the baseline (QEMU TCG without Petrel)
    tools/kut.py check [--vmx]   run the entries tests/kut/expected lists and
                                 fail on any regression (TAP lines); with
                                 --vmx, those marked `vmx` under Bochs (VMX)
    KUT_BACKEND=vmx tools/kut.py run NAME...   the same under Bochs

KUT_SRC is a source tree or a tarball of kvm-unit-tests (default: the one in
../shared/kvm-unit-tests/).  Without one, `build` says where to get it and
`check` reports a skip.  Nothing of the suite is copied into Petrel: the
.flat files run unmodified as multiboot guests, each the only VM, as
../shared/kvm-unit-tests/README.md describes.

What Petrel gives each test: the PC board, `mem=` from the entry's `-m`
(default 128 MiB, as QEMU's), the multiboot command line "FILE ARGS" (argv[0]
first, as QEMU's -kernel/-append give it), one module (the environ file),
fw_cfg for the CPU count and RAM size.  What it cannot give is written in the
`adapted` column: an entry's -cpu model (the guest sees Petrel's view of the
host's CPU), more vCPUs than a VM may have (smp > 8 runs with 8).
"""
import os
import re
import shlex
import subprocess
import sys
import tarfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "kut")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "kvm-unit-tests"))
EXPECTED = os.path.join(ROOT, "tests", "kut", "expected")
STOP_RE = re.compile(r"petrel: (all VMs stopped|ready: 0 VMs|FATAL|PANIC|cpu [0-9]+ stopped|EXCEPTION)")
COLUMNS = ["test", "file", "category", "needs", "smp", "status", "qemu_rc", "pass", "fail", "skip",
           "xfail_kfail", "wall_s", "adapted", "cfg_notes", "summary"]


def kut_src():
    src = os.environ.get("KUT_SRC")
    if src:
        return src
    if os.path.isdir(SHARED):
        for f in sorted(os.listdir(SHARED)):
            if f.startswith("kvm-unit-tests") and f.endswith(".tar.gz"):
                return os.path.join(SHARED, f)
    return None


def tree():
    return os.path.join(BUILD, "kvm-unit-tests")


def build():
    src = kut_src()
    if not src or not os.path.exists(src):
        print("kut: no kvm-unit-tests source: set KUT_SRC to a source tree or tarball "
              "(https://gitlab.com/kvm-unit-tests/kvm-unit-tests)")
        return False
    stamp = os.path.join(BUILD, ".built-from")
    if os.path.exists(stamp) and open(stamp).read() == src and os.path.exists(os.path.join(tree(), "x86", "dummy.flat")):
        return True
    subprocess.run(["rm", "-rf", tree()], check=True)
    os.makedirs(BUILD, exist_ok=True)
    if os.path.isdir(src):
        subprocess.run(["cp", "-a", src, tree()], check=True)
    else:
        with tarfile.open(src) as t:
            top = t.getnames()[0].split("/")[0]
            t.extractall(BUILD)
        if top != "kvm-unit-tests":
            os.rename(os.path.join(BUILD, top), tree())
    log = open(os.path.join(BUILD, "build.log"), "w")
    for cmd in (["./configure", "--arch=x86_64"], ["make", "-j2"]):
        if subprocess.run(cmd, cwd=tree(), stdout=log, stderr=subprocess.STDOUT).returncode:
            print("kut: %s failed (build/kut/build.log)" % " ".join(cmd))
            return False
    open(stamp, "w").write(src)
    return True


def parse_cfg():
    """x86/unittests.cfg: [name] sections of key = value lines."""
    entries, cur = [], None
    for line in open(os.path.join(tree(), "x86", "unittests.cfg")):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"\[(.+)\]", line)
        if m:
            cur = {"name": m.group(1)}
            entries.append(cur)
        elif cur is not None and "=" in line:
            k, v = line.split("=", 1)
            cur[k.strip()] = v.strip()
    return entries


def baseline():
    rows = {}
    path = os.path.join(SHARED, "baseline-tcg.tsv")
    if os.path.exists(path):
        lines = open(path).read().splitlines()
        head = lines[0].split("\t")
        for l in lines[1:]:
            r = dict(zip(head, l.split("\t")))
            rows[r["test"]] = r
    return rows


def all_entries():
    """The cfg's entries plus the flats it does not list (as the baseline has them)."""
    entries = parse_cfg()
    listed = {e.get("file") for e in entries}
    for f in ("dummy", "hpet_read_test", "init", "tscdeadline_latency"):
        if f + ".flat" not in listed:
            entries.append({"name": f, "file": f + ".flat"})
    return entries


def mem_mib(params):
    m = re.search(r"-m\s+(\d+)([MmGg]?)", params)
    if not m:
        return 128
    n = int(m.group(1))
    return n * 1024 if m.group(2) in ("G", "g") else n


MAX_VCPUS = 8  # GUEST_MAX_VCPUS


def boot(backend, flat_rel, env_rel, mem, cpus, cmdline, log, limit):
    """Boots Petrel with the test as its only VM; returns (serial text, timed out)."""
    if backend == "vmx":
        iso = os.path.join(BUILD, "kut-vmx.iso")
        subprocess.run(["tools/mkiso.sh", iso, "build/hv.elf", "--cmdline", "loglevel=info",
                        "--module", '%s vm=kut mem=%dM cpus=%d cmdline="%s" triple_fault=stop' % (flat_rel, mem, cpus, cmdline),
                        "--module", "%s vm=kut role=module" % env_rel],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        start = time.time()
        subprocess.run(["tools/run-bochs.sh", iso, log, str(limit), STOP_RE.pattern], cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, BOCHS_MEGS=str(max(512, 2 * mem + 256))))
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
        return text, not STOP_RE.search(text) and time.time() - start >= limit
    initrd = '%s vm=kut mem=%dM cpus=%d cmdline="%s" triple_fault=stop,%s vm=kut role=module' % (
        flat_rel, mem, cpus, cmdline, env_rel)
    # Petrel takes the guest's RAM below 4 GiB in one piece: the host
    # needs room around it.
    host_mem = max(1024, 2 * mem + 512)
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", str(host_mem), "-smp", "2",
           "-display", "none", "-nic", "none", "-no-reboot", "-serial", "file:" + os.path.relpath(log, ROOT),
           "-kernel", "build/hv.elf", "-initrd", initrd]
    start = time.time()
    open(log, "w").close()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    text, timed_out = "", False
    while True:
        time.sleep(0.25)
        text = open(log, errors="replace").read()
        if STOP_RE.search(text):
            time.sleep(0.3)
            text = open(log, errors="replace").read()
            break
        if p.poll() is not None:
            break
        if time.time() - start > limit:
            timed_out = True
            break
    if p.poll() is None:
        p.kill()
    p.wait()
    return text, timed_out


def run_one(e, base, timeout=None, backend="svm"):
    name, flat = e["name"], e.get("file", "")
    smp = int(e.get("smp", "1") or 1)
    params = (e.get("qemu_params", "") + " " + e.get("extra_params", "")).strip()
    args = e.get("test_args", "").strip()
    if len(args) >= 2 and args[0] == args[-1] and args[0] in "'\"":
        args = args[1:-1]
    b = base.get(name, {})
    row = {"test": name, "file": flat, "category": b.get("category", ""), "needs": b.get("needs", ""),
           "smp": str(smp), "status": "", "qemu_rc": "-", "pass": "0", "fail": "0", "skip": "0",
           "xfail_kfail": "0", "wall_s": "0", "adapted": "", "cfg_notes": "", "summary": ""}
    path = os.path.join(tree(), "x86", flat)
    if e.get("arch") == "i386" or not os.path.exists(path):
        row["status"] = "NOTBUILT"
        return row, ""
    adapted = []
    cpu = re.search(r"-cpu\s+(\S+)", params)
    if cpu:
        adapted.append("cpu-%s->petrel" % cpu.group(1))
    if smp > MAX_VCPUS:
        adapted.append("smp%d->%d" % (smp, MAX_VCPUS))
    if '"' in args or "," in args:
        row["status"] = "HARNESS"
        row["cfg_notes"] = "test_args with a quote or comma cannot go through -initrd"
        return row, ""
    row["adapted"] = ";".join(adapted) + (";" if adapted else "")
    mem = mem_mib(params)
    env = os.path.join(BUILD, "environ")
    open(env, "w").write("KUT_HARNESS=petrel\n")
    rel = lambda p: os.path.relpath(p, ROOT)
    cmdline = ("x86/%s %s" % (flat, args)).strip()
    log = os.path.join(BUILD, "logs", backend, name + ".log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    limit = timeout or int(re.sub(r"\D", "", e.get("timeout", "90")) or 90)
    if backend == "vmx":
        limit = min(limit * 5, 600) # Bochs is much slower than QEMU TCG
    start = time.time()
    text, timed_out = boot(backend, rel(path), rel(env), mem, min(smp, MAX_VCPUS), cmdline, log, limit)
    row["wall_s"] = "%.2f" % (time.time() - start)
    guest = [l[len("[kut] "):] for l in text.splitlines() if l.startswith("[kut] ")]
    row["pass"] = str(sum(l.startswith("PASS:") for l in guest))
    row["fail"] = str(sum(l.startswith("FAIL:") for l in guest))
    row["skip"] = str(sum(l.startswith("SKIP:") for l in guest))
    row["xfail_kfail"] = str(sum(re.match(r"(XFAIL|XPASS|KFAIL):", l) is not None for l in guest))
    summ = [l for l in guest if l.startswith("SUMMARY:")]
    row["summary"] = summ[-1] if summ else ""
    m = re.search(r"petrel: vm kut exit code (\d+)", text)
    stopped = re.search(r"petrel: vm kut stopped: (.*)", text)
    if m:
        code = int(m.group(1))
        row["qemu_rc"] = str((code << 1) | 1)
        row["status"] = {0: "PASS", 38: "SKIP", 63: "ABORT"}.get(code, "FAIL")
    elif timed_out:
        row["status"], row["qemu_rc"] = "TIMEOUT", "124"
    elif stopped and "triple fault" in stopped.group(1):
        row["status"], row["qemu_rc"] = "NOEXIT", "0"
    elif stopped:
        row["status"] = "STOPPED"
        row["cfg_notes"] = "stopped:" + stopped.group(1)
    elif "petrel: ready: 0 VMs" in text:
        row["status"] = "NOTSTARTED"
    elif re.search(r"petrel: (FATAL|PANIC|EXCEPTION)", text):
        row["status"] = "PETREL"
        row["cfg_notes"] = "hypervisor failed"
    else:
        row["status"] = "NOEXIT"
    errs = [l for l in text.splitlines() if "error:" in l and not l.startswith("[kut]")]
    if errs and row["status"] != "PASS":
        row["cfg_notes"] += ("" if not row["cfg_notes"] else ";") + "last-error:" + errs[-1][-120:]
    if guest and row["status"] not in ("PASS",):
        row["cfg_notes"] += ("" if not row["cfg_notes"] else ";") + "last:" + guest[-1][:100]
    return row, text


def write_tsv(rows, path):
    with open(path, "w") as f:
        f.write("\t".join(COLUMNS) + "\n")
        for r in rows:
            f.write("\t".join(r[c].replace("\t", " ") for c in COLUMNS) + "\n")


def compare(rows, base):
    print("%-44s %-9s %5s %5s   %-9s %5s %5s" % ("test", "petrel", "pass", "fail", "tcg", "pass", "fail"))
    counts = {}
    for r in rows:
        b = base.get(r["test"], {})
        print("%-44s %-9s %5s %5s   %-9s %5s %5s" % (r["test"], r["status"], r["pass"], r["fail"],
                                                   b.get("status", "-"), b.get("pass", "-"), b.get("fail", "-")))
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    both = [r["test"] for r in rows if r["status"] == "PASS" and base.get(r["test"], {}).get("status") == "PASS"]
    lost = [r["test"] for r in rows if r["status"] != "PASS" and base.get(r["test"], {}).get("status") == "PASS"]
    won = [r["test"] for r in rows if r["status"] == "PASS" and base.get(r["test"], {}).get("status") != "PASS"]
    print()
    print("petrel: %d entries: %s" % (len(rows), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    print("PASS: lines: petrel %d, tcg %d (these entries)" % (
        sum(int(r["pass"]) for r in rows),
        sum(int(base.get(r["test"], {}).get("pass", 0) or 0) for r in rows)))
    print("pass on both: %d: %s" % (len(both), " ".join(both)))
    print("pass on TCG only: %d: %s" % (len(lost), " ".join(lost)))
    print("pass under Petrel only: %d: %s" % (len(won), " ".join(won)))


def select(names):
    entries = all_entries()
    if not names:
        return entries
    by = {e["name"]: e for e in entries}
    missing = [n for n in names if n not in by]
    if missing:
        sys.exit("kut: no such entry: %s" % " ".join(missing))
    return [by[n] for n in names]


def cmd_run(names):
    if not build():
        return 0
    base = baseline()
    rows = []
    backend = os.environ.get("KUT_BACKEND", "svm")
    for e in select(names):
        row, _ = run_one(e, base, backend=backend)
        print("%-44s %s (%s s, %s PASS, %s FAIL)" % (row["test"], row["status"], row["wall_s"], row["pass"],
                                                     row["fail"]), flush=True)
        rows.append(row)
    out = os.path.join(BUILD, "results.tsv" if backend == "svm" else "results-%s.tsv" % backend)
    write_tsv(rows, out)
    print("\nkut: results in %s (logs in build/kut/logs/%s/)\n" % (os.path.relpath(out, ROOT), backend))
    compare(rows, base)
    return 0


def expected():
    """tests/kut/expected: NAME STATUS MIN_PASS [vmx] [timeout=S] per line."""
    out = []
    for line in open(EXPECTED):
        line = line.split("#", 1)[0].split()
        if line:
            t = [int(w[len("timeout="):]) for w in line[3:] if w.startswith("timeout=")]
            out.append((line[0], line[1], int(line[2]), "vmx" in line[3:], t[0] if t else None))
    return out


def cmd_check(args):
    """TAP lines for the integration runner: each expected entry keeps its
    status and at least its count of PASS: lines."""
    backend = "vmx" if "--vmx" in args else "svm"
    names = [a for a in args if not a.startswith("--")]
    if not build():
        print("ok - %s kut # SKIP no kvm-unit-tests source (KUT_SRC)" % backend)
        return 0
    base = baseline()
    want = [w for w in expected() if (not names or w[0] in names) and (backend == "svm" or w[3])]
    by = {e["name"]: e for e in all_entries()}
    failed = 0
    for name, status, min_pass, _, timeout in want:
        row, _ = run_one(by[name], base, timeout=timeout, backend=backend)
        what = "%s kut %s: %s with at least %d PASS: lines" % (backend, name, status, min_pass)
        if row["status"] == status and int(row["pass"]) >= min_pass:
            print("ok - %s (%s, %s s)" % (what, row["pass"], row["wall_s"]))
        else:
            failed += 1
            print("not ok - %s: got %s with %s (build/kut/logs/%s/%s.log) %s" % (
                what, row["status"], row["pass"], backend, name, row["cfg_notes"]))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("build", "run", "check"):
        sys.exit(__doc__)
    os.chdir(ROOT)
    sys.exit({"build": lambda a: 0 if build() else 1, "run": cmd_run, "check": cmd_check}[sys.argv[1]](sys.argv[2:]))
