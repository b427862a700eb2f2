#!/usr/bin/env python3
"""Turns bench/peers/run.sh's results into the peers section of
docs/benchmarks.md (between <!-- peers:begin --> and <!-- peers:end -->) and
an SVG bar chart.

    report.py RESULTS.txt docs/benchmarks.md docs/peers.svg

Each figure is the median over the runs of the per-run figure; failures are
summed over all runs and shown.
"""
import math
import re
import statistics
import sys
from collections import defaultdict

BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"


def parse(path):
    header = ""
    timed = defaultdict(list)  # name -> [(p50, p99, p999, mean, failures, calls)]
    threads = defaultdict(list)  # (name, threads) -> [(calls_per_s, cpu_per_wall, failures)]
    cg = {}
    pingpong = []  # (min, p10) round trip of a cache line between CPU 0 and 1, ns, per run
    for line in open(path):
        line = line.strip()
        if line.startswith("#"):
            header = line[1:].strip()
            continue
        if line.startswith("callgrind "):
            parts = line.split()
            cg[parts[1]] = {k: float(v) for k, v in (p.split("=") for p in parts[2:])}
            continue
        if not line.startswith("run="):
            continue
        parts = line.split()[1:]
        if parts and parts[0] == "pingpong":
            kv = dict(p.split("=") for p in parts[1:] if "=" in p)
            pingpong.append((float(kv["min"]), float(kv["p10"])))
        elif len(parts) >= 2 and parts[1].startswith("threads="):
            kv = dict(p.split("=") for p in parts[1:])
            threads[(parts[0], int(kv["threads"]))].append(
                (float(kv["calls_per_s"]), float(kv["cpu_per_wall"]), int(kv["failures"])))
        elif len(parts) == 7:
            name = parts[0]
            p50, p99, p999, mean = map(float, parts[1:5])
            timed[name].append((p50, p99, p999, mean, int(parts[5]), int(parts[6])))
    return header, timed, threads, cg, pingpong


# 1 -> 2 threads, the machine's own ceiling (controls through the same thread
# loop) beside the Wasmtime hosts: (name in results, label).
THREAD_ROWS = [
    ("native_cpp_threads", "native C++ (the native_cpp work, control)"),
    ("alu_threads", "ALU-bound loop (control)"),
    ("l2_threads", "768 KiB private random walk (control: L2-bound)"),
    ("membound_threads", "64 MiB private random walk (control: DRAM-bound)"),
    ("rust_warm_threads", "Rust host warm (own store + instance per thread)"),
    ("wasmplug_warm_threads", "wasmplug warm (one plugin, one pool)"),
    ("rust_fresh_threads", "Rust host fresh (shared `InstancePre`)"),
    ("wasmplug_fresh_threads", "wasmplug fresh (one plugin)"),
]


def thread_figures(threads, name):
    """Per run: wall ratio, (cpu/wall 1, cpu/wall 2), calls per CPU-second ratio; None if missing."""
    one, two = threads.get((name, 1)), threads.get((name, 2))
    if not one or not two:
        return None
    scal = [t[0] / o[0] for o, t in zip(one, two)]
    # Calls per CPU-second: 2 threads doing as much per CPU-second as 1
    # means nothing serializes them, whatever CPU the VM granted.
    per_cpu = [(t[0] / max(t[1], 1e-9)) / (o[0] / max(o[1], 1e-9)) for o, t in zip(one, two)]
    return scal, [(o[1], t[1]) for o, t in zip(one, two)], per_cpu


def med(rows, i):
    return statistics.median(r[i] for r in rows)


def ns(v):
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e4:
        return f"{v / 1e3:.1f} µs"
    if v >= 1e3:
        return f"{v / 1e3:.2f} µs"
    return f"{v:.0f} ns"


def verdict(ratio, goal):
    return "met" if ratio <= goal else "**not met**"


def svg(timed, path):
    groups = [
        ("warm round trip, C upper guest, 64 B", ["native_cpp", "wasmplug_warm", "wasmplug_warm_metrics", "rust_warm", "node_warm"]),
        ("fresh call (new instance per call)", ["wasmplug_fresh", "rust_fresh", "rust_fresh_seed", "node_fresh"]),
        ("Kestrel 3-field predicate", ["wasmplug_kestrel", "node_kestrel"]),
    ]
    rows = []
    for title, names in groups:
        rows.append(("title", title, None, None))
        for n in names:
            if n in timed:
                rows.append(("bar", n, med(timed[n], 0), med(timed[n], 1)))
    lo, hi = 1.0, max(r[3] for r in rows if r[0] == "bar") * 1.5
    left, width, row_h = 190, 560, 22
    x = lambda v: left + width * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    height = 40 + row_h * len(rows) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="20" font-size="14">Per-call latency, p50 (bar) and p99 (tick), log scale '
           '(bench/peers/run.sh)</text>']
    y = 40
    for kind, name, p50, p99 in rows:
        if kind == "title":
            out.append(f'<text x="10" y="{y + 15}" font-weight="bold">{name}</text>')
        else:
            color = "#1f77b4" if name.startswith("wasmplug") else ("#999999" if name == "native_cpp" else "#ff7f0e")
            out.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{name}</text>')
            out.append(f'<rect x="{left}" y="{y + 4}" width="{x(p50) - left:.1f}" height="{row_h - 8}" fill="{color}"/>')
            out.append(f'<line x1="{x(p99):.1f}" x2="{x(p99):.1f}" y1="{y + 2}" y2="{y + row_h - 2}" stroke="black"/>')
            out.append(f'<text x="{x(p99) + 4:.1f}" y="{y + 15}">{ns(p50)} / {ns(p99)}</text>')
        y += row_h
    for d in range(0, int(math.log10(hi)) + 1):
        v = 10 ** d
        out.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="36" y2="{y}" stroke="#dddddd"/>')
        out.append(f'<text x="{x(v):.1f}" y="{y + 14}" text-anchor="middle">{ns(v)}</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")


def section(header, timed, threads, cg, pingpong, svg_name):
    L = []
    a = L.append
    runs = max((len(v) for v in timed.values()), default=0)
    a("## wasmplug beside its peers (bench/peers/run.sh)")
    a("")
    a("```sh")
    a("bash bench/peers/run.sh        # RUNS=3 CALLS=200000 FRESH_CALLS=20000; BUILD_DIR=build")
    a("```")
    a("")
    a(f"Generated by `bench/peers/report.py` from {runs} interleaved runs ({header}). "
      "Every host runs the same guest on the same input: the SDK's C uppercase guest "
      "(`tests/guests/c/upper.c`: `wp_alloc`, write 64 bytes, `wp_transform` building a malloc'd output "
      "byte by byte with one `log` host call, read the output) and the Kestrel 3-field predicate "
      "(`tests/guests/c/kestrel_3fields.c`, four host calls). Peers: a bare Rust host on the `wasmtime` "
      "crate 48.0.8 with epoch interruption (`bench/peers/rust`; `fresh` = new store per call from an "
      "`InstancePre` on the pooling allocator tuned as wasmplug's engine, `fresh_seed` = the cc-lb seed's "
      "way: new store, `Linker::instantiate`, exports by name, default allocator), Node.js/V8 "
      "(`bench/peers/node_host.mjs`), and native C++. The guest logs one debug line per call: every host "
      "bounds-checks it and drops it (wasmplug: `RuntimeConfig::min_log_level = Info`, "
      "`bench/peers/wasmplug_peer.cpp`). `wasmplug_warm_metrics`: PrometheusMetrics on, every call counted and timed "
      "(one TSC read at the end, the start being the deadline's; the duration sum and a histogram bucket in the "
      "thread's own cell, no locked instruction). Percentiles are per call (TSC or hrtime pair, "
      "the median cost of an empty pair subtracted); the mean is over the per-call samples up to p99.9 "
      "(a wall-clock mean on this shared VM, which deschedules processes for milliseconds, measures the "
      "scheduler). Figures are medians "
      "over the runs; failures are summed over all runs (a failed call is counted, never fatal).")
    a("")
    a(f"![per-call latency]({svg_name})")
    a("")
    a("| benchmark | p50 | p99 | p99.9 | mean | failures / calls |")
    a("| --- | --- | --- | --- | --- | --- |")
    for name in ["native_cpp", "wasmplug_warm", "wasmplug_warm_metrics", "rust_warm", "node_warm",
                 "wasmplug_fresh", "rust_fresh", "rust_fresh_seed", "node_fresh", "wasmplug_kestrel", "node_kestrel"]:
        if name in timed:
            r = timed[name]
            a(f"| `{name}` | {ns(med(r, 0))} | {ns(med(r, 1))} | {ns(med(r, 2))} | {ns(med(r, 3))} | "
              f"{sum(x[4] for x in r)} / {sum(x[5] for x in r)} |")
    a("")

    def ratio(n, d, i):
        if n in timed and d in timed:
            return med(timed[n], i) / med(timed[d], i)
        return float("nan")

    a("| goal (issue 13) | measured | |")
    a("| --- | --- | --- |")
    goals = [
        ("warm round trip ≤ 1.0× bare Rust host (p50)", ratio("wasmplug_warm", "rust_warm", 0), 1.0),
        ("warm round trip ≤ 1.0× bare Rust host (mean)", ratio("wasmplug_warm", "rust_warm", 3), 1.0),
        ("warm ≤ 5× native C++ (p50)", ratio("wasmplug_warm", "native_cpp", 0), 5.0),
        ("fresh p50 ≤ 0.8× tuned Rust host", ratio("wasmplug_fresh", "rust_fresh", 0), 0.8),
        ("fresh p99 ≤ 1.0× tuned Rust host", ratio("wasmplug_fresh", "rust_fresh", 1), 1.0),
        ("Kestrel p50 ≤ 0.8× Node/V8", ratio("wasmplug_kestrel", "node_kestrel", 0), 0.8),
        ("Kestrel mean ≤ 0.8× Node/V8", ratio("wasmplug_kestrel", "node_kestrel", 3), 0.8),
        ("metrics on ≤ 1.05× off (warm mean)", ratio("wasmplug_warm_metrics", "wasmplug_warm", 3), 1.05),
        ("metrics on ≤ 1.05× off (warm p50)", ratio("wasmplug_warm_metrics", "wasmplug_warm", 0), 1.05),
    ]
    for text, r, goal in goals:
        if not math.isnan(r):
            a(f"| {text} | {r:.2f}× | {verdict(r, goal)} |")
    if "wasmplug" in cg and "rust" in cg:
        w, r = cg["wasmplug"], cg["rust"]
        a(f"| instructions beyond Wasmtime's entry ≤ 150 per warm call (callgrind) | {w['beyond_entry']:.0f} "
          f"(Rust host: {r['beyond_entry']:.0f}) | {verdict(w['beyond_entry'], 150)} |")
    native = thread_figures(threads, "native_cpp_threads")
    for mode in ("warm", "fresh"):
        fig = thread_figures(threads, f"wasmplug_{mode}_threads")
        if fig:
            scal, cpus, per_cpu = fig
            one = threads[(f"wasmplug_{mode}_threads", 1)]
            starved = min(o[1] for o in one) < 0.9
            verdict_text = ("**not measurable here**: the VM gave one busy thread less than 0.9 CPU per wall second"
                            if starved else ("met" if min(scal) >= 1.9 else "**not met**"))
            ceiling = ""
            if native:
                ceiling = f"; the machine's own (native C++ control, wall): {', '.join(f'{x:.2f}×' for x in native[0])}"
                low = sum(1 for x in native[0] if x < 1.9)
                if low and not starved and min(scal) < 1.9:
                    # Said, not excused: the goal stays 1.9x.
                    verdict_text += f" (the control itself was below 1.9× in {low} of {len(native[0])} runs)"
            a(f"| {mode} 1 → 2 threads ≥ 1.9× in every run | wall: {', '.join(f'{x:.2f}×' for x in scal)}; "
              f"CPU per wall second 1 / 2 threads: {', '.join(f'{c1:.2f} / {c2:.2f}' for c1, c2 in cpus)}; "
              f"calls per CPU-second, 2 threads vs 1: {', '.join(f'{x:.2f}×' for x in per_cpu)}{ceiling} | {verdict_text} |")
    rows = [(label, thread_figures(threads, name)) for name, label in THREAD_ROWS]
    if any(fig for _, fig in rows):
        a("")
        a("1 → 2 threads, each host's 1- and 2-thread points back to back within each run (`*-threads` modes of "
          "`wasmplug_peer` and `peer_rust`, 2 s per point). The controls run through the same thread loop as "
          "wasmplug and share no data, so they show the machine's own ceiling in that run. CPU per wall second "
          "below 2 with 2 threads means other processes had part of the CPUs; calls per CPU-second does not "
          "depend on that, and below 1.0× means the threads slow each other down:")
        a("")
        a("| 1 → 2 threads | wall, per run | CPU per wall second, 1 / 2 threads | calls per CPU-second, 2 vs 1 |")
        a("| --- | --- | --- | --- |")
        for label, fig in rows:
            if fig:
                scal, cpus, per_cpu = fig
                a(f"| {label} | {', '.join(f'{x:.2f}×' for x in scal)} | "
                  f"{', '.join(f'{c1:.2f} / {c2:.2f}' for c1, c2 in cpus)} | {', '.join(f'{x:.2f}×' for x in per_cpu)} |")
        if pingpong:
            a("")
            a("A cache line handed back and forth between threads pinned to CPU 0 and CPU 1 (`wasmplug_peer pingpong`), "
              "round trip, minimum / 10th percentile per run: "
              f"{', '.join(f'{lo:.0f} / {p10:.0f} ns' for lo, p10 in pingpong)}. With the ALU-bound control "
              "(two SMT siblings share one core's ALUs and would each get well under 1.0× calls per CPU-second) "
              "this tells whether the two vCPUs are separate cores; every line both threads write costs such a "
              "transfer.")
    a("")
    if cg:
        a("Callgrind, instructions per warm round trip (difference of a 5,000- and a 10,000-call run, "
          "`bench/peers/callgrind_split.py`; both hosts with 4 pool slots, as valgrind cannot reserve 256):")
        a("")
        a("| host | total | inside Wasmtime's `catch_traps` (guest code + host functions) | host function | beyond Wasmtime's entry |")
        a("| --- | --- | --- | --- | --- |")
        for host in ("wasmplug", "rust"):
            if host in cg:
                c = cg[host]
                a(f"| {host} | {c['total']:,.0f} | {c['wasmtime']:,.0f} | {c['host_fn']:,.0f} | {c['beyond_entry']:,.0f} |")
        a("")
    return "\n".join(L)


def main():
    results, doc, svg_path = sys.argv[1:4]
    header, timed, threads, cg, pingpong = parse(results)
    svg(timed, svg_path)
    text = open(doc).read()
    body = f"{BEGIN}\n{section(header, timed, threads, cg, pingpong, svg_path.rsplit('/', 1)[-1])}\n{END}"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: body, text, flags=re.S)
    else:
        # After the title and the first paragraph.
        first = text.index("\n\n", text.index("\n\n") + 2)
        text = text[:first] + "\n\n" + body + text[first:]
    open(doc, "w").write(text)


if __name__ == "__main__":
    main()
