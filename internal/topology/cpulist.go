package topology

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A Set is a set of CPU numbers, sorted and without duplicates. Its text
// form is the kernel's CPU list format ("0-3,8-11"), as sysfs and
// /proc/<pid>/status write it; the empty set is "".
type Set []int

// ParseSet reads a CPU list in the kernel's format (Documentation/admin-guide/
// kernel-parameters.rst, "cpu lists"): comma-separated numbers and ranges
// "a-b", a range optionally with a stride "a-b:used/group". Blank input is the
// empty set.
func ParseSet(s string) (Set, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Set{}, nil
	}
	var cpus []int
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		lo, hi, ranged := strings.Cut(item, "-")
		if !ranged {
			n, err := cpuNumber(item)
			if err != nil {
				return nil, err
			}
			cpus = append(cpus, n)
			continue
		}
		used, group := 1, 1
		if h, stride, ok := strings.Cut(hi, ":"); ok {
			hi = h
			u, g, ok := strings.Cut(stride, "/")
			var err1, err2 error
			used, err1 = strconv.Atoi(u)
			group, err2 = strconv.Atoi(g)
			if !ok || err1 != nil || err2 != nil || used < 1 || group < used {
				return nil, fmt.Errorf("topology: bad stride %q in CPU list %q", stride, s)
			}
		}
		a, err := cpuNumber(lo)
		if err != nil {
			return nil, err
		}
		b, err := cpuNumber(hi)
		if err != nil {
			return nil, err
		}
		if b < a {
			return nil, fmt.Errorf("topology: range %q in CPU list %q runs backwards", item, s)
		}
		for base := a; base <= b; base += group {
			for n := base; n < base+used && n <= b; n++ {
				cpus = append(cpus, n)
			}
		}
	}
	return NewSet(cpus...), nil
}

// maxCPU bounds the CPU numbers a list may hold: Linux's NR_CPUS is at most
// 8192 on the architectures we know.
const maxCPU = 1 << 16

func cpuNumber(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n >= maxCPU {
		return 0, fmt.Errorf("topology: %q is not a CPU number", s)
	}
	return n, nil
}

// NewSet returns the set of the given CPUs.
func NewSet(cpus ...int) Set {
	s := slices.Clone(cpus)
	slices.Sort(s)
	return Set(slices.Compact(s))
}

// Contains reports whether cpu is in the set.
func (s Set) Contains(cpu int) bool {
	_, ok := slices.BinarySearch(s, cpu)
	return ok
}

// Intersect returns the CPUs in both sets.
func (s Set) Intersect(o Set) Set {
	out := Set{}
	for _, c := range s {
		if o.Contains(c) {
			out = append(out, c)
		}
	}
	return out
}

// String writes the set in the kernel's CPU list format: "0-3,8".
func (s Set) String() string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(s[j]))
		}
		i = j + 1
	}
	return b.String()
}
