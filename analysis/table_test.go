package analysis

import (
	"strings"
	"testing"
)

func TestTableRendersEveryFormat(t *testing.T) {
	tbl := &Table{
		Title:  "Hash",
		Header: []string{"strategy", "ns/op", "speedup"},
		Rows:   [][]string{{"serial", "42.0ms", "1.00x"}, {"goroutines", "21.5ms", "1.95x"}},
		Right:  []bool{false, true, true},
		Notes:  []string{"note one"},
	}
	tests := []struct {
		format string
		want   []string
	}{
		{FormatText, []string{"Hash", "ns/op", "1.95x", "note one"}},
		{FormatMarkdown, []string{"**Hash**", "ns/op |", "-------:|", "note one"}},
		{FormatCSV, []string{"strategy,ns/op,speedup\n", "goroutines,21.5ms,1.95x\n"}},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := tbl.Render(&b, tt.format); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s output lacks %q:\n%s", tt.format, w, b.String())
			}
		}
		if strings.Contains(b.String(), "NS / OP") {
			t.Errorf("%s output upper-cased the header", tt.format)
		}
	}
	if err := tbl.Render(&strings.Builder{}, "html"); err == nil {
		t.Error("an unknown format rendered")
	}
}
