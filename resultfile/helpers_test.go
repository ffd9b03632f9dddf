package resultfile_test

import (
	"os"

	"github.com/corescale/corescale/resultfile"
)

func readFile(path string) (*resultfile.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return resultfile.Read(f, path)
}
