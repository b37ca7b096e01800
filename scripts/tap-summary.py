#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the guest's test output and kernel log into one verdict.

Reads the suites framed by "# rust_inotify-suite: NAME" / "# rust_inotify-exit: NAME RC" (TAP 13
from kselftest_harness.h and the Rust tests; KTAP from KUnit, whose test cases are one level
down), and the kernel log. Prints one line per failure, then "N passed, N failed[, N skipped]"
as the last line. Exits non-zero on any failed test, a suite without a plan or with fewer results
than its plan, a non-zero exit, a guest that did not finish, any kernel splat, or a guest that
brought up fewer CPUs than QEMU gave it (--cpus; its init prints "# guest: cpus online: N").
"""

import argparse
import re
import sys

SPLATS = [
    r"BUG:", r"WARNING:", r"KASAN", r"UBSAN", r"Oops", r"Kernel panic",
    r"general protection fault", r"possible circular locking", r"possible recursive locking",
    r"inconsistent lock state", r"suspicious RCU usage", r"INFO: task .* blocked",
    r"kmemleak: .*suspected memory leak", r"rust_panic", r"panicked at", r"Call Trace:",
    r"list_add corruption", r"list_del corruption", r"refcount_t: ", r"sleeping function called",
]
SPLAT_RE = re.compile("|".join(SPLATS))
RESULT_RE = re.compile(r"^(not ok|ok) (\d+)\b(.*)$")
PLAN_RE = re.compile(r"^1\.\.(\d+)")
TS_RE = re.compile(r"^\[\s*\d+\.\d+\]\s?")


def splats(console_path):
    found = []
    try:
        with open(console_path, errors="replace") as f:
            for line in f:
                line = TS_RE.sub("", line.rstrip("\n"))
                # The module's own KUnit lines and our kmemleak marker are not splats themselves.
                if SPLAT_RE.search(line):
                    found.append(line)
    except FileNotFoundError:
        found.append("no kernel log at all")
    return found


def parse_suites(output_path):
    suites = []
    cur = None
    with open(output_path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\r\n")
            m = re.match(r"^# rust_inotify-suite: (\S+)", line)
            if m:
                cur = {"name": m.group(1), "lines": [], "rc": None}
                suites.append(cur)
                continue
            m = re.match(r"^# rust_inotify-exit: (\S+) (-?\d+)", line)
            if m and cur is not None:
                cur["rc"] = int(m.group(2))
                cur = None
                continue
            if cur is not None:
                cur["lines"].append(line)
    return suites


def score(suite):
    """Returns (passed, failed, skipped, problems) for one suite."""
    indent = "    " if suite["name"] == "kunit" else ""
    plans, results, problems = [], [], []
    for line in suite["lines"]:
        if not line.startswith(indent) or (indent and line.startswith(indent + " ")):
            continue
        body = line[len(indent):]
        m = PLAN_RE.match(body)
        if m:
            plans.append(int(m.group(1)))
            continue
        m = RESULT_RE.match(body)
        if m:
            results.append((m.group(1), int(m.group(2)), m.group(3)))
    passed = failed = skipped = 0
    for status, num, rest in results:
        name = f"{suite['name']}: {num}{rest.split('#')[0].rstrip()}"
        if status == "not ok":
            if re.search(r"#\s*(SKIP|XFAIL)", rest, re.I):
                skipped += 1
            else:
                failed += 1
                problems.append(f"FAIL {name}")
        elif re.search(r"#\s*SKIP", rest, re.I):
            skipped += 1
            problems.append(f"SKIP {name}{rest[rest.index('#'):]}")
        else:
            passed += 1
    if not plans:
        problems.append(f"FAIL {suite['name']}: no TAP plan")
        failed += 1
    elif sum(plans) > len(results):
        problems.append(f"FAIL {suite['name']}: plan {sum(plans)} but {len(results)} results")
        failed += sum(plans) - len(results)
    if suite["rc"] is None:
        problems.append(f"FAIL {suite['name']}: did not finish")
        failed += 1
    elif suite["rc"] not in (0, 4):  # kselftest: 4 = skipped
        if not any(p.startswith("FAIL") for p in problems):
            problems.append(f"FAIL {suite['name']}: exit code {suite['rc']}")
            failed += 1
    return passed, failed, skipped, problems


def cpus_problem(output_path, wanted):
    """None if the guest said it had at least `wanted` CPUs online, else what is wrong."""
    if not wanted:
        return None
    online = None
    try:
        with open(output_path, errors="replace") as f:
            for line in f:
                m = re.match(r"^# guest: cpus online: (\d+)", line)
                if m:
                    online = int(m.group(1))
    except FileNotFoundError:
        pass
    if online is None:
        return "the guest did not say how many CPUs it has online"
    if online < wanted:
        return (f"the guest brought up {online} CPU(s) of the {wanted} QEMU gave it: "
                "concurrency tests would not run in parallel")
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--output")
    ap.add_argument("--console", required=True)
    ap.add_argument("--qemu-rc", type=int, default=0)
    ap.add_argument("--splats-only", action="store_true")
    ap.add_argument("--cpus", type=int, default=0, help="CPUs QEMU gave the guest")
    args = ap.parse_args()

    bad = splats(args.console)
    smp = cpus_problem(args.output, args.cpus) if args.output else None
    if args.splats_only:
        for s in bad:
            print(f"kernel splat: {s}")
        if smp:
            print(f"FAIL guest: {smp}")
        sys.exit(1 if bad or smp else 0)

    suites = parse_suites(args.output)
    total_p = total_f = total_s = 0
    for suite in suites:
        p, f, s, problems = score(suite)
        total_p, total_f, total_s = total_p + p, total_f + f, total_s + s
        for pr in problems:
            print(pr)
        print(f"# suite {suite['name']}: {p} passed, {f} failed, {s} skipped")
    with open(args.output, errors="replace") as f:
        finished = any(l.startswith("# guest: done") for l in f)
    if not finished:
        print("FAIL guest: did not finish (timeout, panic or hang)")
        total_f += 1
    if not suites:
        print("FAIL guest: no suite ran")
        total_f += 1
    for s in bad:
        print(f"FAIL kernel splat: {s}")
    if bad:
        total_f += 1
    if smp:
        print(f"FAIL guest: {smp}")
        total_f += 1
    line = f"{total_p} passed, {total_f} failed"
    if total_s:
        line += f", {total_s} skipped"
    print(line)
    sys.exit(0 if total_f == 0 else 1)


if __name__ == "__main__":
    main()
