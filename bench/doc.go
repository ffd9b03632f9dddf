// Package bench holds corescale's go test benchmarks: every kernel x shape x
// strategy x sched, at GOMAXPROCS workers, so that
//
//	go test -run '^$' -bench . -cpu 1,2,4 ./bench
//
// measures scaling. Serial always runs one worker. Names carry every
// dimension as a sub-benchmark key, as the runner's result files do, except
// the worker count: go test -cpu runs each benchmark at every -cpu value and
// names it only by the -N suffix (BenchmarkHash/shape=uniform/size=64Mi/
// strategy=procpool/sched=dynamic-2), which benchstat reads as /gomaxprocs.
// (testing omits "-1", so benchstat's column for one CPU has no header;
// corescale run writes an explicit workers=N key instead.)
//
// Pass -size small|default|large after -args to change the problem size,
// and -pin with placement policies (none, cores, spread, compact; a list)
// to pin the goroutines and procpool workers as corescale run -pin does:
// pinned benchmarks carry a pin=policy key before the -N suffix
// (.../sched=dynamic/pin=cores-2), unpinned ones none.
package bench
