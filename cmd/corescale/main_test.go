package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/corescale/corescale/runner"
	"github.com/corescale/corescale/runner/procpool"
)

// envRunMain makes the test binary the corescale command itself, so that
// tests can start it as a subprocess (os.Executable with corescale's
// arguments) and signal it, or kill its workers.
const envRunMain = "CORESCALE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	// Worker processes of the process pool are this test binary,
	// re-executed: Serve must come before anything else.
	procpool.Serve(runner.Resolve)
	if os.Getenv(envRunMain) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	// Under the race detector every process sleeps a second before it
	// exits, and a pool's Close waits for its workers: tell this test's
	// descendants (pool workers, corescale subprocesses and theirs) not to.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	os.Exit(m.Run())
}

// A badInput is a command line that must fail with exit status 2 and one
// line on stderr, "corescale: ...", that names what is wrong. "{dir}" in
// args and want stands for a fresh directory that holds:
//
//	file         a regular file, so {dir}/file/sub cannot be created
//	readonly/    a directory without write permission
//	empty.txt    an empty file
//	nobench.txt  configuration lines and no benchmark line
//	bad.txt      a malformed benchmark line
//	good.txt     a well-formed result file
//
// and none.txt is a file that does not exist.
type badInput struct {
	name     string
	args     []string
	want     []string // substrings of the error line
	needUser bool     // the case needs a user whom permissions stop: not root
}

func (tt badInput) run(t *testing.T) {
	t.Helper()
	if tt.needUser && os.Geteuid() == 0 {
		t.Skip("root writes into directories without write permission")
	}
	dir := t.TempDir()
	writeText(t, dir, "file", "a regular file, not a directory\n")
	writeText(t, dir, "empty.txt", "")
	writeText(t, dir, "nobench.txt", "goos: linux\ngoarch: amd64\n")
	writeText(t, dir, "bad.txt", "BenchmarkX 1 notanumber ns/op\n")
	writePerfFile(t, dir, "good.txt", 1, perfSuite(3, nil))
	readonly := dir + "/readonly"
	if err := os.Mkdir(readonly, 0o555); err != nil {
		t.Fatal(err)
	}
	expand := strings.NewReplacer("{dir}", dir).Replace

	args := slices.Clone(tt.args)
	for i := range args {
		args[i] = expand(args[i])
	}
	code, stdout, stderr := runCorescale(t, args...)
	if code != exitUsage {
		t.Errorf("corescale %s: exit status %d, want %d\nstderr:\n%s", strings.Join(args, " "), code, exitUsage, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout is %q, want nothing", stdout)
	}
	if !strings.HasPrefix(stderr, "corescale: ") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr is %q, want one line starting with %q", stderr, "corescale: ")
	}
	for _, w := range tt.want {
		if w = expand(w); !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not name %q", stderr, w)
		}
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"no command prints the usage and is a usage error", nil, exitUsage, []string{"Usage:\n", "  corescale run ", "  corescale report "}},
		{"-h prints the usage and succeeds", []string{"-h"}, exitOK, []string{"Usage:\n", "  corescale run "}},
		{"help prints the usage and succeeds", []string{"help"}, exitOK, []string{"Usage:\n", "  corescale run "}},
		{"--help prints the usage and succeeds", []string{"--help"}, exitOK, []string{"Usage:\n", "  corescale run "}},
		{"run -h prints run's flags and succeeds", []string{"run", "-h"}, exitOK, []string{"Usage: corescale run [flags]", "-workers"}},
		{"report -h prints report's flags and succeeds", []string{"report", "-h"}, exitOK, []string{"Usage: corescale report [-o DIR] FILE...", "-benchstat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCorescale(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d\nstderr:\n%s", code, tt.wantCode, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout is %q, want nothing", stdout)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}

	unknown := badInput{
		name: "an unknown command is a usage error that lists the commands",
		args: []string{"frobnicate", "-o", "x"},
		want: []string{`unknown command "frobnicate"`, "compare, gate, report, run"},
	}
	t.Run(unknown.name, unknown.run)
}
