package analysis

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
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
}

const (
	chartWidth  = 8 * vg.Inch
	chartHeight = 4.5 * vg.Inch
	legendWidth = 2.4 * vg.Inch
)

// speedup draws speedup against workers: the ideal line, each curve's
// measured medians with their intervals, and its USL fit (dotted).
func (ch *chart) speedup(path string) error {
	return ch.draw(path, "speedup over serial (serial = 1)", func(p *Point) (y, lo, hi float64) {
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
			key := cv.Strategy + "\x00" + ch.labels[i]
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

	if withFit {
		note := plotter.NewFunction(func(float64) float64 { return math.NaN() })
		note.Color = color.Gray{Y: 60}
		note.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		legend.Add("USL fit", note)
	}
	return savePNG(p, legend, path)
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
