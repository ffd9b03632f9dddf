package resultfile

// A Config is a "key: value" fact of a file: a configuration line, or a
// note line ("# key: value").
type Config struct {
	Key, Value string
}

// Keys of configuration lines: facts that make two runs comparable or not.
const (
	ConfigGoos       = "goos"
	ConfigGoarch     = "goarch"
	ConfigCPU        = "cpu"
	ConfigPkg        = "pkg" // the package whose benchmarks ran (go test writes it)
	ConfigNCPU       = "ncpu"
	ConfigGomaxprocs = "gomaxprocs"
	ConfigCPUQuota   = "cpu-quota"
	// ConfigUsableCPUs is the least of NumCPU, the cgroup quota and the
	// affinity mask: the CPUs a run could use at once. Scaling laws are
	// fitted only up to it.
	ConfigUsableCPUs = "usable-cpus"
	ConfigGovernor   = "governor"
	ConfigGo         = "go"
	ConfigScaling    = "scaling" // strong or weak
	ConfigChunks     = "chunks"
	ConfigSeed       = "seed" // of the inputs
	ConfigPython     = "python"
	ConfigNumpy      = "numpy"
	ConfigBLAS       = "blas"
)

// Keys of the configuration lines that describe the machine's topology
// (package internal/topology), the same in every run on one machine.
const (
	// Counts of the online CPUs' packages, physical cores, SMT threads
	// per core, L3 domains and NUMA nodes ("unknown" where sysfs does not
	// say), the core types of a hybrid machine ("performance=0-7
	// efficiency=8-15", or "none"), the process's affinity mask and its
	// cgroup's cpuset as CPU lists (cpuset "none" when no cgroup limits
	// it), and the worker counts where placement changes
	// (ConfigBoundaries, see FormatBoundaries).
	ConfigPackages       = "cpu-packages"
	ConfigCores          = "cpu-cores"
	ConfigThreadsPerCore = "cpu-threads-per-core"
	ConfigL3Domains      = "cpu-l3-domains"
	ConfigNUMANodes      = "cpu-numa-nodes"
	ConfigCoreTypes      = "cpu-core-types"
	ConfigAffinity       = "cpu-affinity"
	ConfigCpuset         = "cpuset"
	ConfigBoundaries     = "cpu-boundaries"
)

// Keys of note lines: facts of one run that do not make it incomparable
// with another.
const (
	NoteDate        = "date"
	NoteLoadavg     = "loadavg"
	NoteRunnable    = "runnable" // other tasks runnable at start
	NoteCommit      = "commit"
	NoteHost        = "host"
	NoteSizes       = "sizes"
	NoteCount       = "count"
	NotePrecision   = "precision"
	NoteBudget      = "budget"
	NoteOrderSeed   = "order-seed" // seeds each round's order of cells
	NoteForks       = "forks"
	NoteInterrupted = "interrupted"
	NoteFailed      = "failed" // why a sweep stopped on an error
	NoteBenchtime   = "benchtime"
	// NoteDgemm is kernels/dgemm's micro-kernel and cache blocking on
	// this machine, and the pages its packing buffers are on ("avx512
	// 8x24 KC=256 MC=256 NC=2040, packing on 2 MiB pages"). A note, not a
	// configuration line: a run before a change to either must still
	// compare with one after it in benchstat's one table.
	NoteDgemm = "dgemm"
	// NoteFlush is the instruction that flushes a run's region from the
	// caches before it ("clflushopt", "clflush", or "none" where the
	// architecture has none here). A note: the two leave memory in
	// slightly different cold states (a chase through 576 KiB ran 8%
	// slower after CLFLUSHOPT), so a file says which its runs started
	// from.
	NoteFlush = "cache-flush"
	// NoteKernel is the kernel's release and the boot parameters that
	// change how it places and wakes threads ("6.18.44; sched_vcpu_pack=15
	// cpuidle_haltpoll.force=1"): a guest kernel that packs runnable
	// threads onto busy vCPUs queues workers behind each other while a
	// vCPU idles, which no strategy can undo.
	NoteKernel = "kernel"
	// Per-benchmark notes: the value starts with a benchmark or
	// configuration name.
	noteSkipped     = "skipped"
	noteUnconverged = "not converged"
	noteCeiling     = "ceiling"
	noteRounds      = "rounds"
)

// ScalingWeak is the value of ConfigScaling for weak scaling.
const ScalingWeak = "weak"
