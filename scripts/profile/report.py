#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make profile's report: guest instructions per operation, symbol by symbol, on each backend.

Reads PREFIX-kernel.blocks and PREFIX-rust.blocks (insn-profile.so: "PC INSNS EXECUTIONS" per
translation block) and PREFIX-{kernel,rust}.log (the guest's output: the module's symbols as
"# kallsyms:" lines, and "# profile-ops: METRIC BACKEND N"). Each block's instructions go to the
symbol holding its first instruction. Both boots run the same boot and set-up, so a symbol's
difference divided by the operations is what one operation costs there; the boots differ only
in the metric's loop.

Usage: report.py --vmlinux VMLINUX PREFIX [--top N] [--blocks SUBSTRING]

--blocks lists the blocks of the symbols whose name contains SUBSTRING, as symbol+offset with
their instructions per operation on each backend (objdump the .ko or vmlinux to read them).
"""
import argparse
import bisect
import re
import subprocess
import sys
from collections import defaultdict


def symbols(vmlinux, logs):
    """Sorted (address, name) of the kernel's and the module's text symbols."""
    syms = []
    out = subprocess.run(["nm", "-n", vmlinux], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    mods = {}
    for log in logs:
        for line in open(log, errors="replace"):
            m = re.match(r"# kallsyms: ([0-9a-f]+) ([tTwW]) (\S+)", line)
            if m:
                mods[int(m.group(1), 16)] = m.group(3)
    names = sorted(set(mods.values()))
    if names:
        dem = subprocess.run(["llvm-cxxfilt-22"], input="\n".join(names), capture_output=True,
                             text=True)
        if dem.returncode == 0:
            table = dict(zip(names, dem.stdout.splitlines()))
            mods = {a: "[ri] " + table.get(n, n) for a, n in mods.items()}
    syms.extend(mods.items())
    syms.sort()
    return syms


def profile(path, addrs, names, blocks=None):
    """Instructions per symbol in one boot; with `blocks` a substring, per block of those too."""
    per = defaultdict(int)
    for line in open(path):
        pc, insns, count = line.split()
        pc = int(pc, 16)
        i = bisect.bisect_right(addrs, pc) - 1
        name = names[i] if i >= 0 else "?"
        if pc < 0xffff800000000000:
            name = "(user space)"
        per[name] += int(insns) * int(count)
        if blocks is not None and blocks in name and i >= 0:
            per[(name, pc - addrs[i], int(insns))] += int(insns) * int(count)
    return per


def ops(log):
    for line in open(log, errors="replace"):
        m = re.match(r"# profile-ops: (\S+) (\S+) ([0-9.]+)", line)
        if m:
            return float(m.group(3))
    sys.exit(f"report.py: no profile-ops line in {log}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--blocks")
    ap.add_argument("prefix")
    a = ap.parse_args()
    logs = [f"{a.prefix}-{b}.log" for b in ("kernel", "rust")]
    syms = symbols(a.vmlinux, logs)
    addrs = [s[0] for s in syms]
    names = [s[1] for s in syms]
    k = profile(f"{a.prefix}-kernel.blocks", addrs, names, a.blocks)
    r = profile(f"{a.prefix}-rust.blocks", addrs, names, a.blocks)
    nk, nr = ops(logs[0]), ops(logs[1])
    if nk != nr:
        sys.exit(f"report.py: the boots ran {nk} and {nr} operations")
    # A symbol both boots spend the same in (boot, set-up) cancels; what remains is per op.
    rows = []
    if a.blocks is not None:
        keys = sorted(x for x in set(k) | set(r) if isinstance(x, tuple))
        for key in keys:
            kv, rv = k.get(key, 0) / nk, r.get(key, 0) / nr
            if kv >= 0.5 or rv >= 0.5:
                print(f"{kv:10.1f} {rv:10.1f}  {key[0][:90]}+{key[1]:#x} ({key[2]} insns)")
        return
    for name in (x for x in set(k) | set(r) if not isinstance(x, tuple)):
        kv, rv = k.get(name, 0) / nk, r.get(name, 0) / nr
        if abs(kv) >= 0.5 or abs(rv) >= 0.5:
            rows.append((name, kv, rv))
    tk = sum(v for x, v in k.items() if not isinstance(x, tuple)) / nk
    tr = sum(v for x, v in r.items() if not isinstance(x, tuple)) / nr
    print(f"# {a.prefix.rsplit('/', 1)[-1]}: {nk:.0f} operations per boot; whole boot per op: "
          f"kernel {tk:.1f}, rust {tr:.1f}, difference {tr - tk:+.1f}")
    print(f"{'kernel':>10} {'rust':>10} {'rust-kernel':>12}  symbol (instructions per operation)")
    rows.sort(key=lambda x: -abs(x[2] - x[1]))
    for name, kv, rv in rows[:a.top]:
        print(f"{kv:10.1f} {rv:10.1f} {rv - kv:+12.1f}  {name[:110]}")


if __name__ == "__main__":
    main()
