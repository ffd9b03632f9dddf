package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// workflow is the part of a GitHub Actions workflow the test checks.
type workflow struct {
	On   map[string]any         `yaml:"on"`
	Jobs map[string]workflowJob `yaml:"jobs"`
}

type workflowJob struct {
	RunsOn string         `yaml:"runs-on"`
	Steps  []workflowStep `yaml:"steps"`
}

type workflowStep struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	If   string            `yaml:"if"`
	With map[string]string `yaml:"with"`
}

func TestPerfWorkflowGatesPullRequests(t *testing.T) {
	data, err := os.ReadFile("../../.github/workflows/perf.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("perf.yml is not valid YAML: %v", err)
	}
	if _, ok := wf.On["pull_request"]; !ok {
		t.Errorf("perf.yml runs on %v, want pull_request", wf.On)
	}
	if len(wf.Jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(wf.Jobs))
	}
	var steps []workflowStep
	for _, job := range wf.Jobs {
		if job.RunsOn == "" {
			t.Error("the job has no runs-on")
		}
		steps = job.Steps
	}

	// index returns the position of the first step that matches, or fails.
	index := func(what string, match func(workflowStep) bool) int {
		t.Helper()
		i := slices.IndexFunc(steps, match)
		if i < 0 {
			t.Fatalf("no step %s", what)
		}
		return i
	}
	uses := func(action string) func(workflowStep) bool {
		return func(s workflowStep) bool { return strings.HasPrefix(s.Uses, action+"@") }
	}
	checkout := index("checks out the code", uses("actions/checkout"))
	setup := index("sets up Go", uses("actions/setup-go"))
	gate := index("runs make ci-perf", func(s workflowStep) bool { return strings.Contains(s.Run, "make ci-perf") })
	summary := index("writes the step summary", func(s workflowStep) bool { return strings.Contains(s.Run, "$GITHUB_STEP_SUMMARY") })
	upload := index("uploads artifacts", uses("actions/upload-artifact"))

	if !(checkout < setup && setup < gate && gate < summary && gate < upload) {
		t.Errorf("steps in order checkout %d, setup-go %d, make ci-perf %d, summary %d, upload %d: want checkout, setup-go, make, then summary and upload",
			checkout, setup, gate, summary, upload)
	}
	if got := steps[setup].With["go-version-file"]; got != "go.mod" {
		t.Errorf("setup-go takes its version from %q, want go.mod", got)
	}
	if !strings.Contains(steps[summary].Run, "results/ci/compare.md") {
		t.Errorf("summary step %q does not add results/ci/compare.md", steps[summary].Run)
	}
	for _, path := range []string{"results/ci/new.txt", "results/ci/compare.md"} {
		if !strings.Contains(steps[upload].With["path"], path) {
			t.Errorf("upload paths %q lack %s", steps[upload].With["path"], path)
		}
	}
	// A failed gate is when the comparison matters most: the steps after
	// it must run anyway.
	for _, i := range []int{summary, upload} {
		if !strings.Contains(steps[i].If, "always()") {
			t.Errorf("step %q runs if %q, want always()", steps[i].Name, steps[i].If)
		}
	}
}
