#!/usr/bin/env python3
"""Compile cost of the worst modules within RuntimeConfig::compile's defaults.

Generates modules at (or just under) the compile bounds and times
`wasmplug inspect` on each (one compile). Usage:

    python3 bench/compile_bombs.py build/tools/wasmplug/wasmplug

Prints seconds and peak RSS per module; docs/security/admission-and-calls.md
quotes the figures.
"""
import os
import subprocess
import sys
import tempfile


def leb(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def section(i, payload):
    return bytes([i]) + leb(len(payload)) + payload


def body(locals_, code):
    b = (b"\x00" if locals_ == 0 else b"\x01" + leb(locals_) + b"\x7f") + code + b"\x0b"
    return leb(len(b)) + b


def module(n, body_bytes, functype=b"\x60\x00\x00"):
    m = b"\x00asm\x01\x00\x00\x00"
    m += section(1, leb(1) + functype)
    m += section(3, leb(n) + b"\x00" * n)
    m += section(10, leb(n) + body_bytes * n)
    return m


def modules():
    kib512 = (512 << 10) - 16
    nest = b"\x02\x40" * 999 + b"\x0b" * 999
    yield "20000 empty functions", module(20000, body(0, b""))
    yield "16 x 512 KiB of blocks nested 999 deep", module(16, body(0, nest * (kib512 // len(nest))))
    yield "16 x 512 KiB of empty blocks", module(16, body(0, b"\x02\x40\x0b" * (kib512 // 3)))
    arith = b"\x20\x00\x20\x00\x6a\x21\x00"  # local.get 0, local.get 0, i32.add, local.set 0
    yield "16 x 512 KiB of arithmetic", module(16, body(0, arith * (kib512 // len(arith))), b"\x60\x01\x7f\x00")
    touch = b"".join(b"\x20" + leb(i) + b"\x21" + leb((i + 1) % 10000) for i in range(10000))
    yield "50 functions x 10000 locals, all used", module(50, body(10000, touch))


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else "build/tools/wasmplug/wasmplug"
    with tempfile.TemporaryDirectory() as tmp:
        for name, wasm in modules():
            path = os.path.join(tmp, "bomb.wasm")
            with open(path, "wb") as f:
                f.write(wasm)
            run = subprocess.run(["/usr/bin/time", "-f", "%e %M", cli, "inspect", path],
                                 capture_output=True, text=True)
            seconds, kib = run.stderr.strip().splitlines()[-1].split()
            rejected = "rejected" in run.stdout.lower() and "limit is" in run.stderr + run.stdout
            print(f"{name:45s} {len(wasm) / 2**20:6.2f} MiB  {float(seconds):6.2f} s  {int(kib) // 1024:5d} MiB RSS"
                  + ("  (refused by a compile bound)" if rejected else ""))


if __name__ == "__main__":
    main()
