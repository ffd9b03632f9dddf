package analysis

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// A Table is a titled grid of text, rendered for a terminal, for markdown
// or as CSV.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
	// Right marks the columns to align right: numbers.
	Right []bool
	// Notes are printed under the table.
	Notes []string
}

// Output formats of Table.Render.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatCSV      = "csv"
)

// Render writes the table in format: text (box-drawn, for terminals),
// markdown or csv (header and rows only).
func (t *Table) Render(w io.Writer, format string) error {
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(w)
		cw.Write(t.Header)
		cw.WriteAll(t.Rows)
		return cw.Error()
	case FormatText, FormatMarkdown:
	default:
		return fmt.Errorf("analysis: unknown format %q (have text, markdown, csv)", format)
	}
	if t.Title != "" {
		if format == FormatMarkdown {
			fmt.Fprintf(w, "**%s**\n\n", t.Title)
		} else {
			fmt.Fprintf(w, "%s\n", t.Title)
		}
	}
	align := make([]tw.Align, len(t.Header))
	for i := range align {
		align[i] = tw.AlignLeft
		if i < len(t.Right) && t.Right[i] {
			align[i] = tw.AlignRight
		}
	}
	opts := []tablewriter.Option{
		tablewriter.WithConfig(tablewriter.Config{
			Row:    tw.CellConfig{Alignment: tw.CellAlignment{PerColumn: align}},
			Header: tw.CellConfig{Alignment: tw.CellAlignment{PerColumn: align}},
		}),
		// After WithConfig, which would turn it back on: headers such as
		// "ns/op" must not become "NS / OP".
		tablewriter.WithHeaderAutoFormat(tw.Off),
	}
	if format == FormatMarkdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	tbl := tablewriter.NewTable(w, opts...)
	tbl.Header(t.Header)
	if err := tbl.Bulk(t.Rows); err != nil {
		return err
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	for _, n := range t.Notes {
		if format == FormatMarkdown {
			fmt.Fprintf(w, "\n%s\n", n)
		} else {
			fmt.Fprintf(w, "%s\n", n)
		}
	}
	fmt.Fprintln(w)
	return nil
}
