// Command corescale measures how CPU-bound kernels scale across cores when
// their work is split over goroutines or over worker processes, compared
// with one goroutine.
//
//	corescale run [flags]                 sweep and write a result file
//	corescale bench PKG [flags]           a package's go test benchmarks at each -cpu value, round by round
//	corescale report [-o DIR] FILE...     tables, fits, charts and report.md
//	corescale compare [flags] OLD NEW     per-benchmark change with p-values
//	corescale gate [flags] OLD NEW        exit 1 on a significant regression
//
// Exit status: 0 success; 1 a failed run or a gate that found a
// regression; 2 bad usage or bad input; 130 interrupted.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/corescale/corescale/runner"
	"github.com/corescale/corescale/runner/procpool"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

type command struct {
	name    string
	args    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func register(c command) { commands = append(commands, c) }

func main() {
	// Worker processes of the process pool are this binary, re-executed.
	procpool.Serve(runner.Resolve)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return exitCode(c.run(args[1:], stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "corescale: unknown command %q (have %s)\n", args[0], commandNames())
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "corescale measures how CPU-bound kernels scale over goroutines and worker processes.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  corescale %-8s %-22s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'corescale COMMAND -h' for a command's flags.")
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// Errors carry their exit status.
type (
	usageError       struct{ error } // bad flags, arguments or input files: exit 2
	failure          struct{ error } // the work failed or found a problem: exit 1
	interruptedError struct{ error } // stopped by a signal: exit 130
)

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errHelp is returned after printing a command's flags on request.
var errHelp = errors.New("help requested")

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintln(stderr, "corescale: "+firstLine(err.Error()))
	var u usageError
	var i interruptedError
	switch {
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &i):
		return exitInterrupted
	}
	return exitFailure
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
