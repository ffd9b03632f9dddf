package topology

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupLimits are the CPU limits of the process's cgroups.
type cgroupLimits struct {
	cpuset Set     // nil: none found
	quota  float64 // CPUs; 0: unlimited
}

// readCgroup finds the process's cgroups from proc/self/cgroup and reads
// their CPU limits, under cgroup v2 (cpu.max, cpuset.cpus.effective) and
// v1 (cpu.cfs_quota_us and cpu.cfs_period_us, cpuset.effective_cpus) with
// the usual mount points. A quota holds at every level of the hierarchy, so
// the least along the path from the process's cgroup to the root counts; an
// effective cpuset already includes its ancestors', so the nearest counts.
// When the cgroup's path is not found below the mount (a container that
// sees the host's path, without a cgroup namespace), the mount's root is
// read alone.
func readCgroup(root string) cgroupLimits {
	var lim cgroupLimits
	b, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return lim
	}
	fs := filepath.Join(root, "sys/fs/cgroup")
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		controllers, path := parts[1], parts[2]
		if controllers == "" { // cgroup v2's unified hierarchy
			for _, mount := range []string{fs, filepath.Join(fs, "unified")} {
				if _, err := os.Stat(filepath.Join(mount, "cgroup.controllers")); err != nil {
					continue
				}
				lim.add(walkCgroup(mount, path, readCPUMax), walkCgroup(mount, path, readSetFile("cpuset.cpus.effective")))
				break
			}
			continue
		}
		list := strings.Split(controllers, ",")
		for _, c := range list {
			mount := filepath.Join(fs, controllers) // "cpu,cpuacct" is mounted as one directory
			if _, err := os.Stat(mount); err != nil {
				mount = filepath.Join(fs, c)
			}
			switch c {
			case "cpu":
				lim.add(walkCgroup(mount, path, readCFSQuota), nil)
			case "cpuset":
				lim.add(nil, walkCgroup(mount, path, readSetFile("cpuset.effective_cpus")))
			}
		}
	}
	return lim
}

// add takes in the least of the quotas and the intersection of the cpusets
// of what one hierarchy said.
func (l *cgroupLimits) add(quotas []float64, cpusets []Set) {
	for _, q := range quotas {
		if q > 0 && (l.quota == 0 || q < l.quota) {
			l.quota = q
		}
	}
	if len(cpusets) > 0 {
		s := cpusets[0] // the nearest: effective cpusets include their ancestors'
		if l.cpuset != nil {
			s = s.Intersect(l.cpuset)
		}
		l.cpuset = s
	}
}

// walkCgroup calls read in every directory from the cgroup at path below
// mount up to mount itself, and returns what it found, nearest first.
func walkCgroup[T any](mount, path string, read func(dir string) (T, bool)) []T {
	dir := filepath.Join(mount, filepath.Clean("/"+path))
	if _, err := os.Stat(dir); err != nil {
		dir = mount
	}
	var found []T
	for {
		if v, ok := read(dir); ok {
			found = append(found, v)
		}
		if dir == mount || !strings.HasPrefix(dir, mount) {
			return found
		}
		dir = filepath.Dir(dir)
	}
}

// readCPUMax reads cgroup v2's cpu.max: "$MAX $PERIOD", MAX "max" for none.
func readCPUMax(dir string) (float64, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "cpu.max"))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	return ratio(f[0], f[1])
}

// readCFSQuota reads cgroup v1's quota: cpu.cfs_quota_us over
// cpu.cfs_period_us, a quota of -1 for none.
func readCFSQuota(dir string) (float64, bool) {
	q, err1 := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
	p, err2 := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return ratio(strings.TrimSpace(string(q)), strings.TrimSpace(string(p)))
}

func ratio(quota, period string) (float64, bool) {
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false
	}
	return q / p, true
}

func readSetFile(name string) func(dir string) (Set, bool) {
	return func(dir string) (Set, bool) {
		s, err := readSet(filepath.Join(dir, name))
		return s, err == nil && len(s) > 0 // an empty effective cpuset means the parent's
	}
}
