#!/bin/sh
# Captures the go test -bench fixtures of this directory: real output of
# real runs, kept as they came (benchfmt skips the PASS and ok lines).
# Run from this directory on a quiet machine:
#   flock -x /work/cpu.lock sh capture.sh
# badkey.txt alone is no capture: it is bench.txt with a key corescale
# does not write (chunks=) added to its names, the last command below.
set -e
root=$(cd ../../.. && pwd)
# The standard library, RunParallel benchmarks, -count > 1.
go test -run '^$' -bench '^Benchmark(MutexUncontended|RWMutexUncontended|Pool)$' -cpu 1,2 -count 6 -benchtime 100ms sync > sync.txt
# Custom metrics (GCs/op, New/op) and -benchmem (B/op, allocs/op).
go test -run '^$' -bench '^BenchmarkPoolExpensiveNew$' -benchmem -cpu 1,2 -count 6 -benchtime 100ms sync > sync-benchmem.txt
# Serial code at two -cpu values, -count 1: no interval can be had.
go test -run '^$' -bench 'IndexByte|EqualFold' -cpu 1,2 -benchtime 100ms strings > strings-count1.txt
# This project's ./bench: corescale's keys, the -N suffix, custom metrics.
(cd "$root" && go test -run '^$' -bench '^BenchmarkHash$/shape=uniform' -cpu 1,2 -count 6 -benchtime 4x ./bench -args -size small) > bench.txt
# Bad: one worker count only (the command of issue 12).
go test -run '^$' -bench 'IndexByte|EqualFold' -count 6 -benchtime 20ms strings > strings-one-cpu.txt
# Bad: no benchmark lines.
go test -run '^$' -bench 'NoSuchBenchmark' strings > nobench.txt
# Bad: an unknown key in names with corescale's strategy key.
sed 's|/strategy=|/chunks=64/strategy=|' bench.txt > badkey.txt
