package main

import "testing"

func TestGateCommand(t *testing.T) {
	same := perfSuite(10, nil)
	change := func(name string, f func(*perfBench)) []perfBench {
		return perfSuite(10, map[string]func(*perfBench){name: f})
	}
	slower := change(perfMatmul, func(b *perfBench) { b.sec *= 1.2 })
	few := perfSuite(3, nil)
	tests := []cliCase{
		{
			name: "a benchmark 20% slower fails and is named",
			args: []string{"gate", "OLD", "NEW"}, old: same, new: slower,
			wantCode:   1,
			wantStdout: []string{"REGRESSION " + perfMatmul + ": sec/op +", "FLOP/s -"},
			wantStderr: []string{"corescale: gate failed: 1 regression (4 benchmarks compared; a regression is worse by more than 5% at p < 0.05)"},
		},
		{
			name: "1% noise everywhere passes",
			args: []string{"gate", "OLD", "NEW"}, old: same, new: same,
			wantCode:   0,
			wantStdout: []string{"gate passed: 4 benchmarks compared, none worse by more than 5% at p < 0.05"},
		},
		{
			name: "a 20% slowdown passes a 25% threshold given as a percentage",
			args: []string{"gate", "-threshold", "25%", "OLD", "NEW"}, old: same, new: slower,
			wantCode:   0,
			wantStdout: []string{"none worse by more than 25%"},
		},
		{
			name: "a 20% slowdown passes a 25% threshold given as a fraction",
			args: []string{"gate", "-threshold", "0.25", "OLD", "NEW"}, old: same, new: slower,
			wantCode:   0,
			wantStdout: []string{"none worse by more than 25%"},
		},
		{
			name: "a benchmark missing from new fails with its own message",
			args: []string{"gate", "OLD", "NEW"}, old: same, new: change(perfHash, func(b *perfBench) { b.n = 0 }),
			wantCode:   1,
			wantStdout: []string{"MISSING " + perfHash + ": in OLD, missing from NEW"},
			wantStderr: []string{"gate failed: 1 missing"},
		},
		{
			name: "a missing benchmark passes with -allow-missing and is still listed",
			args: []string{"gate", "-allow-missing", "OLD", "NEW"}, old: same, new: change(perfHash, func(b *perfBench) { b.n = 0 }),
			wantCode:   0,
			wantStdout: []string{"note: MISSING " + perfHash, "gate passed: 3 benchmarks compared"},
		},
		{
			name: "a throughput drop fails",
			args: []string{"gate", "OLD", "NEW"}, old: same, new: change(perfSearch, func(b *perfBench) { b.work *= 0.8 }),
			wantCode:   1,
			wantStdout: []string{"REGRESSION " + perfSearch + ": queries/s -"},
		},
		{
			name: "a throughput rise passes",
			args: []string{"gate", "OLD", "NEW"}, old: same, new: change(perfSearch, func(b *perfBench) { b.work *= 1.2 }),
			wantCode:   0,
			wantStdout: []string{"note: IMPROVEMENT " + perfSearch + ": queries/s +"},
		},
		{
			name: "too few samples are undecided and fail",
			args: []string{"gate", "OLD", "NEW"}, old: few, new: few,
			wantCode:   1,
			wantStdout: []string{"UNDECIDED " + perfMatmul, "too few samples for p < 0.05 whatever the change; take more (at least 4 per side"},
			wantStderr: []string{"gate failed: 4 undecided (4 benchmarks compared"},
		},
		{
			name: "too few samples pass with -allow-undecided and are still listed",
			args: []string{"gate", "-allow-undecided", "OLD", "NEW"}, old: few, new: few,
			wantCode:   0,
			wantStdout: []string{"note: UNDECIDED " + perfMatmul},
		},
		{
			name: "a bare threshold of 1 or more is a usage error",
			args: []string{"gate", "-threshold", "5", "OLD", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{`-threshold 5: "5": want a fraction from 0 to 1 (0.05) or a percentage (5%)`},
		},
		{
			name: "a threshold that is not a number is a usage error",
			args: []string{"gate", "-threshold", "five", "OLD", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{`"five" is not a fraction (0.05) or a percentage (5%)`},
		},
		{
			name: "an alpha of 0 is a usage error",
			args: []string{"gate", "-alpha", "0", "OLD", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"corescale: -alpha 0: want a level between 0 and 1"},
		},
		{
			name: "three files are a usage error",
			args: []string{"gate", "OLD", "NEW", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"corescale: gate takes two result files, OLD and NEW; got 3"},
		},
		{
			name: "a missing baseline is a usage error, not a failed gate",
			args: []string{"gate", "NONE", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"corescale: gate: baseline ", "does not exist; record one with corescale run -o "},
		},
		{
			name: "a malformed new file is a usage error, not a failed gate",
			args: []string{"gate", "OLD", "BAD"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"bad.txt:1: parsing measurement"},
		},
		{
			name: "an empty baseline is a usage error",
			args: []string{"gate", "EMPTY", "NEW"}, old: same, new: same,
			wantCode:   2,
			wantStderr: []string{"empty.txt has no benchmark results"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
