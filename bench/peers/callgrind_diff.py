#!/usr/bin/env python3
"""Exclusive instructions per call by function, from two callgrind runs of
different lengths: callgrind_diff.py A.out N_A B.out N_B [TOP]."""
import re
import subprocess
import sys


def load(path):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", path], check=True, capture_output=True,
                         text=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)", line)
        if m:
            d[m.group(2)] = d.get(m.group(2), 0) + int(m.group(1).replace(",", ""))
    return d


a, na, b, nb = load(sys.argv[1]), int(sys.argv[2]), load(sys.argv[3]), int(sys.argv[4])
top = int(sys.argv[5]) if len(sys.argv) > 5 else 60
rows = sorted((((b[k] - a.get(k, 0)) / (nb - na)), k) for k in b)
for v, k in list(reversed(rows))[:top]:
    if abs(v) >= 1:
        print(f"{v:8.0f} {k[:200]}")
