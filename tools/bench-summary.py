#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn tools/bench.sh's logs into results and the summary table (stdlib only).

    bench-summary.py collect CONFIG REP LOG
        One time-stamped serial log -> TSV rows (config rep metric value unit)
        on stdout: every `RESULT metric value unit` line the guest printed
        (also behind Petrel's "[linux0] " prefix), Petrel's exit floor from its
        banner (floor_cpuid, floor_pio), plus the host's figures:
          host_to_init           s from starting QEMU to the init's BENCH-INIT line
          host_vm_start_to_init  s from the guest's start to BENCH-INIT: native = host_to_init;
                                 petrel: from Petrel's "vm linux0: ..." line (the VM is set
                                 up and starts); kvm: from L1's KVM-L2-START (L2 QEMU starts)
          host_wall              s the whole QEMU run
          host_other_load        cores other processes used during the run
          host_steal             cores the machine under this host took (steal time)
          host_calib             ms guest-bench's compute loop took on the host itself
                                 just before the run (host speed at that moment)
          host_idle_wait         s waited for a quiet host before the run
        and `FAILED 1 flag` when the guest did not print `RESULT done`.

    bench-summary.py summary RESULTS.tsv [--recorded-kvm ANCHOR.tsv] [--elapsed S]
        Median and min-max of the runs per metric and configuration, the
        ratios petrel/native and petrel/kvm, and the targets, MET or NOT MET.
        --recorded-kvm: no KVM runs now; take KVM's figures (medians of the
        `nested` rows, tag v2) from anchor-kvm's results.tsv, labelled as
        recorded, for the metrics its bench.c measures the same way.
"""
import re
import statistics
import sys
from collections import defaultdict

# ---------------------------------------------------------------- collect
RESULT = re.compile(r"RESULT (\S+) (\S+) (\S+)")
TRAILER = re.compile(r"^#### run (.*)$")
FLOOR = re.compile(r"petrel: exit floor: cpuid (\d+) ns, port read (\d+) ns")
LOOPS = re.compile(r"\[(\S+)\] timing: .*, (\d+) loops")


def collect_disk(cfg, rep, path):
    """A disk-native or disk-petrel run: its RESULT lines, and the host's
    seconds from the VM's reset (QEMU's start; Petrel's "vm linux0: N MiB"
    line) to the shell's PETREL-GUEST-READY, as the native and petrel
    columns of their own rows."""
    rows, t_start, done, ready = [], 0.0 if cfg == "disk-native" else None, False, False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            ts, _, text = line.strip(" ").partition(" ")
            try:
                t = float(ts)
            except ValueError:
                continue
            if t_start is None and re.match(r"petrel: vm linux0: \d+ MiB", text):
                t_start = t
            if "PETREL-GUEST-READY" in text and t_start is not None and not ready:
                rows.append(("disk_reset_to_shell", "%.3f" % (t - t_start), "s"))
                ready = True
            m = RESULT.search(text)
            if m:
                if m.group(1) == "done":
                    done = True
                else:
                    rows.append(m.groups())
    if not done:
        rows.append(("FAILED", "1", "flag"))
    for metric, value, unit in rows:
        print("\t".join((cfg[len("disk-"):], str(rep), metric, value, unit)))


def collect(cfg, rep, path):
    if cfg.startswith("disk-"):
        collect_disk(cfg, rep, path)
        return
    rows = []
    t_init = t_l2 = None
    done = False
    trailer = {}
    loops = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = LOOPS.search(line)
            if m:  # the fairness run: two canaries spinning on one CPU
                loops[m.group(1)] = int(m.group(2))
                continue
            m = TRAILER.match(line)
            if m:
                trailer = dict(kv.split("=", 1) for kv in m.group(1).split())
                continue
            ts, _, text = line.strip(" ").partition(" ")
            try:
                t = float(ts)
            except ValueError:
                continue
            if "BENCH-INIT" in text and t_init is None:
                t_init = t
            if t_l2 is None and ("KVM-L2-START" in text or
                                 re.match(r"petrel: vm \S+: \d+ MiB", text)):
                t_l2 = t
            m = FLOOR.search(text)
            if m:  # Petrel's banner: its own exit floor (hv/core/floor.c)
                rows.append(("floor_cpuid", m.group(1), "ns/op"))
                rows.append(("floor_pio", m.group(2), "ns/op"))
                continue
            m = RESULT.search(text)
            if not m:
                continue
            metric, value, unit = m.groups()
            if metric == "done":
                done = True
                continue
            rows.append((metric, value, unit))
    if cfg == "fair":
        if len(loops) == 2 and max(loops.values()) > 0:
            rows = [("fair_minmax", "%.3f" % (min(loops.values()) / max(loops.values())), "ratio")]
        else:
            rows = [("FAILED", "1", "flag")]
        for metric, value, unit in rows:  # Petrel's column
            print("\t".join(("petrel", str(rep), metric, value, unit)))
        return
    if t_init is not None:
        rows.append(("host_to_init", "%.3f" % t_init, "s"))
        if cfg == "native":
            t_l2 = 0.0
        if t_l2 is not None:
            rows.append(("host_vm_start_to_init", "%.3f" % (t_init - t_l2), "s"))
    if trailer:
        rows.append(("host_wall", trailer.get("wall", "NA"), "s"))
        rows.append(("host_other_load", trailer.get("other_load", "NA"), "cores"))
        rows.append(("host_steal", trailer.get("steal", "NA"), "cores"))
        rows.append(("host_calib", trailer.get("calib_ms", "NA"), "ms"))
        rows.append(("host_idle_wait", trailer.get("idle_wait", "NA"), "s"))
    if not done:
        rows.append(("FAILED", "1", "flag"))
    for metric, value, unit in rows:
        print("\t".join((cfg, str(rep), metric, value, unit)))


# ---------------------------------------------------------------- summary
CONFIGS = ("native", "petrel", "kvm")
# Rows of the table, in order; derived ones are computed per run.
METRICS = [
    ("cpuid", "ns/op", "CPUID leaf 0 (always an exit under SVM)"),
    ("pio61", "ns/op", "user-mode inb from port 0x61 after iopl(3); NA = the inb faulted"),
    ("devport61", "ns/op", "pread /dev/port 0x61: syscall + inb exit"),
    ("io61_exit_est", "ns/op", "devport61 - syscall"),
    ("syscall", "ns/op", "getppid (no exit; control)"),
    ("floor_cpuid", "ns/op", "Petrel's banner: a CPUID exit with an empty handler (its floor)"),
    ("floor_pio", "ns/op", "Petrel's banner: a port-read exit with an empty handler"),
    ("par_speedup", "x", "one compute round on 1 CPU vs on each of the 2 at once: 2 x t1 / t2"),
    ("fair_minmax", "ratio", "two VMs spinning on one CPU (canary guests, 2 s): work done, min / max"),
    ("compute", "ms", "fixed integer loop (xorshift + multiply-add, 200M iterations in 5 rounds)"),
    ("compute_best", "ms", "5 x the fastest of those rounds (less host noise; not a target)"),
    ("mem_first", "ms", "256 MiB first touch (65536 faults)"),
    ("mem_second", "ms", "256 MiB second pass"),
    ("fault_per_page", "us", "(mem_first - mem_second) / pages"),
    ("boot_uptime", "s", "guest /proc/uptime at init"),
    ("disk_read", "MB/s", "SeaBIOS + the BIOS disk image: dd of the whole 65 MiB virtio disk,"
     " caches dropped (native: QEMU's virtio-blk)"),
    ("disk_reset_to_shell", "s", "host: the VM's reset -> the disk image's shell, through SeaBIOS,"
     " syslinux, Linux (native: from QEMU's start)"),
    ("host_to_init", "s", "host: QEMU start -> init's 1st line"),
    ("host_vm_start_to_init", "s", "host: guest start -> init's 1st line (native: = host_to_init;"
     " petrel: from 'vm linux0: N MiB'; kvm: from L1 starting the L2 QEMU)"),
    ("host_wall", "s", "host: QEMU start -> QEMU exit (petrel: -> 'vm linux0 stopped')"),
    ("host_other_load", "cores", "host: CPU other processes used during the run (of 2 cores)"),
    ("host_calib", "ms", "host: the compute loop run on the host itself just before each run"
     " (its spread = how much the host's own speed varied)"),
]
# What the anchor's bench.c measures the same way (name there -> name here).
# Not compute: its loop is a different one.  Its pio61 is NA under KVM.
ANCHOR_SAME = {
    "cpuid": "cpuid", "devport61": "devport61", "syscall": "syscall",
    "mem_first": "mem_first", "mem_second": "mem_second", "boot_uptime": "boot_uptime",
    "host_to_l2_init": "host_to_init", "host_l2_start_to_init": "host_vm_start_to_init",
    "host_wall": "host_wall", "host_other_load": "host_other_load",
}
# The issues' targets: (label, metric, against, limit); against is a
# configuration, or "config:metric" for another metric of one (Petrel's
# floor); a negative limit means at least -limit (a speed-up).
TARGETS = [
    ("CPUID exit <= 0.5 of KVM's", "cpuid", "kvm", 0.5),
    ("CPUID exit <= 1.15x Petrel's floor", "cpuid", "petrel:floor_cpuid", 1.15),
    ("port I/O exit <= 0.3 of KVM+QEMU's", "devport61", "kvm", 0.30),
    ("2-vCPU speed-up >= 0.9 of native's", "par_speedup", "native", -0.9),
    ("two spinning VMs on one CPU: min/max >= 0.9", "fair_minmax", "one", -0.9),
    ("disk read >= 0.8 of QEMU's virtio-blk", "disk_read", "native", -0.8),
    ("reset to shell from disk <= 1.3x QEMU's", "disk_reset_to_shell", "native", 1.3),
    ("compute <= 1.02x native", "compute", "native", 1.02),
    ("first-touch memory <= 1.3x native", "mem_first", "native", 1.30),
    ("boot-to-init <= 1.3x native", "host_to_init", "native", 1.30),
]


def num(v):
    try:
        return float(v)
    except ValueError:
        return None


def derive(d):
    """Per-run derived metrics from one run's dict."""
    out = {}
    if d.get("devport61") is not None and d.get("syscall") is not None:
        out["io61_exit_est"] = d["devport61"] - d["syscall"]
    if d.get("mem_first") is not None and d.get("mem_second") is not None:
        pages = d.get("_pages", 65536)
        out["fault_per_page"] = (d["mem_first"] - d["mem_second"]) * 1000.0 / pages
    return out


def load_runs(path, cfg_col, rep_col, metric_col, value_col, want=None):
    """{config: {rep: {metric: value}}} from a TSV with a header."""
    runs = defaultdict(lambda: defaultdict(dict))
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) < len(header):
                continue
            row = dict(zip(header, c))
            if want and not want(row):
                continue
            runs[row[cfg_col]][row[rep_col]][row[metric_col]] = num(row[value_col])
    return runs


def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return statistics.median(xs), min(xs), max(xs), len(xs)


def fmt(x):
    if x is None:
        return "NA"
    a = abs(x)
    if a >= 1000:
        return "%.0f" % x
    if a >= 100:
        return "%.1f" % x
    if a >= 1:
        return "%.2f" % x
    return "%.3f" % x


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ratio(r):
    if r is None:
        return "-"
    return "%.3g" % r if r < 10 else "%.0f" % r


def summary(argv):
    path = argv[0]
    recorded = None
    elapsed = None
    i = 1
    while i < len(argv):
        if argv[i] == "--recorded-kvm":
            recorded = argv[i + 1]
            i += 2
        elif argv[i] == "--elapsed":
            elapsed = float(argv[i + 1])
            i += 2
        else:
            sys.exit("bench-summary: unknown option %s" % argv[i])

    runs = load_runs(path, "config", "rep", "metric", "value")
    failed = {c: sorted(r for r, d in reps.items() if d.get("FAILED")) for c, reps in runs.items()}
    vals = defaultdict(list)  # (config, metric) -> [values]
    for cfg, reps in runs.items():
        for rep, d in reps.items():
            if d.get("FAILED"):
                continue
            d.update(derive(d))
            for m, v in d.items():
                vals[(cfg, m)].append(v)

    kvm_label = "kvm"
    kvm_note = None
    if recorded and not runs.get("kvm"):
        try:
            anchor = load_runs(recorded, "mode", "rep", "metric", "value",
                               want=lambda r: r["tag"] == "v2" and r["mode"] == "nested")
        except OSError as e:
            anchor = {}
            kvm_note = "KVM: no measured figures and %s unreadable (%s)" % (recorded, e.strerror)
        for rep, d in anchor.get("nested", {}).items():
            d2 = {ANCHOR_SAME[m]: v for m, v in d.items() if m in ANCHOR_SAME}
            d2.update(derive(d2))
            for m, v in d2.items():
                vals[("kvm", m)].append(v)
        if anchor.get("nested"):
            kvm_label = "kvm(REC)"
            kvm_note = ("kvm(REC) = RECORDED, NOT MEASURED NOW: medians of the 3 nested runs of tag v2 in\n"
                        "  %s (anchor-kvm's own bench.c, same kernel, same\n"
                        "  256 MiB / 64-byte-stride memory test and port 0x61, QEMU 7.2 TCG on a 2-core\n"
                        "  host like this one).  Its compute loop differs from ours, so compute has no\n"
                        "  recorded KVM figure.  Run `tools/bench.sh --kvm` (make bench BENCH_KVM=1)\n"
                        "  to measure KVM now." % recorded)
    have_kvm = any(c == "kvm" for c, _ in vals)

    out = []
    out.append("Petrel guest benchmark (tools/bench.sh): median [min-max] of the runs; "
               "ratios of medians")
    nruns = {c: len(runs[c]) for c in CONFIGS if c in runs}
    out.append("runs: " + ", ".join("%s %d%s" % (c, n, " (failed: %s)" % ",".join(failed[c])
                                                  if failed.get(c) else "")
                                     for c, n in nruns.items()))
    cols = [c for c in CONFIGS if any(cc == c for cc, _ in vals)]
    hdr = ["metric", "unit"] + [kvm_label if c == "kvm" else c for c in cols]
    hdr += ["petrel/native"] + (["petrel/" + kvm_label] if have_kvm else [])
    table = [hdr]
    for m, unit, _desc in METRICS:
        cells = [m, unit]
        meds = {}
        present = False
        for c in cols:
            s = stats(vals.get((c, m), []))
            if s:
                present = True
                meds[c] = s[0]
                cells.append("%s [%s-%s]" % (fmt(s[0]), fmt(s[1]), fmt(s[2])) if s[3] > 1
                             else fmt(s[0]))
            else:
                na = (c, m) in vals  # measured but NA
                cells.append("NA" if na else "-")
        if not present and not any((c, m) in vals for c in cols):
            continue
        no_ratio = m in ("host_other_load", "host_calib")
        cells.append("" if no_ratio else fmt_ratio(ratio(meds.get("petrel"), meds.get("native"))))
        if have_kvm:
            cells.append("" if no_ratio else fmt_ratio(ratio(meds.get("petrel"), meds.get("kvm"))))
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(hdr))]
    for k, r in enumerate(table):
        out.append("  ".join(x.ljust(w) if j < 2 else x.rjust(w)
                             for j, (x, w) in enumerate(zip(r, widths))).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("")
    out.append("metrics:")
    for m, _, d in METRICS:
        if any((c, m) in vals for c in cols):
            out.append("  %-22s %s" % (m, d))
    out.append("")
    out.append("targets (Petrel median / reference median):")
    for label, m, ref, limit in TARGETS:
        p = stats(vals.get(("petrel", m), []))
        ref, _, rm = ref.partition(":")
        r = [1.0] if ref == "one" else stats(vals.get((ref, rm or m), []))
        refname = kvm_label if ref == "kvm" else ref
        if rm:
            refname, m = "%s %s" % (ref, rm), m
        if not p or not r:
            why = "no petrel figure" if not p else "no %s figure" % refname
            out.append("  %-38s %-24s NOT EVALUATED (%s)" % (label, "", why))
            continue
        q = p[0] / r[0]
        verdict = "MET" if (q <= limit if limit > 0 else q >= -limit) else "NOT MET"
        out.append("  %-38s %s %s / %s %s = %.3g (%s %.3g)  %s" % (
            label, m, fmt(p[0]), refname, fmt(r[0]), q, "limit" if limit > 0 else "at least",
            abs(limit), verdict))
    p, n = stats(vals.get(("petrel", "compute_best"), [])), stats(vals.get(("native", "compute_best"), []))
    if p and n:
        out.append("  (compute_best, for comparison: %s / native %s = %.3g)" % (fmt(p[0]), fmt(n[0]), p[0] / n[0]))
    out.append("  (port I/O is judged on devport61, the one port-read figure all three can give:")
    out.append("   user-mode inb faults in L2 under KVM nested in TCG, see pio61)")
    if kvm_note:
        out.append("")
        out.append(kvm_note)
    def host(m):  # this invocation's runs only
        return [d[m] for reps in runs.values() for d in reps.values() if d.get(m) is not None]
    loads, steal = host("host_other_load"), host("host_steal")
    if loads:
        out.append("")
        out.append("host: other processes used %.2f-%.2f cores during the runs, steal %.2f-%.2f "
                   "(2-core host; > 0.3 makes timings noisy)"
                   % (min(loads), max(loads), min(steal or [0]), max(steal or [0])))
        busy = ["%s-%s (%.2f)" % (c, r, d["host_other_load"]) for c in CONFIGS
                for r, d in sorted(runs.get(c, {}).items())
                if (d.get("host_other_load") or 0) > 0.3]
        if busy:
            out.append("  runs with other load > 0.3 cores: " + ", ".join(busy))
    if elapsed is not None:
        out.append("bench run time: %.0f s (build + all runs)" % elapsed)
    print("\n".join(out))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "collect":
        collect(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 3 and sys.argv[1] == "summary":
        summary(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
