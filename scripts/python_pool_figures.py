#!/usr/bin/env python3
"""Python's multiprocessing.Pool measured on this machine, for comparison
with corescale's process pool (go test -bench BenchmarkPool ./bench and the
hash benchmarks).

    python3 scripts/python_pool_figures.py [--workers 2] [--repeat 7]

Prints Go benchmark lines (benchstat reads them), one per repetition:

    op=startup/method=fork|spawn  Pool(n) until every worker has run a task
    op=roundtrip                  one pool.apply of a no-op
    op=hash-serial                hashlib.sha256 over 4096 16 KiB blocks (64 MiB)
    op=hash-pool                  the same blocks through Pool(n).map, the
                                  digests pickled back to the parent

Standard library only.
"""

import argparse
import hashlib
import multiprocessing as mp
import os
import time

BLOCK = 16 << 10
TOTAL = 64 << 20


def noop(x=None):
    return x


def whoami(_):
    return os.getpid()


def digest(block):
    return hashlib.sha256(block).digest()


def startup(method, workers):
    ctx = mp.get_context(method)
    t0 = time.perf_counter_ns()
    pool = ctx.Pool(workers)
    # Ready means every worker process has run a task; Pool returns before.
    seen = set()
    while len(seen) < workers:
        seen.update(pool.map(whoami, range(4 * workers), chunksize=1))
    ns = time.perf_counter_ns() - t0
    pool.close()
    pool.join()
    return ns


def roundtrip(pool, n=2000):
    pool.apply(noop)
    t0 = time.perf_counter_ns()
    for _ in range(n):
        pool.apply(noop)
    return (time.perf_counter_ns() - t0) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    w = args.workers

    data = os.urandom(TOTAL)
    blocks = [data[i:i + BLOCK] for i in range(0, TOTAL, BLOCK)]
    print("pkg: python multiprocessing")
    print("python: " + ".".join(map(str, __import__("sys").version_info[:3])))
    print("Unit B/s better=higher")

    def line(name, ns, extra=""):
        print(f"BenchmarkPython/{name}/workers={w} 1 {ns:.0f} ns/op{extra}", flush=True)

    for _ in range(args.repeat):
        for method in ("fork", "spawn"):
            line(f"op=startup/method={method}", startup(method, w))
    with mp.get_context("fork").Pool(w) as pool:
        for _ in range(args.repeat):
            line("op=roundtrip", roundtrip(pool))
        for _ in range(args.repeat):
            t0 = time.perf_counter_ns()
            serial = [digest(b) for b in blocks]
            ns = time.perf_counter_ns() - t0
            print(f"BenchmarkPython/op=hash-serial/workers=1 1 {ns:.0f} ns/op {TOTAL / ns * 1e9:.4g} B/s", flush=True)
            t0 = time.perf_counter_ns()
            got = pool.map(digest, blocks, chunksize=len(blocks) // (4 * w))
            ns = time.perf_counter_ns() - t0
            assert got == serial, "the pool's digests differ from the serial ones"
            line("op=hash-pool", ns, f" {TOTAL / ns * 1e9:.4g} B/s")


if __name__ == "__main__":
    main()
