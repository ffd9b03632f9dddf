package bench

import (
	"os"
	"testing"

	"github.com/corescale/corescale/runner"
	"github.com/corescale/corescale/runner/procpool"
)

func TestMain(m *testing.M) {
	// Worker processes of the procpool strategy are this test binary,
	// re-executed: they must become workers before anything else runs.
	procpool.Serve(runner.Resolve)
	code := m.Run()
	closeAll()
	os.Exit(code)
}
