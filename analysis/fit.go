package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
)

// A Law is a scaling law.
type Law int

const (
	Amdahl    Law = iota // strong scaling: C(N) = 1/(s + (1-s)/N)
	Gustafson            // weak scaling: C(N) = N - s(N-1)
	USL                  // Gunther's: C(N) = N/(1 + sigma(N-1) + kappa N(N-1))
)

func (l Law) String() string {
	switch l {
	case Amdahl:
		return "Amdahl"
	case Gustafson:
		return "Gustafson"
	}
	return "USL"
}

// Params is the number of the law's parameters.
func (l Law) Params() int {
	if l == USL {
		return 2
	}
	return 1
}

// MinPoints is the fewest worker counts the law is fitted to: its
// parameters plus two, so that the fit has residuals to be judged by (with
// two points any one-parameter law fits exactly and says nothing).
func (l Law) MinPoints() int { return l.Params() + 2 }

// A Fit is a scaling law fitted to a curve's relative capacity
// C(N) = X(N)/X(1), its throughput at N workers over its own throughput at
// one worker.
type Fit struct {
	Law Law
	// Serial is the serial fraction: Amdahl's 1-p, Gustafson's s; for the
	// USL, sigma (contention).
	Serial float64
	// Kappa is the USL's coherency cost (crosstalk between workers); 0
	// for the other laws.
	Kappa float64
	// R2 is the coefficient of determination of the fit on C(N).
	R2 float64
	// Peak is the worker count at which the USL's throughput peaks,
	// floor(sqrt((1-sigma)/kappa)), when kappa > 0 and the peak lies
	// within twice the largest worker count fitted; else 0 (a peak
	// further out is extrapolation, not a finding).
	Peak int
	// Flags name parameters at a bound or out of range: such a fit
	// describes the points, not the machine.
	Flags []string
}

// flag checks the fitted parameters and drops a peak predicted beyond
// twice the largest worker count fitted (maxN).
func (f *Fit) flag(maxN float64) {
	switch {
	case f.Serial < 0:
		f.Flags = append(f.Flags, fmt.Sprintf("serial fraction %.3g < 0: faster than linear (caches, or a slow 1-worker point)", f.Serial))
	case f.Serial > 1:
		f.Flags = append(f.Flags, fmt.Sprintf("serial fraction %.3g > 1: slower with more workers than with one", f.Serial))
	case f.Law == USL && f.Serial == 0:
		f.Flags = append(f.Flags, "sigma at its bound 0")
	}
	if f.Law == USL && f.Kappa == 0 {
		f.Flags = append(f.Flags, "kappa at its bound 0")
	}
	if f.Peak > 0 && float64(f.Peak) > 2*maxN {
		f.Peak = 0
	}
}

// Capacity returns the fitted relative capacity at n workers.
func (f *Fit) Capacity(n float64) float64 {
	switch f.Law {
	case Amdahl:
		return amdahl(n, f.Serial)
	case Gustafson:
		return n - f.Serial*(n-1)
	}
	return usl(n, f.Serial, f.Kappa)
}

func (f *Fit) String() string {
	switch f.Law {
	case USL:
		s := fmt.Sprintf("USL sigma=%.4f kappa=%.5f (R2 %.3f)", f.Serial, f.Kappa, f.R2)
		if f.Peak > 0 {
			s += fmt.Sprintf(", peak at %d workers", f.Peak)
		}
		return s
	}
	return fmt.Sprintf("%s serial fraction %.4f (R2 %.3f)", f.Law, f.Serial, f.R2)
}

func amdahl(n, s float64) float64 { return 1 / (s + (1-s)/n) }

func usl(n, sigma, kappa float64) float64 {
	return n / (1 + sigma*(n-1) + kappa*n*(n-1))
}

// errFewPoints reports data that cannot support a fit of law.
type errFewPoints struct {
	law    Law
	points int
}

func (e errFewPoints) Error() string {
	return fmt.Sprintf("%v needs at least %d worker counts, has %d", e.law, e.law.MinPoints(), e.points)
}

// FitAmdahl fits Amdahl's law, C(N) = 1/(s + (1-s)/N), for strong scaling.
// Rewritten as 1/C - 1/N = s(1 - 1/N), it is a regression through the origin
// (the least-squares form of the Karp-Flatt metric).
func FitAmdahl(n, c []float64) (*Fit, error) {
	if len(n) < Amdahl.MinPoints() {
		return nil, errFewPoints{Amdahl, len(n)}
	}
	x, y := make([]float64, len(n)), make([]float64, len(n))
	for i := range n {
		x[i], y[i] = 1-1/n[i], 1/c[i]-1/n[i]
	}
	_, s := stat.LinearRegression(x, y, nil, true)
	f := &Fit{Law: Amdahl, Serial: s}
	f.R2 = rSquared(n, c, f.Capacity)
	return f, nil
}

// FitGustafson fits Gustafson's law, C(N) = N - s(N - 1), for weak
// scaling: N - C = s(N - 1), a regression through the origin.
func FitGustafson(n, c []float64) (*Fit, error) {
	if len(n) < Gustafson.MinPoints() {
		return nil, errFewPoints{Gustafson, len(n)}
	}
	x, y := make([]float64, len(n)), make([]float64, len(n))
	for i := range n {
		x[i], y[i] = n[i]-1, n[i]-c[i]
	}
	_, s := stat.LinearRegression(x, y, nil, true)
	f := &Fit{Law: Gustafson, Serial: s}
	f.R2 = rSquared(n, c, f.Capacity)
	return f, nil
}

// FitUSL fits the Universal Scalability Law,
// C(N) = N / (1 + sigma(N-1) + kappa N(N-1)), with sigma, kappa >= 0.
// Gunther's linearisation N/C - 1 = sigma(N-1) + kappa N(N-1) gives a start;
// Nelder-Mead (gonum/optimize) then minimises the squared error in C itself,
// over sigma = a^2 and kappa = b^2 so that neither goes negative.
func FitUSL(n, c []float64) (*Fit, error) {
	if len(n) < USL.MinPoints() {
		return nil, errFewPoints{USL, len(n)}
	}
	sigma0, kappa0 := uslLinear(n, c)
	loss := func(x []float64) float64 {
		var sum float64
		for i := range n {
			d := usl(n[i], x[0]*x[0], x[1]*x[1]) - c[i]
			sum += d * d
		}
		return sum
	}
	init := []float64{math.Sqrt(max(sigma0, 1e-6)), math.Sqrt(max(kappa0, 1e-8))}
	res, err := optimize.Minimize(optimize.Problem{Func: loss}, init, &optimize.Settings{
		Converger: &optimize.FunctionConverge{Absolute: 1e-14, Iterations: 200},
	}, &optimize.NelderMead{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("analysis: USL fit: %w", err)
	}
	f := &Fit{Law: USL, Serial: res.X[0] * res.X[0], Kappa: res.X[1] * res.X[1]}
	if f.Serial < 1e-9 {
		f.Serial = 0
	}
	if f.Kappa > 1e-9 {
		f.Peak = int(math.Floor(math.Sqrt((1 - f.Serial) / f.Kappa)))
	} else {
		f.Kappa = 0
	}
	f.R2 = rSquared(n, c, f.Capacity)
	return f, nil
}

// uslLinear solves Gunther's linearised USL by least squares: with
// x = N-1 and y = N/C - 1, y = sigma x + kappa x(x+1).
func uslLinear(n, c []float64) (sigma, kappa float64) {
	var a11, a12, a22, b1, b2 float64
	for i := range n {
		x1, x2 := n[i]-1, n[i]*(n[i]-1)
		y := n[i]/c[i] - 1
		a11 += x1 * x1
		a12 += x1 * x2
		a22 += x2 * x2
		b1 += x1 * y
		b2 += x2 * y
	}
	det := a11*a22 - a12*a12
	if det == 0 {
		return 0, 0
	}
	return (b1*a22 - b2*a12) / det, (a11*b2 - a12*b1) / det
}

func rSquared(n, c []float64, model func(float64) float64) float64 {
	mean := stat.Mean(c, nil)
	var ssRes, ssTot float64
	for i := range n {
		d := c[i] - model(n[i])
		ssRes += d * d
		ssTot += (c[i] - mean) * (c[i] - mean)
	}
	if ssTot == 0 {
		return 1
	}
	return 1 - ssRes/ssTot
}
