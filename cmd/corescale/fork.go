package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/corescale/corescale/resultfile"
	"github.com/corescale/corescale/runner"
)

// runForks runs the sweep in n fresh processes of this binary, one after
// the other (pyperf's worker processes, JMH's forks), each with its own
// regions, pools and luck of memory placement, and merges what they wrote.
// Each fork takes 1/n of the rounds (-count), or of the budget and the
// fewest rounds (adaptive: the merged rounds decide what converged);
// its rounds are seeded apart. The parent measures nothing itself.
//
// The end of ctx (Ctrl-C reaches the forks directly, as a process group;
// SIGTERM to corescale alone is passed on) stops the fork that runs, keeps
// what it finished and starts no other.
// envFork marks a fork's process: its parent has warned about the
// machine already.
const envFork = "CORESCALE_FORK"

func runForks(ctx context.Context, args []string, plan runner.Plan, n int, python bool, stderr io.Writer) (*resultfile.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, failure{fmt.Errorf("-forks: %w", err)}
	}
	dir, err := os.MkdirTemp("", "corescale-forks-")
	if err != nil {
		return nil, failure{fmt.Errorf("-forks: %w", err)}
	}
	defer os.RemoveAll(dir)
	ref := "none"
	if python {
		ref = "python"
	}
	var files []*resultfile.File
	interrupted := false
	for f := range n {
		path := filepath.Join(dir, fmt.Sprintf("fork-%d.txt", f))
		child := append([]string{"run"}, args...)
		child = append(child, "-forks=1", "-o="+path, "-ref="+ref,
			"-order-seed="+strconv.FormatUint(plan.OrderSeed+uint64(f), 10))
		if plan.Count > 0 {
			child = append(child, "-count="+strconv.Itoa((plan.Count+n-1)/n))
		} else {
			minRounds := max(2, (cmp.Or(plan.MinRounds, runner.MinAdaptive)+n-1)/n)
			child = append(child, "-budget="+(plan.Budget/time.Duration(n)).String(), "-min-rounds="+strconv.Itoa(minRounds))
		}
		fmt.Fprintf(stderr, "corescale: fork %d of %d\n", f+1, n)
		cmd := exec.CommandContext(ctx, exe, child...)
		cmd.Stdout, cmd.Stderr = io.Discard, stderr
		cmd.Env = append(os.Environ(), envFork+"="+strconv.Itoa(f+1))
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = time.Minute
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit) && exit.ExitCode() == exitInterrupted, ctx.Err() != nil:
			interrupted = true
		default:
			return nil, failure{fmt.Errorf("fork %d of %d failed (%v); its message is above", f+1, n, err)}
		}
		if file, err := resultfile.ReadFile(path); err == nil {
			files = append(files, file)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, failure{fmt.Errorf("fork %d of %d: %w", f+1, n, err)}
		}
		if interrupted {
			break
		}
	}
	merged := mergeForks(files, plan)
	merged.Interrupted = merged.Interrupted || interrupted
	return merged, nil
}

// mergeForks puts the forks' files together: per kernel configuration,
// each fork's rounds after the previous fork's, so that the k-th sample of
// a cell is still round k and the rounds line says which fork it came
// from. Cells short of the precision are judged on the merged samples.
func mergeForks(files []*resultfile.File, plan runner.Plan) *resultfile.File {
	out := &resultfile.File{Rounds: map[string][]int{}}
	var configs []string
	for _, f := range files {
		out.Interrupted = out.Interrupted || f.Interrupted
		for _, s := range f.Samples {
			if name := s.Cell.ConfigName(); !slices.Contains(configs, name) {
				configs = append(configs, name)
			}
		}
		out.Startups = append(out.Startups, f.Startups...)
		for _, s := range f.Skipped {
			if !slices.ContainsFunc(out.Skipped, func(o resultfile.Skip) bool { return o.Cell == s.Cell }) {
				out.Skipped = append(out.Skipped, s)
			}
		}
	}
	walls := map[resultfile.Cell][]float64{}
	var cells []resultfile.Cell
	for _, name := range configs {
		for _, f := range files {
			rounds := 0
			for _, r := range f.Rounds[name] {
				rounds += r
			}
			if rounds == 0 {
				continue
			}
			for _, s := range f.Samples {
				if s.Cell.ConfigName() != name {
					continue
				}
				out.Samples = append(out.Samples, s)
				if v, ok := s.Value(resultfile.UnitTime); ok {
					if walls[s.Cell] == nil {
						cells = append(cells, s.Cell)
					}
					walls[s.Cell] = append(walls[s.Cell], v/1e9)
				}
			}
			out.Rounds[name] = append(out.Rounds[name], rounds)
		}
	}
	if plan.Count == 0 {
		for _, c := range cells {
			if half := runner.HalfWidth(walls[c]); half > plan.Precision {
				out.Unconverged = append(out.Unconverged, resultfile.Unconverged{Cell: c, Samples: len(walls[c]), HalfWidth: half})
			}
		}
	}
	return out
}
