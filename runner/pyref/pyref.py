#!/usr/bin/env python3
"""pyref: Python reference strategies for corescale.

corescale measures Go's goroutines and its own process pool on a kernel; this
program measures what a Python programmer would write for the same work, on
the same inputs, so that a report can put Python's multiprocessing.Pool beside
corescale's pool. The Go runner (runner/python.go) starts it once per strategy
instance and keeps it, like a pool:

    pyref.py --strategy py-pool --workers 2 --fd 3 --size BYTES \
             --task "hash shape=uniform size=4194304 chunks=64 seed=1"

fd 3 is the runner's shared region (a memfd): the inputs at offset 0, the
outputs at the first 64-byte boundary after them, laid out exactly as the Go
kernels lay them out (kernels/matmul.go, hash.go, search.go). The Go side
fills the inputs, poisons the outputs before each run and verifies them after,
with the same code that verifies its own strategies.

Protocol: one JSON line per event on stdout.
  start-up   {"ready": true, "startup_ns": ..., "interpreter_ns": ..., ...}
             or {"ready": false, "error": "..."} and exit status 2
  stdin      "run dynamic" | "run static"  (one line per run); "quit" or EOF ends
  answer     {"ok": true, "wall_ns": ..., "busy_ns": [one per worker], ...}
             or {"ok": false, "error": "..."}

Strategies:
  py-serial    one process, one thread, chunks in order
  py-threads   concurrent.futures.ThreadPoolExecutor; hashlib and numpy
               release the GIL on large buffers, bisect does not
  py-pool      multiprocessing.Pool as tutorials teach it: pool.map over
               chunk indices, each result pickled back to the parent, which
               copies it into the outputs. Inputs reach the workers the way
               Linux tutorials rely on: globals inherited through fork.
  py-pool-shm  multiprocessing.Pool whose workers map the region themselves
               (as SharedMemory(name=...) would) and write outputs in place;
               only (pid, busy time) travels back.
Scheduling: dynamic = map with chunksize 1 over the chunk indices (each
worker comes back for the next chunk); static = map over one contiguous range
of chunks per worker, the hand split (a Pool cannot pin a task to a worker:
a fast worker may take two ranges, which shows in busy_ns).

Standard library only; numpy, when importable, for matmul (pure Python is
allowed only up to n = 128).
"""

import time

# First statement after the import of time: the Go side passes its monotonic
# clock at exec in CORESCALE_PYREF_T0, so the difference is the interpreter's
# own start-up (exec, site, encodings), which nothing inside Python can time.
T_ENTER = time.monotonic_ns()

import os

# BLAS libraries (OpenBLAS, MKL, BLIS) start a thread per core unless told
# otherwise, which would make py-serial secretly parallel and oversubscribe
# every pool. One worker must be one core, as in the Go strategies. These
# must be set before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import array
import bisect
import ctypes
import hashlib
import json
import mmap
import multiprocessing
import operator
import platform
import signal
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

STRATEGIES = ("py-serial", "py-threads", "py-pool", "py-pool-shm")

# Constants shared with the Go kernels; a change there must be made here.
OUTPUT_ALIGN = 64            # runner/workload.go outputAlign
HASH_MESSAGE_BYTES = 16384   # kernels/hash.go hashMessageBytes
PURE_PYTHON_MATMUL_MAX = 128  # past this, pure Python takes minutes per run


class PyrefError(Exception):
    """An error worth one line to the Go side, without a traceback."""


def chunk_range(i, chunks, items):
    """Items [lo, hi) of chunk i: kernels/kernel.go chunkRange."""
    return items * i // chunks, items * (i + 1) // chunks


def parse_task(text):
    """Parses kernels.Params.String(): "hash shape=uniform size=N chunks=C seed=S"."""
    fields = text.split()
    if not fields:
        raise PyrefError("empty task")
    params = {"kernel": fields[0]}
    for f in fields[1:]:
        key, sep, value = f.partition("=")
        if not sep:
            raise PyrefError(f"task field {f!r}: want key=value")
        params[key] = value
    try:
        for key in ("size", "chunks", "seed"):
            params[key] = int(params[key])
    except (KeyError, ValueError) as e:
        raise PyrefError(f"task {text!r}: bad or missing {e}") from None
    if params["size"] <= 0 or params["chunks"] <= 0:
        raise PyrefError(f"task {text!r}: size and chunks must be positive")
    return params


def import_numpy():
    """Returns numpy, or None when it is not installed."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def blas_library(np):
    """Names the BLAS numpy really loaded.

    numpy's build config names the library it was linked against, which on
    Debian is the alternatives link libblas.so.3, whatever it points at; the
    mapped file is the truth, and reading /proc/self/maps costs microseconds.
    """
    if np is None:
        return "none"
    found = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                name = os.path.basename(path)
                if any(k in name for k in ("blas", "mkl_rt", "blis", "accelerate")) and path not in found:
                    found.append(path)
    except OSError:
        return "unknown"
    if not found:
        return "unknown"
    described = []
    for path in found:
        real = os.path.realpath(path)
        kind = "reference BLAS (netlib)" if "/blas/libblas" in real else os.path.basename(real)
        described.append(f"{kind}: {real}")
    return "; ".join(described)


# ---------------------------------------------------------------------------
# Kernels: views of the region exactly as the Go kernels lay them out.
# Each kernel has `items` units of output of `item_bytes` bytes each (hash:
# digests, search: answers, matmul: rows of C); chunk i owns the items
# chunk_range(i, chunks, items). compute(lo, hi) returns the outputs of items
# [lo, hi) as bytes (what py-pool pickles back); write(lo, hi) stores them in
# the region directly.
# ---------------------------------------------------------------------------

def layout(input_bytes, output_bytes, region_size):
    """Returns the outputs' offset, checking that the region holds both areas."""
    out_off = (input_bytes + OUTPUT_ALIGN - 1) & ~(OUTPUT_ALIGN - 1)
    if out_off + output_bytes > region_size:
        raise PyrefError(f"region of {region_size} bytes is too small: the kernel needs {out_off + output_bytes}")
    return out_off


class Hash:
    """Input: M+1 little-endian uint64 offsets, then the payload; output: M
    SHA-256 digests, M = ceil(size / 16384)."""

    item_bytes = 32

    def __init__(self, p, buf):
        size = p["size"]
        self.items = (size + HASH_MESSAGE_BYTES - 1) // HASH_MESSAGE_BYTES
        index = (self.items + 1) * 8
        out_off = layout(index + size, self.items * 32, len(buf))
        self.offsets = buf[:index].cast("Q")
        self.payload = buf[index:index + size]
        self.out = self.out_bytes = buf[out_off:out_off + self.items * 32]

    def digests(self, lo, hi):
        off, payload, sha256 = self.offsets, self.payload, hashlib.sha256
        for i in range(lo, hi):
            # A memoryview slice is zero-copy; hashlib releases the GIL while
            # it hashes buffers over 2 KiB, which lets py-threads scale.
            yield sha256(payload[off[i]:off[i + 1]]).digest()

    def compute(self, lo, hi):
        return b"".join(self.digests(lo, hi))

    def write(self, lo, hi):
        out = self.out
        for i, d in enumerate(self.digests(lo, hi), lo):
            out[i * 32:(i + 1) * 32] = d

    def describe(self):
        # hashlib.sha256 is OpenSSL's unless Python was built without it.
        impl = "OpenSSL" if hashlib.sha256.__name__.startswith("openssl") else "builtin"
        return f"hashlib.sha256 ({impl})"


class Search:
    """Input: the keys (sorted uint64), then the queries (uint64), queries =
    max(1, keys/8); output: one int64 per query, its index or -1."""

    item_bytes = 8

    def __init__(self, p, buf):
        nkeys = p["size"]
        self.items = max(1, nkeys // 8)
        out_off = layout((nkeys + self.items) * 8, self.items * 8, len(buf))
        words = buf[:(nkeys + self.items) * 8].cast("Q")
        # bisect works on any sequence: searching the memoryview itself reads
        # the shared keys in place instead of copying them into a list.
        self.keys = words[:nkeys]
        self.queries = words[nkeys:]
        self.out_bytes = buf[out_off:out_off + self.items * 8]
        self.out = self.out_bytes.cast("q")

    def answers(self, lo, hi):
        keys, n, find = self.keys, len(self.keys), bisect.bisect_left
        res = array.array("q", bytes(8 * (hi - lo)))
        for j, q in enumerate(self.queries[lo:hi]):
            i = find(keys, q)
            res[j] = i if i < n and keys[i] == q else -1
        return res

    def compute(self, lo, hi):
        return self.answers(lo, hi).tobytes()

    def write(self, lo, hi):
        self.out[lo:hi] = self.answers(lo, hi)

    def describe(self):
        return "bisect.bisect_left over a memoryview"


def matmul_input_bytes(n):
    """A and B, then the copy of B that kernels/dgemm.PackB packs (which
    Python does not read), on a 64-byte boundary: its header of 8 float64s
    and n rows of n columns rounded up to 24, as dgemm.PackedSize says."""
    packed_off = (2 * n * n * 8 + 63) & ~63
    return packed_off + (8 + n * ((n + 23) // 24 * 24)) * 8


class Matmul:
    """Input: A then B, n x n row-major float64, then a packed copy of B
    for the Go chunks (ignored here); output: C = A x B. An item is a row
    of C."""

    def __init__(self, p, buf, np):
        n = p["size"]
        self.n, self.items, self.item_bytes = n, n, n * 8
        out_off = layout(matmul_input_bytes(n), n * n * 8, len(buf))
        self.out_bytes = buf[out_off:out_off + n * n * 8]
        self.np = np
        if np is not None:
            self.a = np.frombuffer(buf, dtype="<f8", count=n * n, offset=0).reshape(n, n)
            self.b = np.frombuffer(buf, dtype="<f8", count=n * n, offset=n * n * 8).reshape(n, n)
            self.c = np.frombuffer(buf, dtype="<f8", count=n * n, offset=out_off).reshape(n, n)
            return
        if n > PURE_PYTHON_MATMUL_MAX:
            raise PyrefError(f"matmul n={n} needs numpy (pure Python is allowed up to n={PURE_PYTHON_MATMUL_MAX}); "
                             "install python3-numpy or point CORESCALE_PYTHON at a Python that has it")
        self.a = buf[:n * n * 8].cast("d")
        self.b = buf[n * n * 8:2 * n * n * 8].cast("d")
        self.c = buf[out_off:out_off + n * n * 8].cast("d")
        # The columns of B as lists, built once per process: the inputs are
        # filled before any strategy starts and never change (Workload's
        # contract). Costs n^2 next to the n^3 of a run.
        self.cols = [self.b[j::n].tolist() for j in range(n)]

    def rows(self, lo, hi):
        """Pure Python: one dot product per element, summed left to right."""
        n, a, cols, mul = self.n, self.a, self.cols, operator.mul
        for i in range(lo, hi):
            arow = a[i * n:(i + 1) * n].tolist()
            yield i, array.array("d", [sum(map(mul, arow, col)) for col in cols])

    def compute(self, lo, hi):
        if self.np is not None:
            return (self.a[lo:hi] @ self.b).tobytes()
        return b"".join(row.tobytes() for _, row in self.rows(lo, hi))

    def write(self, lo, hi):
        if self.np is not None:
            self.np.matmul(self.a[lo:hi], self.b, out=self.c[lo:hi])
            return
        n = self.n
        for i, row in self.rows(lo, hi):
            self.c[i * n:(i + 1) * n] = row

    def describe(self):
        if self.np is not None:
            return f"numpy {self.np.__version__} matmul"
        return "pure Python (sum of map(operator.mul))"


def new_kernel(p, buf):
    if p["kernel"] == "hash":
        return Hash(p, buf)
    if p["kernel"] == "search":
        return Search(p, buf)
    if p["kernel"] == "matmul":
        return Matmul(p, buf, import_numpy())
    raise PyrefError(f"unknown kernel {p['kernel']!r} (have hash, matmul, search)")


def map_region(fd, size):
    """Maps the region shared, read-write, and returns a memoryview of it.

    The mapping is never closed: memoryviews and numpy arrays over it live as
    long as the process, and the kernel unmaps it at exit.
    """
    try:
        mm = mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    except (OSError, ValueError) as e:
        raise PyrefError(f"mapping fd {fd} ({size} bytes): {e}") from None
    return memoryview(mm)


# ---------------------------------------------------------------------------
# Worker-side state. With the fork start method every Pool worker starts as a
# copy of the parent after these globals are set, which is how the py-pool
# workers see the kernel and its inputs.
# ---------------------------------------------------------------------------

KERNEL = None            # the kernel over this process's view of the region
KERNEL_OUT_BYTES = None  # the outputs as bytes, in the parent's view
CHUNKS = 0
WORKERS = 0


def die_with_parent(parent):
    """A Pool worker outlives a parent killed by SIGKILL: it waits on the task
    queue, whose write end its siblings inherited too, so no EOF ever comes.
    It asks the kernel for SIGKILL when the parent dies instead, and checks
    that the parent has not died already."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the Go side still kills the process group
    if os.getppid() != parent:
        os._exit(1)


def init_pool_worker(parent):
    die_with_parent(parent)


def init_shm_worker(parent, fd, size, params):
    """Maps the region anew, as SharedMemory(name=...) would attach it, and
    rebuilds the kernel over this worker's own mapping."""
    global KERNEL
    die_with_parent(parent)
    KERNEL = new_kernel(params, map_region(fd, size))


def static_chunks(w):
    """Chunks [lo, hi) of worker w in a static split: procpool.Static's."""
    return CHUNKS * w // WORKERS, CHUNKS * (w + 1) // WORKERS


def items_of_chunks(c_lo, c_hi):
    """Items of the contiguous chunks [c_lo, c_hi)."""
    if c_lo >= c_hi:
        return 0, 0
    return chunk_range(c_lo, CHUNKS, KERNEL.items)[0], chunk_range(c_hi - 1, CHUNKS, KERNEL.items)[1]


def write_chunk(i):
    """Runs chunk i in place; returns (worker id, busy ns)."""
    start = time.perf_counter_ns()
    KERNEL.write(*chunk_range(i, CHUNKS, KERNEL.items))
    return worker_id(), time.perf_counter_ns() - start


def write_static(w):
    start = time.perf_counter_ns()
    KERNEL.write(*items_of_chunks(*static_chunks(w)))
    return worker_id(), time.perf_counter_ns() - start


def compute_chunk(i):
    """Computes chunk i and returns its outputs, to be pickled to the parent."""
    start = time.perf_counter_ns()
    lo, hi = chunk_range(i, CHUNKS, KERNEL.items)
    data = KERNEL.compute(lo, hi)
    return worker_id(), time.perf_counter_ns() - start, lo, data


def compute_static(w):
    start = time.perf_counter_ns()
    lo, hi = items_of_chunks(*static_chunks(w))
    data = KERNEL.compute(lo, hi)
    return worker_id(), time.perf_counter_ns() - start, lo, data


def worker_id():
    # Threads share a pid; processes share nothing else that is stable.
    return os.getpid(), threading.get_ident()


def noop(_):
    return worker_id()


# ---------------------------------------------------------------------------
# Strategies. run(sched) returns the answer dict of one run.
# ---------------------------------------------------------------------------

def busy_list(samples, workers):
    """Sums busy ns per worker and pads to the worker count: a worker that got
    no task was idle, and the Go side expects one entry per worker."""
    per = {}
    for wid, ns in samples:
        per[wid] = per.get(wid, 0) + ns
    busy = [per[k] for k in sorted(per)]
    return busy + [0] * (workers - len(busy))


class Serial:
    def __init__(self, workers):
        self.workers = 1

    def run(self, sched):
        # One thread owns every chunk, so dynamic and static are the same.
        start = time.perf_counter_ns()
        for i in range(CHUNKS):
            KERNEL.write(*chunk_range(i, CHUNKS, KERNEL.items))
        wall = time.perf_counter_ns() - start
        return {"wall_ns": wall, "busy_ns": [wall]}

    def close(self):
        pass


class Threads:
    def __init__(self, workers):
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers)
        # ThreadPoolExecutor starts its threads on demand: submit enough
        # blocking tasks to start them all now, not inside the first run.
        barrier = threading.Barrier(workers)
        list(self.pool.map(lambda _: barrier.wait(), range(workers)))

    def run(self, sched):
        start = time.perf_counter_ns()
        if sched == "dynamic":
            samples = list(self.pool.map(write_chunk, range(CHUNKS)))
        else:
            samples = list(self.pool.map(write_static, range(self.workers)))
        wall = time.perf_counter_ns() - start
        return {"wall_ns": wall, "busy_ns": busy_list(samples, self.workers)}

    def close(self):
        self.pool.shutdown(wait=True)


class Pool:
    """multiprocessing.Pool, results pickled back (shm=False) or written in
    place by workers that map the region themselves (shm=True)."""

    def __init__(self, workers, shm, fd, size, params):
        self.workers, self.shm = workers, shm
        ctx = multiprocessing.get_context("fork")
        if shm:
            init, args = init_shm_worker, (os.getpid(), fd, size, params)
        else:
            init, args = init_pool_worker, (os.getpid(),)
        self.pool = ctx.Pool(processes=workers, initializer=init, initargs=args)
        # Pool forks its workers in the constructor; one round trip through
        # every pipe makes sure they run before the ready line.
        self.pool.map(noop, range(workers), chunksize=1)

    def run(self, sched):
        if self.shm:
            start = time.perf_counter_ns()
            if sched == "dynamic":
                samples = self.pool.map(write_chunk, range(CHUNKS), chunksize=1)
            else:
                samples = self.pool.map(write_static, range(self.workers), chunksize=1)
            wall = time.perf_counter_ns() - start
            return {"wall_ns": wall, "busy_ns": busy_list(samples, self.workers)}

        start = time.perf_counter_ns()
        if sched == "dynamic":
            results = self.pool.map(compute_chunk, range(CHUNKS), chunksize=1)
        else:
            results = self.pool.map(compute_static, range(self.workers), chunksize=1)
        copy_start = time.perf_counter_ns()
        out, size = KERNEL_OUT_BYTES, KERNEL.item_bytes
        for _, _, lo, data in results:
            out[lo * size:lo * size + len(data)] = data
        end = time.perf_counter_ns()
        # The copy is part of the parallel section: it is what the tutorial
        # way pays for results that do not land where they belong.
        return {"wall_ns": end - start, "copy_ns": end - copy_start,
                "busy_ns": busy_list([(r[0], r[1]) for r in results], self.workers)}

    def close(self):
        self.pool.close()
        self.pool.join()


def new_strategy(name, workers, fd, size, params):
    if name == "py-serial":
        if workers != 1:
            raise PyrefError(f"py-serial runs 1 worker, not {workers}")
        return Serial(workers)
    if name == "py-threads":
        return Threads(workers)
    if name in ("py-pool", "py-pool-shm"):
        return Pool(workers, name == "py-pool-shm", fd, size, params)
    raise PyrefError(f"unknown strategy {name!r} (have {', '.join(STRATEGIES)})")


def environment(np=None):
    """What the ready line and --describe report about this Python."""
    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "gil": True if gil is None else gil(),
        "numpy": np.__version__ if np is not None else None,
        "blas": blas_library(np),
        "blas_threads": 1,
    }


def corrupt(out):
    """Flips the sign-and-exponent byte of the first output: wrong for every
    kernel (a digest byte, an index's high byte, a double's exponent), so that
    the Go side's test can check that verification catches Python's errors."""
    out[7] ^= 0x40


def main():
    global KERNEL, CHUNKS, WORKERS, KERNEL_OUT_BYTES
    ap = argparse.ArgumentParser(description="Python reference strategies for corescale")
    ap.add_argument("--strategy", choices=STRATEGIES)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--fd", type=int, default=3, help="the region's memfd")
    ap.add_argument("--size", type=int, help="the region's size in bytes")
    ap.add_argument("--task", help="kernels.Params text, e.g. 'hash shape=uniform size=4194304 chunks=64 seed=1'")
    ap.add_argument("--describe", action="store_true", help="print the environment as JSON and exit")
    args = ap.parse_args()

    # The protocol owns the real stdout; anything else that prints (a
    # library, a worker, a warning) goes to stderr and cannot break a line.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def say(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    if args.describe:
        say(environment(import_numpy()))
        return 0

    try:
        if args.strategy is None or args.size is None or args.task is None:
            raise PyrefError("--strategy, --size and --task are required")
        if args.workers < 1:
            raise PyrefError(f"--workers {args.workers}: want at least 1")
        if sys.byteorder != "little":
            raise PyrefError("the region is little-endian and so must this machine be")
        t0 = os.environ.get("CORESCALE_PYREF_T0")
        interpreter_ns = T_ENTER - int(t0) if t0 else None

        setup_start = time.perf_counter_ns()
        params = parse_task(args.task)
        buf = map_region(args.fd, args.size)
        KERNEL = new_kernel(params, buf)
        CHUNKS, WORKERS = params["chunks"], args.workers
        KERNEL_OUT_BYTES = KERNEL.out_bytes
        pool_start = time.perf_counter_ns()
        strategy = new_strategy(args.strategy, args.workers, args.fd, args.size, params)
        pool_ns = time.perf_counter_ns() - pool_start
        setup_ns = pool_start - setup_start
    except Exception as e:  # every failure becomes the ready line
        say({"ready": False, "error": describe_error(e)})
        return 2

    ready = {
        "ready": True,
        "strategy": args.strategy,
        "workers": args.workers,
        "start_method": "fork" if args.strategy in ("py-pool", "py-pool-shm") else None,
        "kernel": KERNEL.describe(),
        "interpreter_ns": interpreter_ns,
        "setup_ns": setup_ns,
        "pool_ns": pool_ns,
        # Start-up as the Go side reports it: interpreter, set-up and pool.
        "startup_ns": (interpreter_ns or 0) + setup_ns + pool_ns,
    }
    ready.update(environment(getattr(KERNEL, "np", None)))
    say(ready)

    bad = os.environ.get("CORESCALE_PYREF_CORRUPT") == "1"
    try:
        for line in iter(sys.stdin.readline, ""):
            words = line.split()
            if not words:
                continue
            if words == ["quit"]:
                break
            if len(words) != 2 or words[0] != "run" or words[1] not in ("dynamic", "static"):
                say({"ok": False, "error": f"unknown command {line.strip()!r} (want 'run dynamic' or 'run static')"})
                continue
            try:
                answer = strategy.run(words[1])
                if bad:
                    corrupt(KERNEL_OUT_BYTES)
                answer["ok"] = True
            except Exception as e:  # reported; the next run may work
                answer = {"ok": False, "error": describe_error(e)}
            say(answer)
    finally:
        strategy.close()
    return 0


def describe_error(e):
    if isinstance(e, PyrefError):
        return str(e)
    # An unexpected error: its last frames say where.
    tb = traceback.format_exception(type(e), e, e.__traceback__)
    return "".join(tb[-3:]).strip()


if __name__ == "__main__":
    sys.exit(main())
