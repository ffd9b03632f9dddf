package topology

import (
	"slices"
	"testing"
)

func TestPlace(t *testing.T) {
	epyc, laptop, box := readEPYC(t), readFixture(t, alderLakeP()), readFixture(t, container())
	for _, tc := range []struct {
		name    string
		topo    *Topology
		policy  Policy
		workers int
		want    []int // worker i's CPU
	}{
		{"cores puts the first 64 EPYC workers on a core each, in CPU order", epyc, Cores, 66, append(span(0, 63), 64, 65)},
		{"compact fills an EPYC CCX's 4 cores and their siblings before the next", epyc, Compact, 10, []int{0, 64, 1, 65, 2, 66, 3, 67, 4, 68}},
		{"spread deals EPYC workers to CCXs, alternating sockets", epyc, Spread, 18, []int{0, 32, 4, 36, 8, 40, 12, 44, 16, 48, 20, 52, 24, 56, 28, 60, 1, 33}},
		{"cores puts laptop workers on P-cores, then E-cores, then P-core siblings", laptop, Cores, 16, []int{0, 2, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15, 1, 3, 5, 7}},
		{"spread over one L3 is cores", laptop, Spread, 5, []int{0, 2, 4, 6, 8}},
		{"compact on the laptop is CPU order", laptop, Compact, 4, []int{0, 1, 2, 3}},
		{"workers beyond a container's cpuset wrap around it", box, Cores, 6, []int{2, 3, 4, 5, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sets := tc.topo.Place(tc.policy, tc.workers)
			if len(sets) != tc.workers {
				t.Fatalf("Place gave %d sets for %d workers", len(sets), tc.workers)
			}
			var got []int
			for w, s := range sets {
				if len(s) != 1 {
					t.Fatalf("worker %d gets %q, want one CPU", w, s)
				}
				got = append(got, s[0])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Place(%s, %d) = %v, want %v", tc.policy, tc.workers, got, tc.want)
			}
		})
	}
}

func TestPlaceNone(t *testing.T) {
	if sets := readEPYC(t).Place(None, 8); sets != nil {
		t.Errorf("Place(none) = %v, want nil", sets)
	}
}

func TestParsePolicy(t *testing.T) {
	for _, p := range Policies() {
		if got, err := ParsePolicy(string(p)); err != nil || got != p {
			t.Errorf("ParsePolicy(%q) = %q, %v", p, got, err)
		}
	}
	if _, err := ParsePolicy("scatter"); err == nil {
		t.Error("ParsePolicy(scatter) succeeded")
	}
}

// Placement follows what the process may use: a core outside the cpuset
// is never handed out, and one with a sibling outside it counts once.
func TestPlaceWithinUsable(t *testing.T) {
	topo := *readEPYC(t) // as if under taskset -c 0-5,64,65
	topo.Affinity = union(span(0, 5), NewSet(64, 65))
	topo.Usable = topo.Online.Intersect(topo.Affinity)
	if got, want := topo.Order(Cores), []int{0, 1, 2, 3, 4, 5, 64, 65}; !slices.Equal(got, want) {
		t.Errorf("cores order = %v, want %v", got, want)
	}
	if got, want := topo.Order(Spread), []int{0, 4, 1, 5, 2, 3, 64, 65}; !slices.Equal(got, want) {
		t.Errorf("spread order = %v, want %v", got, want)
	}
	if got, want := topo.Boundaries(), []Boundary{{BoundL3, 4}, {BoundCores, 6}, {BoundThreads, 8}}; !slices.Equal(got, want) {
		t.Errorf("boundaries = %v, want %v", got, want)
	}
}

func readFixture(t *testing.T, f fixture) *Topology {
	t.Helper()
	topo, err := Read(f.write(t))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}
