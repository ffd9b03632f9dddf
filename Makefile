# corescale: make report runs the sweep and its report; make test runs
# every check CI runs.

GO       ?= go
NCPU     := $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
CPUS     := $(shell seq -s, 1 $(NCPU))
# A count, not a duration: with -fuzztime 10s the fuzz coordinator can fail a
# target with a bare "context deadline exceeded" when a starved worker misses
# the wall-clock deadline (golang/go#75804); a count has no deadline, so a
# loaded machine only makes the run slower.
FUZZTIME ?= 100000x
# Flags for corescale run in make report: five forks, so that the
# intervals cover what differs between processes (where the processes
# agree, the t interval over three forks is 1.6 times as wide as the
# bootstrap's, over five 1.1 times), and
# corescale's default budget (3 s per cell), which ends the sweep within
# 5 minutes on 2 cores; add e.g. RUNFLAGS='-size small'.
REPORTFLAGS ?= -forks 5 -size auto
RUNFLAGS ?=
# References measured beside the sweep in make report: native (openssl,
# FP64 peak, memory probe), python (Python's multiprocessing.Pool on the
# same work), or none.
REF      ?= native
BIN      := bin/corescale

.PHONY: all build test fuzz bench report clean ci-perf perf-baseline

all: build

build:
	$(GO) build -o $(BIN) ./cmd/corescale

test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -race ./...
	$(MAKE) fuzz

# Short runs of every fuzz target: the parsers and the worker protocol.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseParams$$' -fuzztime $(FUZZTIME) ./kernels
	$(GO) test -run '^$$' -fuzz '^FuzzReadMessage$$' -fuzztime $(FUZZTIME) ./runner/procpool
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./resultfile
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./analysis

# go test benchmarks at every worker count from 1 to NumCPU.
bench:
	$(GO) test -run '^$$' -bench . -cpu $(CPUS) ./bench

# The full sweep, then its report: tables on the terminal, report.md and
# charts under results/local/report/ (git ignores results/local/).
report: build
	@file=$$($(BIN) run -ref $(REF) $(REPORTFLAGS) $(RUNFLAGS)) && \
	  echo "result file: $$file" && \
	  $(BIN) report "$$file"

# CI performance gate (scripts/ci-perf): a quick sweep of every kernel at
# its small size, gated with corescale gate. With BASE_REF=<commit> (CI
# passes the pull request's base) the code at BASE_REF and this tree run
# alternately, so that the machine's drift hits both alike; without it, the
# tree is compared with the committed baseline of this machine class.
# Writes results/ci/{old,new}.txt and results/ci/compare.md; fails when the
# gate does.
BASE_REF ?=
MACHINE_CLASS := $(shell $(GO) env GOOS)-$(shell $(GO) env GOARCH)-$(NCPU)cpu

ci-perf:
	BASE_REF=$(BASE_REF) scripts/ci-perf

# Record the baseline of this machine class (commit it): the sweep of
# scripts/ci-perf, 16 samples per cell (one process: see scripts/ci-perf
# for why a baseline is the weaker way to gate).
perf-baseline: build
	$(BIN) run -kernels matmul,hash,search -size small -strategies serial,goroutines,procpool \
	  -sched dynamic,static -workers 1,2 -warmup 1 -ref none -count 16 -o results/baseline/$(MACHINE_CLASS).txt

clean:
	rm -rf bin results/ci results/tmp results/local
