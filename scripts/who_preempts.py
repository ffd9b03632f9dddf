#!/usr/bin/env python3
"""Who takes the CPU from a command's threads while they can run: the
kernel's scheduler events (ftrace sched_switch), summed by preempter.

    sudo python3 scripts/who_preempts.py [--min-gap-us 5000] -- \\
        bin/corescale run -kernels hash -shapes uniform -strategies procpool \\
        -sched dynamic -workers 1 -count 8 -ref none

A thread switched out while runnable (prev_state R) waits until it runs
again; that wait is what schedstat's run delay adds up and what corescale's
"waiting for a CPU" reports. This script attributes each such wait to the
task that ran instead: a thread of the same process ("self"), of the
command's first process ("parent", the corescale that started the
workers), of another of its processes ("sibling"), or anything else by
name (kernel threads, other programs), separately for the threads of the
first process (goroutine workers, serial) and of the processes it started
(procpool's workers). The delay from a thread's
wake-up to its running counts too, as "wake-up, idle CPU" (the CPU had
to wake: on a VM, a halted vCPU) or "wake-up, busy CPU". Waits are counted
only for stretches where the thread then ran without sleeping for at least
--min-gap-us (the pauses between runs, where workers spin and yield, would
otherwise dominate). A procpool worker that spins between jobs (WakeFor,
spinFor) does not sleep, so its stretches can include the parent's work
between runs, where the parent rightly takes the CPU: read "parent" for
procpool workers as an upper bound on what the runs themselves lose.

It needs root and tracefs (mounted at /sys/kernel/tracing here if it is
not). On a 2-vCPU KVM guest it showed the parent's doorbell naps
(procpool's bellNap) waking on a worker's CPU. Standard library only.
"""

import argparse
import collections
import os
import re
import subprocess
import sys

TRACING = "/sys/kernel/tracing"
LINE = re.compile(r"^\s*(\S+)-(\d+)\s+\(\s*(\S+)\)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+): (.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")


def write(name, value):
    with open(os.path.join(TRACING, name), "w") as f:
        f.write(value)


def trace(cmd):
    if not os.path.isdir(os.path.join(TRACING, "events")):
        subprocess.run(["mount", "-t", "tracefs", "nodev", TRACING], check=True)
    write("tracing_on", "0")
    write("trace", "")
    write("options/record-tgid", "1")
    write("buffer_size_kb", "65536")
    write("events/sched/sched_switch/enable", "1")
    write("events/sched/sched_wakeup/enable", "1")
    try:
        write("tracing_on", "1")
        proc = subprocess.Popen(cmd)
        root = proc.pid
        proc.wait()
    finally:
        write("tracing_on", "0")
        write("events/sched/sched_switch/enable", "0")
        write("events/sched/sched_wakeup/enable", "0")
    with open(os.path.join(TRACING, "trace")) as f:
        return root, f.read().splitlines()


def analyse(root, lines, min_gap):
    tgid, events = {}, []
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        _, pid, tg, cpu, ts, kind, rest = m.groups()
        if tg.isdigit():
            tgid[int(pid)] = int(tg)
        d = dict(FIELD.findall(rest))
        if kind == "sched_switch":
            events.append((float(ts), "switch", int(cpu), int(d["prev_pid"]), d["prev_state"], int(d["next_pid"]), d["next_comm"]))
        elif kind == "sched_wakeup":
            events.append((float(ts), "wakeup", int(d["target_cpu"]), int(d["pid"]), "", 0, ""))
    procs = {t for t in tgid.values() if t >= root}
    threads = {t for t, g in tgid.items() if g in procs}
    waits = collections.defaultdict(lambda: [0, 0.0])
    stretches = collections.Counter()
    running = {}  # CPU -> pid on it (0: idle)
    state = {t: {"start": None, "pending": None, "woken": None, "current": []} for t in threads}
    for ts, kind, cpu, a, prev_state, b, comm in events:
        if kind == "wakeup":
            if a in state:
                # Woken onto an idle CPU, the wait is the CPU's wake-up (a
                # halted vCPU); onto a busy one, it waits behind that task.
                on = running.get(cpu, 0)
                state[a]["woken"] = (ts, "wake-up, idle CPU" if on == 0 else "wake-up, busy CPU")
            continue
        running[cpu] = b
        prev, nxt = a, b
        if prev in state:
            st = state[prev]
            if prev_state.startswith("R"):
                st["pending"] = (ts, nxt, comm)
            else:
                if st["start"] is not None and ts - st["start"] >= min_gap:
                    whose = "parent" if tgid[prev] == root else "child"
                    stretches[whose] += 1
                    for key, dur in st["current"]:
                        waits[whose, key][0] += 1
                        waits[whose, key][1] += dur
                st["start"], st["current"] = None, []
        if nxt in state:
            st = state[nxt]
            if st["pending"]:
                t0, who, wcomm = st["pending"]
                g = tgid.get(who)
                key = ("self" if g == tgid[nxt] else "parent" if g == root
                       else "sibling" if g in procs else wcomm)
                st["current"].append((key, ts - t0))
                st["pending"] = None
            elif st["start"] is None:
                st["start"] = ts
                if st["woken"]:
                    st["current"].append((st["woken"][1], ts - st["woken"][0]))
            st["woken"] = None
    return stretches, waits


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-gap-us", type=float, default=5000)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command to trace")
    root, lines = trace(cmd)
    stretches, waits = analyse(root, lines, args.min_gap_us / 1e6)
    for whose in ("parent", "child"):
        if not stretches[whose]:
            continue
        k = stretches[whose]
        print(f"threads of the {'first process' if whose == 'parent' else 'processes it started'}: "
              f"{k} stretches of at least {args.min_gap_us:.0f} us on a CPU; waits per stretch, by who ran instead:")
        for (w, key), (n, total) in sorted(waits.items(), key=lambda kv: -kv[1][1]):
            if w == whose:
                print(f"  {key:24s} {n / k:6.1f} times  {total / k * 1e6:8.0f} us")


if __name__ == "__main__":
    sys.exit(main())
