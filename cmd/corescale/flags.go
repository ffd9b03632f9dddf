package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a flag set that returns its errors instead of
// printing them with the whole usage: a bad flag is one line (see parse).
// -h prints the usage.
func newFlagSet(name, args, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: corescale %s %s\n\n%s\n\nFlags:\n", name, args, summary)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses flags, turning -h into errHelp (after the usage) and other
// errors into one-line usage errors that name the flag and what it wants.
func parse(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {} // the flag package calls it on every error
	defer func() { fs.Usage = usage }()
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		usage()
		return errHelp
	}
	return usageError{flagError(fs, err)}
}

// flagError rewrites the flag package's "invalid value" errors, which end
// in a bare "parse error", to say what the flag wants.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Errorf("unknown flag %s (corescale %s -h lists them)", name, fs.Name())
	}
	_, rest, ok := strings.Cut(msg, " for flag -")
	if !ok {
		return err
	}
	name, why, _ := strings.Cut(rest, ": ")
	f := fs.Lookup(name)
	if f == nil {
		return err
	}
	value := strings.SplitN(msg, `"`, 3)[1]
	if why != "parse error" && why != "value out of range" { // a flag.Value of ours says what it wants
		return fmt.Errorf("-%s %s: %s", name, value, why)
	}
	want := "a valid value"
	switch fmt.Sprintf("%T", f.Value) {
	case "*flag.durationValue":
		want = "a duration, e.g. " + f.DefValue
	case "*flag.intValue", "*flag.uint64Value":
		want = "a whole number, e.g. " + f.DefValue
	case "*flag.float64Value":
		want = "a number, e.g. " + f.DefValue
	case "*flag.boolValue":
		want = "true or false"
	}
	return fmt.Errorf("-%s %s: want %s", name, value, want)
}

// list splits a comma-separated flag value, dropping empty items.
func list(s string) []string {
	var items []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
