#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# The pictures of `make bench`, from build/bench/results.json (scripts/bench-report.py):
#   docs/bench-ratios.svg    Rust/kernel ratio per metric, with a line at 1.0
#   docs/restore-vs-wd.svg   instructions to restore a watch at a wd, log-log: CRIU's add/rm
#                            loop grows with the wd, SETNEXTWD + add stays flat
#
# matplotlib comes from PyPI: when it is missing, this script installs it with pip (on a
# Debian Python that refuses, with --break-system-packages), and says loudly if it cannot.
# The SVGs are made reproducible (no date, fixed ids), so that a re-run with the same numbers
# changes nothing in git.
#
# Usage: scripts/plot-bench.py [RESULTS_JSON [OUT_DIR]]

import json
import os
import subprocess
import sys


def import_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        pass
    base = [sys.executable, "-m", "pip", "install", "--quiet", "matplotlib"]
    for cmd in (base, base + ["--break-system-packages"]):
        print(f"plot-bench: installing matplotlib: {' '.join(cmd[2:])}", file=sys.stderr)
        if subprocess.run(cmd).returncode == 0:
            break
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "build/bench/results.json")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(top, "docs")
    with open(src) as f:
        doc = json.load(f)

    if not import_matplotlib():
        print("plot-bench: WARNING: matplotlib is not available: no pictures drawn", file=sys.stderr)
        return 1
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "rust_inotify"
    matplotlib.rcParams["svg.fonttype"] = "none"
    os.makedirs(out, exist_ok=True)
    meta = {"Date": None, "Creator": "scripts/plot-bench.py"}
    kernel = doc.get("kernel") or "?"

    # Ratios: one bar per metric, icount ones first, wall-clock ones hatched.
    metrics = doc["metrics"]
    names = list(metrics)
    ratios = [metrics[n]["ratio"] for n in names]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    colors = ["#4c72b0" if metrics[n]["kind"] == "icount" else "#dd8452" for n in names]
    hatches = ["" if metrics[n]["kind"] == "icount" else "//" for n in names]
    bars = ax.barh(names, ratios, color=colors, hatch=hatches, edgecolor="black", linewidth=0.4)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.invert_yaxis()
    for bar, r in zip(bars, ratios):
        ax.text(bar.get_width() * 1.05, bar.get_y() + bar.get_height() / 2, f"{r:.3f}",
                va="center", fontsize=8)
    lo, hi = min(ratios + [1.0]), max(ratios + [1.0])
    ax.set_xlim(lo / 1.6, hi * 2.0)
    ax.set_xlabel("Rust / kernel (log scale; < 1: the module is cheaper)")
    ax.set_title(f"rust_inotify vs the kernel's inotify, Linux {kernel}\n"
                 "blue: instructions under QEMU -icount (deterministic); "
                 "orange, hatched: wall clock, 2 CPUs (noisy)", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "bench-ratios.svg"), metadata=meta)
    plt.close(fig)

    # Restore-vs-wd, log-log.
    pts = doc.get("restore_vs_wd", [])
    fig, ax = plt.subplots(figsize=(8, 5.5))
    styles = {
        ("criu_loop", "kernel"): ("kernel: CRIU add/rm loop", "#c44e52", "o", "-"),
        ("criu_loop", "rust"): ("rust: CRIU add/rm loop", "#dd8452", "s", "--"),
        ("setnextwd", "kernel"): ("kernel: SETNEXTWD + add", "#4c72b0", "o", "-"),
        ("setnextwd", "rust"): ("rust: SETNEXTWD + add", "#55a868", "s", "--"),
    }
    ax.set_xscale("log")
    ax.set_yscale("log")
    criu_wd = 0x34D71D6
    for (method, backend), (label, color, marker, ls) in styles.items():
        xs = sorted((p["wd"], p["instructions"]) for p in pts
                    if p["method"] == method and p["backend"] == backend)
        if not xs:
            continue
        ax.plot([x for x, _ in xs], [y for _, y in xs], label=label, color=color,
                marker=marker, linestyle=ls)
        if method == "criu_loop" and xs[-1][0] < criu_wd:
            # The loop does one add/rm pair per wd: extrapolate its last point linearly.
            wd, y = xs[-1]
            ax.plot([wd, criu_wd], [y, y * criu_wd / wd], color=color, linestyle=":",
                    linewidth=1)
            ax.plot([criu_wd], [y * criu_wd / wd], color=color, marker=marker,
                    fillstyle="none", linestyle="none")
    ax.axvline(criu_wd, color="grey", linestyle=":", linewidth=1)
    ax.text(criu_wd, 0.5, "wd 0x34d71d6 (CRIU's case)  \nhollow: loop extrapolated  ",
            transform=ax.get_xaxis_transform(), fontsize=8, color="grey", ha="right")
    ax.set_xlabel("wd to restore")
    ax.set_ylabel("guest instructions per restore (QEMU -icount)")
    ax.set_title(f"Restoring one watch at a given wd, Linux {kernel}", fontsize=10)
    ax.grid(True, which="major", linewidth=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "restore-vs-wd.svg"), metadata=meta)
    plt.close(fig)
    print(f"plot-bench: wrote {os.path.join(out, 'bench-ratios.svg')} and "
          f"{os.path.join(out, 'restore-vs-wd.svg')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
