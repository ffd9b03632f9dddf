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
	// Per-benchmark notes: the value starts with a benchmark or
	// configuration name.
	noteSkipped     = "skipped"
	noteUnconverged = "not converged"
	noteCeiling     = "ceiling"
	noteRounds      = "rounds"
)

// ScalingWeak is the value of ConfigScaling for weak scaling.
const ScalingWeak = "weak"
