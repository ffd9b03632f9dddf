// Package modroot finds the corescale module's directory above a working
// directory: where go tool benchstat (pinned in its go.mod) runs and where
// scripts/ live.
package modroot

import (
	"os"
	"path/filepath"
	"strings"
)

// Path is corescale's module path.
const Path = "github.com/corescale/corescale"

// Find returns the nearest directory at or above dir whose go.mod declares
// module Path.
func Find(dir string) (string, bool) {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == Path {
					return dir, true
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
