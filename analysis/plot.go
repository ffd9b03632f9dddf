package analysis

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/corescale/corescale/resultfile"
)

// A chart draws the curves of one kernel configuration, from one file or
// several (then each line is labelled with its file).
type chart struct {
	title    string
	scalings []*Scaling
	labels   []string // of each scaling's file, "" when there is one file
	ncpu     int      // CPUs of the machine, to mark on the worker axis; 0 if unknown
	// boundaries are the machine's topology boundaries (physical cores,
	// one L3 domain, one NUMA node, all threads), marked on the worker
	// axis where they fall inside it.
	boundaries []resultfile.Boundary
}

const (
	chartWidth  = 8 * vg.Inch
	chartHeight = 4.5 * vg.Inch
	legendWidth = 2.4 * vg.Inch
)

// speedup draws speedup against workers: the ideal line, each curve's
// measured medians with their intervals, and its USL fit (dotted).
func (ch *chart) speedup(path string) error {
	label := "speedup over serial (serial = 1)"
	if isBenchGroup(ch.scalings) {
		label = "speedup over its own 1-CPU point (= 1)" // go test benchmarks have no serial cell
	}
	return ch.draw(path, label, func(p *Point) (y, lo, hi float64) {
		return p.Speedup.Center, p.Speedup.Lo, p.Speedup.Hi
	}, func(n float64) float64 { return n }, true)
}

// efficiency draws speedup / workers against workers, ideal at 1.
func (ch *chart) efficiency(path string) error {
	return ch.draw(path, "efficiency (speedup / workers)", func(p *Point) (y, lo, hi float64) {
		return p.Efficiency.Center, p.Efficiency.Lo, p.Efficiency.Hi
	}, func(float64) float64 { return 1 }, false)
}

func (ch *chart) draw(path, ylabel string, value func(*Point) (y, lo, hi float64), ideal func(float64) float64, withFit bool) error {
	p := plot.New()
	p.Title.Text = ch.title
	p.X.Label.Text = "workers"
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	fitted := false // whether any USL fit is drawn
	legend.Top, legend.Left = true, true

	maxWorkers := 1.0
	var ticks []plot.Tick
	for _, sc := range ch.scalings {
		for _, w := range sc.Workers() {
			maxWorkers = max(maxWorkers, float64(w))
			ticks = append(ticks, plot.Tick{Value: float64(w), Label: strconv.Itoa(w)})
		}
	}
	p.X.Min, p.X.Max, p.Y.Min = 0, maxWorkers*1.05, 0
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = niceTicks{}

	idealLine := plotter.NewFunction(ideal)
	idealLine.Color = color.Gray{Y: 120}
	idealLine.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	idealLine.Width = vg.Points(1)
	p.Add(idealLine)
	legend.Add("ideal", idealLine)

	colors := map[string]int{}
	for i, sc := range ch.scalings {
		for _, cv := range sc.Curves { // the baseline is no curve: 1 by definition
			key := cv.Strategy + "/" + cv.Pin + "\x00" + ch.labels[i]
			if _, ok := colors[key]; !ok {
				colors[key] = len(colors)
			}
			var xys plotter.XYs
			var errs plotter.YErrors
			for _, pt := range cv.Points {
				y, lo, hi := value(pt)
				if math.IsNaN(y) {
					continue
				}
				if math.IsNaN(lo) || math.IsNaN(hi) {
					lo, hi = y, y // too few samples for an interval: no bar
				}
				xys = append(xys, plotter.XY{X: float64(pt.Workers), Y: y})
				errs = append(errs, struct{ Low, High float64 }{max(0, y-lo), max(0, hi-y)})
			}
			if len(xys) == 0 {
				continue
			}
			col := seriesColor(colors[key])
			line, points, err := plotter.NewLinePoints(xys)
			if err != nil {
				return err
			}
			line.Color, points.Color = col, col
			line.Width = vg.Points(1.5)
			points.Shape = draw.CircleGlyph{}
			points.Radius = vg.Points(2.5)
			if cv.Sched == resultfile.SchedStatic {
				line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			}
			bars, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{xys, errs})
			if err != nil {
				return err
			}
			bars.Color = col
			p.Add(line, points, bars)
			name := cv.Name()
			if ch.labels[i] != "" {
				name += " (" + ch.labels[i] + ")"
			}
			legend.Add(name, line, points)
			if fit := cv.Fit(USL); withFit && fit != nil && cv.Points[0].Workers == 1 && cv.Points[0].Speedup.Valid() {
				fitted = true
				scale := cv.Points[0].Speedup.Center // the fit is relative to the curve's own 1-worker point
				f := plotter.NewFunction(func(n float64) float64 { return scale * fit.Capacity(n) })
				f.Color = col
				f.Width = vg.Points(0.8)
				f.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
				f.XMin, f.XMax = 1, maxWorkers*1.05
				p.Add(f)
			}
		}
	}
	// The data set the top (Add widened it); leave room above it and above
	// the ideal efficiency of 1. The ideal speedup line may leave the top.
	p.Y.Max = max(p.Y.Max*1.08, ideal(1)*1.1)
	if ch.ncpu > 0 && float64(ch.ncpu) < maxWorkers {
		// Past this line workers outnumber CPUs: no more speedup to expect.
		cpus, err := plotter.NewLine(plotter.XYs{{X: float64(ch.ncpu), Y: 0}, {X: float64(ch.ncpu), Y: p.Y.Max}})
		if err != nil {
			return err
		}
		cpus.Color = color.Gray{Y: 160}
		cpus.Width = vg.Points(1)
		cpus.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(cpus)
		legend.Add(fmt.Sprintf("CPUs (%d)", ch.ncpu), cpus)
	}
	if err := ch.markBoundaries(p, &legend, maxWorkers); err != nil {
		return err
	}

	if fitted { // no legend entry for fits that were refused
		note := plotter.NewFunction(func(float64) float64 { return math.NaN() })
		note.Color = color.Gray{Y: 60}
		note.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		legend.Add("USL fit", note)
	}
	return savePNG(p, legend, path)
}

// markBoundaries draws a vertical line at each topology boundary inside
// the worker axis (past 1), labelled at the top with its names: "cores" at
// the physical core count, "l3" at one L3 domain's cores, and so on;
// boundaries at one worker count share a line.
func (ch *chart) markBoundaries(p *plot.Plot, legend *plot.Legend, maxWorkers float64) error {
	var first *plotter.Line
	for _, m := range boundaryMarks(ch.boundaries, maxWorkers) {
		x, name := float64(m.workers), m.label
		line, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: p.Y.Max}})
		if err != nil {
			return err
		}
		line.Color = color.RGBA{R: 150, G: 90, B: 170, A: 255}
		line.Width = vg.Points(0.8)
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(2), vg.Points(1), vg.Points(2)}
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: p.Y.Max}}, Labels: []string{name}})
		if err != nil {
			return err
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].Color = line.Color
			labels.TextStyle[i].YAlign = text.YTop
		}
		labels.Offset = vg.Point{X: vg.Points(2), Y: -vg.Points(2)}
		p.Add(line, labels)
		if first == nil {
			first = line
		}
	}
	if first != nil {
		legend.Add("topology boundaries", first)
	}
	return nil
}

// A boundaryMark is a line on the worker axis and its label.
type boundaryMark struct {
	workers int
	label   string
}

// boundaryMarks are the lines to draw for the boundaries inside the worker
// axis (past 1 and up to maxWorkers), by worker count, the names of
// boundaries at one count joined.
func boundaryMarks(bs []resultfile.Boundary, maxWorkers float64) []boundaryMark {
	var marks []boundaryMark
	at := map[int]int{} // worker count -> index in marks
	for _, b := range bs {
		if b.Workers <= 1 || float64(b.Workers) > maxWorkers {
			continue
		}
		if i, ok := at[b.Workers]; ok {
			marks[i].label += ", " + b.Name
			continue
		}
		at[b.Workers] = len(marks)
		marks = append(marks, boundaryMark{b.Workers, b.Name})
	}
	slices.SortStableFunc(marks, func(a, b boundaryMark) int { return a.workers - b.workers })
	return marks
}

// savePNG draws the plot with its legend beside it, not over the curves.
func savePNG(p *plot.Plot, legend plot.Legend, path string) error {
	img := vgimg.New(chartWidth, chartHeight)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	legend.Draw(draw.Crop(dc, chartWidth-legendWidth+vg.Points(8), 0, 0, -vg.Points(24)))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("analysis: writing %s: %w", path, err)
	}
	return f.Close()
}

// seriesColor returns distinguishable colours (Okabe-Ito, readable by
// colour-blind readers).
func seriesColor(i int) color.Color {
	palette := []color.RGBA{
		{0, 114, 178, 255},   // blue
		{213, 94, 0, 255},    // vermillion
		{0, 158, 115, 255},   // bluish green
		{204, 121, 167, 255}, // reddish purple
		{230, 159, 0, 255},   // orange
		{86, 180, 233, 255},  // sky blue
		{0, 0, 0, 255},       // black
		{240, 228, 66, 255},  // yellow
	}
	return palette[i%len(palette)]
}

// niceTicks labels about six evenly spaced values at a step of 1, 2 or 5
// times a power of ten, with minor ticks between them.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step / 2 {
		major := math.Abs(math.Round(v/step)*step-v) < step*1e-6
		t := plot.Tick{Value: v}
		if major {
			t.Label = strconv.FormatFloat(math.Round(v/step)*step, 'g', 6, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
