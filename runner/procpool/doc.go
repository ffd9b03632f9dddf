// Package procpool is a pool of worker processes that run parallel jobs over
// shared memory: the Go counterpart of Python's multiprocessing.Pool, without
// its costs. Tasks are not pickled and results are not sent back: workers
// read their inputs from and write their outputs into one shared Region, and
// claim chunks from a counter in shared memory. A worker's one pipe to the
// parent carries "ready" and failures only; jobs are published, and
// sleeping workers woken, through the shared control block.
//
// The pool knows regions, chunk counts and task descriptors (opaque bytes),
// nothing else. A worker turns a descriptor into a chunk function with the
// Resolver its program registered with Serve, so the program decides what a
// task means; this package imports none of it.
//
// # Workers
//
// A worker is the running program re-executed (Go cannot fork without exec),
// with an environment marker that makes Serve, called first thing in main or
// TestMain, run the worker loop instead of the program. It gets the pool's
// control block as fd 3, the region as fd 4 (memfds, which have no name:
// nothing is ever left in /dev/shm) and the parent's doorbell (an eventfd)
// as fd 5, runs with GOMAXPROCS=1, ignores SIGINT
// (the parent decides) and dies with its parent (Pdeathsig SIGKILL; a worker
// whose parent is already gone exits at once).
//
// # Jobs
//
// The parent writes a job into the control block and publishes its sequence
// number. Idle workers watch that number for a short while (spinFor) before
// they sleep on a futex word of the control block; the parent wakes all the
// sleepers with one FUTEX_WAKE, and makes no system call at all if none
// sleeps, so a job costs the parent the same whatever the pool's size.
// Workers claim chunks (Dynamic: from a shared counter; Static: their own
// range), write outputs straight into the region, and report chunks run,
// busy time, and their thread's CPU time and run-queue delay over those
// chunks in their slot of the control block: busy time that was not CPU
// time was spent waiting for a CPU (RunDelay) or blocked. The last worker to finish
// rings the doorbell only if the parent, too, has stopped watching and gone
// to sleep. Jobs that follow each other closely thus cost no system call at
// all.
//
// Both sides sleep in ways that keep the Go runtime's monitor thread
// (sysmon) quiet while the workers compute: a worker first sleeps in a raw
// futex wait the scheduler does not see, and the parent waits on the
// doorbell in raw ppoll calls, holding its P (doorbell.hold). A goroutine
// that blocks the ordinary way lets the runtime idle its P, and the wake-up
// that follows sets sysmon polling every 20 us for milliseconds, on the
// cores the workers need, or under the run that comes after the job: a
// parent that parked in the poller through jobs made goroutines at 2
// workers on 2 vCPUs wait twice as long for a CPU in the same sweep. A worker idle for longer than holdFor does sleep the
// ordinary way, so that its runtime sleeps entirely: an idle pool costs no
// CPU, which a sweep needs, since it keeps a pool per worker count alive
// while it measures other cells.
//
// A worker that dies mid-job (killed, os.Exit, a runtime crash) fails the job
// with a *WorkerError naming the worker, its pid, its exit status and the
// chunk it held; a chunk that panics fails it with the panic's value and
// stack. The pool replaces dead workers before the next job.
//
// # Python's names
//
//	multiprocessing.Pool(processes=n)      New(region, n); n == 0 means runtime.NumCPU()
//	Pool(initializer=...)                  the Resolver given to Serve
//	pool.map(func, chunks, chunksize)      Run(ctx, Job{Task, Chunks, Sched: Dynamic})
//	pool.apply_async(...) -> AsyncResult   Submit(ctx, job) -> *Call
//	AsyncResult.get(timeout)               Call.Wait(timeout), ErrTimeout
//	AsyncResult.ready()                    Call.Done()
//	pool.close(); pool.join()              Close(); Wait()
//	pool.terminate()                       Terminate()
//	shared_memory.SharedMemory(size)       NewRegion(size); nothing to unlink
//	BrokenProcessPool, or a hang           *WorkerError, or *StuckError at the
//	                                       context's deadline; the pool goes on
//
// A context deadline is the per-job timeout, and the only watchdog: a
// worker that is stopped, or a chunk that never returns, holds a job up
// until its context ends. Then the workers still busy with the job are
// killed and Run returns a *StuckError that wraps the context's error and
// names each of them with its process state (from /proc/<pid>/stat: T for
// a stopped worker, R for one in an endless loop), the chunk it held and
// for how long.
package procpool
