package procpool

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

func TestMain(m *testing.M) {
	Serve(testResolver)
	if os.Getenv(envHelperParent) != "" {
		os.Exit(helperParent())
	}
	os.Exit(m.Run())
}

// testResolver understands the tasks the tests send. Data is viewed as
// uint64 words.
//
//	square          word i = i*i for chunk i
//	pid             word i = the pid of the worker that ran chunk i
//	sleep:MS        every chunk sleeps MS milliseconds
//	spin:US         every chunk keeps its CPU busy for US microseconds
//	panic:C         chunk C panics
//	loop:C          chunk C never returns; the others spin for 1 ms
//	chaos:S:F:C     chunks spin 200-1000 us, drawn from seed S and the chunk;
//	                chunk C panics (F "panic") or never returns (F "loop")
//	exit:C:CODE     chunk C exits the worker with CODE
//	print           chunks print to stdout, which must not reach the protocol
//	log:ID          word 0 counts jobs; word 1+count = ID (chunk 0 only)
//	bad             cannot be resolved
func testResolver(task []byte, data []byte) (func(int), error) {
	words := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(data))), len(data)/8)
	name, arg, _ := strings.Cut(string(task), ":")
	n, _ := strconv.Atoi(strings.Split(arg, ":")[0])
	switch name {
	case "square":
		return func(i int) { words[i] = uint64(i * i) }, nil
	case "pid":
		pid := uint64(os.Getpid())
		return func(i int) { words[i] = pid }, nil
	case "sleep":
		return func(int) { time.Sleep(time.Duration(n) * time.Millisecond) }, nil
	case "spin":
		return func(int) { spin(time.Duration(n) * time.Microsecond) }, nil
	case "loop":
		return func(i int) {
			for i == n {
				spin(time.Hour)
			}
			spin(time.Millisecond)
		}, nil
	case "chaos":
		parts := strings.Split(arg, ":")
		fault := parts[1]
		c, _ := strconv.Atoi(parts[2])
		return func(i int) {
			// A cheap hash of seed and chunk: every worker draws the
			// same time for a chunk.
			h := uint64(n)*0x9e3779b97f4a7c15 ^ uint64(i)*0xbf58476d1ce4e5b9
			h ^= h >> 31
			spin(time.Duration(200+h%800) * time.Microsecond)
			if i == c && fault == "panic" {
				panic(fmt.Sprintf("chaos at chunk %d", i))
			}
			for i == c && fault == "loop" {
				spin(time.Hour)
			}
		}, nil
	case "panic":
		return func(i int) {
			if i == n {
				panic(fmt.Sprintf("boom at chunk %d", i))
			}
		}, nil
	case "exit":
		code, _ := strconv.Atoi(strings.Split(arg, ":")[1])
		return func(i int) {
			if i == n {
				os.Exit(code)
			}
		}, nil
	case "print":
		return func(i int) { fmt.Println("stray output from chunk", i) }, nil
	case "log":
		return func(int) {
			count := (*atomic.Uint64)(unsafe.Pointer(&words[0])).Add(1)
			words[count] = uint64(n)
		}, nil
	}
	return nil, fmt.Errorf("no such test task %q", task)
}

// envHelperParent makes the test binary a parent that starts a pool, prints
// its workers' pids and waits to be killed.
const envHelperParent = "PROCPOOL_TEST_HELPER_PARENT"

func helperParent() int {
	region, err := NewRegion(8 << 10)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	p, err := New(region, 2)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	var pids []string
	for _, w := range p.Workers() {
		pids = append(pids, strconv.Itoa(w.Pid))
	}
	if os.Getenv(envHelperParent) == "busy" {
		p.Submit(context.Background(), Job{Task: []byte("sleep:60000"), Chunks: 2})
		for p.cb.remaining.Load() == 0 || p.cb.slots[0].chunk.Load() < 0 || p.cb.slots[1].chunk.Load() < 0 {
			time.Sleep(time.Millisecond)
		}
	}
	fmt.Println("pids", strings.Join(pids, " "))
	time.Sleep(time.Minute)
	return 0
}

// spin keeps the CPU busy for d of wall time.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// word reads word i of a region.
func word(r *Region, i int) uint64 {
	return binary.NativeEndian.Uint64(r.Bytes()[8*i:])
}
