package modroot

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindStopsAtThisModuleOnly(t *testing.T) {
	top := t.TempDir()
	inner := filepath.Join(top, "a", "b")
	if err := os.MkdirAll(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(top, "go.mod"), []byte("module "+Path+"\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(top, "a", "go.mod"), []byte("module example.com/other\n"), 0o644)
	if got, ok := Find(inner); !ok || got != top {
		t.Errorf("Find(%s) = %q, %v; want %q past another module's go.mod", inner, got, ok, top)
	}
	if got, ok := Find(t.TempDir()); ok {
		t.Errorf("Find outside any module = %q", got)
	}
}
