package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestReportRejectsBadInput(t *testing.T) {
	tests := []badInput{
		{name: "no result file", args: []string{"report", "-o", "{dir}/rep"}, want: []string{"report needs at least one result file"}},
		{name: "a missing file", args: []string{"report", "-o", "{dir}/rep", "{dir}/none.txt"}, want: []string{"{dir}/none.txt", "no such file"}},
		{name: "a missing file after a good one", args: []string{"report", "-o", "{dir}/rep", "{dir}/good.txt", "{dir}/none.txt"}, want: []string{"{dir}/none.txt", "no such file"}},
		{name: "an empty file", args: []string{"report", "-o", "{dir}/rep", "{dir}/empty.txt"}, want: []string{"{dir}/empty.txt has no benchmark results"}},
		{name: "a file without benchmark lines", args: []string{"report", "-o", "{dir}/rep", "{dir}/nobench.txt"}, want: []string{"{dir}/nobench.txt has no benchmark results"}},
		{name: "a malformed file", args: []string{"report", "-o", "{dir}/rep", "{dir}/bad.txt"}, want: []string{"{dir}/bad.txt:1: parsing measurement"}},
		{
			name: "a report directory under a regular file",
			args: []string{"report", "-benchstat=false", "-o", "{dir}/file/rep", "{dir}/good.txt"},
			want: []string{"cannot create {dir}/file/rep", "not a directory"},
		},
		{
			name: "a report directory under /proc, where none can be made",
			args: []string{"report", "-benchstat=false", "-o", "/proc/nonexistent", "{dir}/good.txt"},
			want: []string{"cannot create /proc/nonexistent"},
		},
		{
			name:     "a report directory without write permission",
			args:     []string{"report", "-benchstat=false", "-o", "{dir}/readonly", "{dir}/good.txt"},
			want:     []string{"cannot write to {dir}/readonly"},
			needUser: true,
		},
	}
	for _, tt := range tests {
		tt.name += " is a usage error that names it"
		t.Run(tt.name, tt.run)
	}
}

// chartLink matches the image links of report.md.
var chartLink = regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`)

func TestReportOfARealSweepWritesChartsAndMarkdown(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "r.txt")
	smallSweep(t, results, 2)

	rep := filepath.Join(dir, "rep")
	code, stdout, stderr := runCorescale(t, "report", "-benchstat=false", "-o", rep, results)
	if code != exitOK {
		t.Fatalf("corescale report: exit status %d\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, smallHash) {
		t.Errorf("the text report does not name %s:\n%s", smallHash, stdout)
	}
	if want := "report: " + filepath.Join(rep, "report.md") + "\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout ends with %q, want %q", lastLine(stdout), want)
	}
	md, err := os.ReadFile(filepath.Join(rep, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte(smallHash)) {
		t.Errorf("report.md does not name %s", smallHash)
	}

	var charts []string
	for _, m := range chartLink.FindAllSubmatch(md, -1) {
		charts = append(charts, string(m[1]))
	}
	if len(charts) != 2 || !strings.Contains(charts[0], "speedup") || !strings.Contains(charts[1], "efficiency") {
		t.Fatalf("report.md shows charts %q, want a speedup and an efficiency chart", charts)
	}
	for _, name := range charts {
		b, err := os.ReadFile(filepath.Join(rep, name))
		if err != nil {
			t.Errorf("report.md shows a chart that is not there: %v", err)
			continue
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("chart %s is not a PNG file", name)
		}
	}
}
