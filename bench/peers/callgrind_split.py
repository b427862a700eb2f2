#!/usr/bin/env python3
"""Instructions per warm call from callgrind runs of two lengths (bench/peers/run.sh).

    callgrind_split.py DIR N1 N2 [HOST...]

DIR holds HOST.{N1,N2}.out for each HOST (default: wasmplug rust). Every figure is (Ir at N2 - Ir at N1) /
(N2 - N1): start-up, compilation and instantiation cancel out. Per host:
  total        all instructions of one warm round trip (guest code included)
  wasmtime     inclusive Ir of Wasmtime's catch_traps (its entry into the
               guest: the guest's code and the host functions it calls run
               inside it)
  host_fn      inclusive Ir of Wasmtime's array_call_trampoline: the host
               function the guest calls (log), with the embedder's code in it
  beyond_entry = total - wasmtime + host_fn: the embedder's own instructions
               around Wasmtime's entry (wasmplug: lease, deadline, ABI checks,
               copies, Result plumbing and the C API layer)
Prints lines `callgrind HOST total=.. wasmtime=.. host_fn=.. beyond_entry=..`.
"""
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")

# Wasmtime's entry into a host function: the embedder's function (wasmplug's
# C callback, the Rust host's closure, inlined) runs inside it. The same
# symbol on both hosts, so Wasmtime's own few instructions there count alike.
HOST_FN = re.compile(r"wasmtime::runtime::func::HostFunc::array_call_trampoline$")
ENTRY = re.compile(r"wasmtime::runtime::vm::traphandlers::catch_traps(<.*>)?$")


def inclusive(path):
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--auto=no", path],
        check=True, capture_output=True, text=True,
    ).stdout
    rows = []
    total = None
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        name = m.group(2)
        if name.startswith("PROGRAM TOTALS"):
            total = ir
            continue
        if name.startswith("=>"):
            continue  # a call line of the tree, not a function
        # "file:function [object]"
        fn = re.sub(r"\s+\[[^\]]*\]$", "", name)
        fn = fn.split(":", 1)[1] if ":" in fn else fn
        rows.append((ir, fn))
    return total, rows


def pick(rows, pattern):
    """The largest inclusive count among matching functions (the outermost
    frame: nested or recursive frames are included in it)."""
    best = 0
    for ir, fn in rows:
        base = fn.rstrip("'0123456789")
        if pattern.search(base):
            best = max(best, ir)
    return best


def main():
    d, n1, n2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hosts = sys.argv[4:] or ["wasmplug", "rust"]
    for host in hosts:
        figures = {}
        for n in (n1, n2):
            total, rows = inclusive(f"{d}/{host}.{n}.out")
            figures[n] = (total, pick(rows, ENTRY), pick(rows, HOST_FN))
        per = [(b - a) / (n2 - n1) for a, b in zip(figures[n1], figures[n2])]
        total, entry, host_fn = per
        print(f"callgrind {host} total={total:.0f} wasmtime={entry:.0f} host_fn={host_fn:.0f} "
              f"beyond_entry={total - entry + host_fn:.0f}")


if __name__ == "__main__":
    main()
