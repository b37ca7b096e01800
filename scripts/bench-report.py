#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# The report of `make bench`: reads the test output of its two guest boots, prints a table of
# every metric on both backends, writes build/bench/results.json, and ends with one line per
# metric:
#
#   ratio NAME R          (Rust/kernel, three decimals; below 1 the module is cheaper)
#
# The icount boot (ri_mode=bench, QEMU -icount shift=0,sleep=off) prints
#   # bench: NAME BACKEND VALUE UNIT         a paired metric (tests/rust/src/bench/)
#   # bench-restore: BACKEND METHOD WD NS     a restore-vs-wd point
#   # rust_inotify: idr bench: ...            the module's allocator bench (Rust, then C idr)
#   # bench-info: kernel RELEASE, # bench-exit: RC
# and the wall-clock boot (ri_mode=bench-wall) prints the same `# bench:` lines for its own
# metrics. Exits non-zero when a boot did not finish, the bench program failed, or a metric
# is missing.
#
# Usage: scripts/bench-report.py --icount OUT --wall OUT [--json FILE]

import argparse
import json
import re
import sys

# The metrics, in the report's order: (name, kind). icount values are guest instructions
# (1 ns = 1 instruction); wall ones are wall-clock nanoseconds on 2 CPUs.
METRICS = [
    ("add_rm", "icount"),
    ("add_50k", "icount"),
    ("setnextwd", "icount"),
    ("setnextwd_add", "icount"),
    ("event_merged", "icount"),
    ("event_unmerged", "icount"),
    ("event_named", "icount"),
    ("read_one", "icount"),
    ("fionread_empty", "icount"),
    ("fionread_16384", "icount"),
    ("close_50k", "icount"),
    ("mem_per_watch", "icount"),
    ("idr_empty", "icount"),
    ("idr_dense", "icount"),
    ("criu_restore_100k", "icount"),
    ("producer_reader", "wall"),
    ("add_rm_2inst", "wall"),
]

METHOD = (
    "Each metric runs on the kernel's inotify (system calls) and on /dev/rust_inotify (ioctls) "
    "in the same guest boot, in alternating rounds (K R R K ...) after one warm-up round each. "
    "icount metrics come from a lean-kernel guest under QEMU TCG with -icount shift=0,sleep=off, "
    "where 1 ns of CLOCK_MONOTONIC is one executed guest instruction: they count instructions "
    "(code path length, allocations, uncontended locks) and are identical from boot to boot, "
    "but see no cache misses, contention or real parallelism. The icount boot runs on CPU 0 "
    "alone (CPU 1 offlined), each timed loop starts at a fixed phase of the tick, and "
    "close_50k subtracts what an idle-priority spinner ran while close waited for grace "
    "periods. mem_per_watch is the growth of Slab (/proc/meminfo: SReclaimable plus SUnreclaim, "
    "slab caches shrunk first) over 50,000 watches, in bytes per watch. idr_* are the module's "
    "allocator bench (Rust) against the kernel's C IDR, printed at insmod. wall metrics come "
    "from a second boot without icount, 2 vCPUs truly in parallel, wall-clock ns: noisy, "
    "printed but never judged. criu_restore_100k compares the CRIU plugin's restore of an "
    "instance of 100,000 watches at sparse wds (one RUST_INOTIFY_IOC_RESTORE, handles decoded "
    "in the kernel) with adding the same 100,000 watches fresh to the kernel's inotify, per "
    "watch. ratio = rust / kernel."
)

BENCH = re.compile(r"^# bench: (\S+) (kernel|rust) ([0-9.eE+-]+) (\S+)$")
RESTORE = re.compile(r"^# bench-restore: (kernel|rust) (\S+) (\d+) ([0-9.eE+-]+)$")
IDR = re.compile(
    r"idr bench: (C idr: )?empty N=\d+: (-?\d+) ns/alloc; dense-run N=\d+: (-?\d+) ns/alloc"
)
INFO = re.compile(r"^# bench-info: kernel (\S+)$")
EXIT = re.compile(r"^# bench-exit: (\d+)$")


def lines(path):
    with open(path, errors="replace") as f:
        return [l.rstrip("\r\n").rstrip("\r") for l in f]


def unit_of(kind, unit):
    """Under icount a nanosecond is an instruction: say so in the unit."""
    if kind == "icount" and unit.startswith("ns/"):
        return "instructions/" + unit[3:]
    return unit


def parse(path, kind, problems):
    """Returns ({name: {backend: value, "unit": unit}}, restore points, kernel release)."""
    metrics, restore, release, exit_rc, done = {}, [], None, None, False
    try:
        text = lines(path)
    except OSError as e:
        problems.append(f"{path}: {e}")
        return metrics, restore, release
    for l in text:
        if l.startswith("# guest: done"):
            done = True
        m = BENCH.match(l)
        if m:
            name, backend, value, unit = m.groups()
            metrics.setdefault(name, {})[backend] = float(value)
            metrics[name]["unit"] = unit_of(kind, unit)
            continue
        m = RESTORE.match(l)
        if m:
            backend, method, wd, ns = m.groups()
            restore.append(
                {"backend": backend, "method": method, "wd": int(wd), "instructions": float(ns)}
            )
            continue
        m = IDR.search(l)
        if m:
            backend = "kernel" if m.group(1) else "rust"
            for name, v in (("idr_empty", m.group(2)), ("idr_dense", m.group(3))):
                metrics.setdefault(name, {})[backend] = float(v)
                metrics[name]["unit"] = unit_of(kind, "ns/alloc")
            continue
        m = INFO.match(l)
        if m:
            release = m.group(1)
            continue
        m = EXIT.match(l)
        if m:
            exit_rc = int(m.group(1))
    if not done:
        problems.append(f"{path}: the guest did not finish ('# guest: done' missing)")
    if exit_rc is None:
        problems.append(f"{path}: the bench program did not report its exit ('# bench-exit:')")
    elif exit_rc != 0:
        problems.append(f"{path}: the bench program failed (exit {exit_rc}); see its '# bench:' lines")
    return metrics, restore, release


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--icount", required=True, help="test output of the icount boot")
    ap.add_argument("--wall", required=True, help="test output of the wall-clock boot")
    ap.add_argument("--json", help="where to write the results")
    args = ap.parse_args()

    problems = []
    icount, restore, release = parse(args.icount, "icount", problems)
    wall, _, release_wall = parse(args.wall, "wall", problems)
    found = {"icount": icount, "wall": wall}

    results = {}
    for name, kind in METRICS:
        m = found[kind].get(name, {})
        if "kernel" not in m or "rust" not in m:
            problems.append(f"metric {name} ({kind}) is missing")
            continue
        k, r = m["kernel"], m["rust"]
        ratio = r / k if k > 0 else float("inf")
        results[name] = {
            "kind": kind,
            "unit": m["unit"],
            "kernel": k,
            "rust": r,
            "ratio": round(ratio, 3),
        }
    if not restore:
        problems.append("no restore-vs-wd points")

    w = max(len(n) for n, _ in METRICS)
    print(f"{'metric':<{w}}  {'kind':<6}  {'unit':<22}  {'kernel':>14}  {'rust':>14}  rust/kernel")
    for name, kind in METRICS:
        if name in results:
            x = results[name]
            print(
                f"{name:<{w}}  {kind:<6}  {x['unit']:<22}  {x['kernel']:>14.1f}  "
                f"{x['rust']:>14.1f}  {x['ratio']:.3f}"
            )
    if restore:
        print()
        print("restore-vs-wd (instructions to restore one watch at wd):")
        for p in sorted(restore, key=lambda p: (p["method"], p["backend"], p["wd"])):
            print(f"  {p['method']:<10} {p['backend']:<6} wd {p['wd']:>10}  {p['instructions']:>14.0f}")

    if args.json:
        doc = {
            "method": METHOD,
            "kernel": release or release_wall,
            "metrics": results,
            "restore_vs_wd": restore,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")

    for p in problems:
        print(f"bench-report: {p}", file=sys.stderr)
    print()
    for name, _ in METRICS:
        if name in results:
            print(f"ratio {name} {results[name]['ratio']:.3f}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
