package runner

import (
	"os"
	"testing"

	"github.com/corescale/corescale/runner/procpool"
)

func TestMain(m *testing.M) {
	procpool.Serve(Resolve)
	os.Exit(m.Run())
}
