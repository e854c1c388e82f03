//go:build linux

package jsonneteval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// workerEnv marks the child process as the evaluator (Worker).
const workerEnv = "KUBECTL_GITOPS_JSONNET_WORKER"

// Exit codes of the worker besides 0 (the output on stdout). The Go
// runtime exits 2 on a fatal error, out of memory included.
const (
	exitJsonnetError = 1 // a workerAnswer on stdout
	exitWorkerError  = 3 // the request could not be read or the limits set
)

// hooked is set once Worker has run: a program that did not call it would
// run its own main as the "worker", so Evaluate refuses to start one.
var hooked atomic.Bool

// slots holds one token per worker running (MaxWorkers).
var slots = make(chan struct{}, MaxWorkers)

// Worker makes this process the Jsonnet evaluator when it was started as
// one by Evaluate, and exits; otherwise it returns at once. Call it first
// thing in main, and in TestMain of the packages whose tests evaluate
// Jsonnet (docker's reexec.Init pattern).
func Worker() {
	hooked.Store(true)
	if os.Getenv(workerEnv) != "1" {
		return
	}
	os.Exit(work(os.Stdin, os.Stdout, os.Stderr))
}

type workerRequest struct {
	Request Request `json:"request"`
	Limits  Limits  `json:"limits"`
}

type workerAnswer struct {
	Error string `json:"error"`
}

// work is the worker: it caps itself, then evaluates the request.
func work(in io.Reader, out, errOut io.Writer) int {
	var r workerRequest
	if err := json.NewDecoder(in).Decode(&r); err != nil {
		fmt.Fprintf(errOut, "jsonnet worker: reading the request: %v\n", err)
		return exitWorkerError
	}
	l := r.Limits.withDefaults()
	cpu := uint64((l.CPU + time.Second - 1) / time.Second)
	for _, lim := range []struct {
		resource int
		value    uint64
	}{{syscall.RLIMIT_DATA, uint64(l.Memory)}, {syscall.RLIMIT_CPU, cpu}} {
		// Soft and hard alike: at the CPU hard limit the kernel sends
		// SIGKILL (Go ignores the SIGXCPU of a soft limit).
		if err := syscall.Setrlimit(lim.resource, &syscall.Rlimit{Cur: lim.value, Max: lim.value}); err != nil {
			fmt.Fprintf(errOut, "jsonnet worker: setting its limits: %v\n", err)
			return exitWorkerError
		}
	}
	// Collect hard before the limit, so that what fits does not fail.
	debug.SetMemoryLimit(l.Memory * 3 / 4)
	res, err := r.Request.evaluate()
	if err == nil && int64(len(res)) > l.Output {
		err = outputBudget(l)
	}
	if err != nil {
		_ = json.NewEncoder(out).Encode(workerAnswer{Error: err.Error()})
		return exitJsonnetError
	}
	if _, err := io.WriteString(out, res); err != nil {
		return exitWorkerError
	}
	return 0
}

// Evaluate evaluates req in a child process under the budget l (zero
// fields: the defaults) and returns the Jsonnet's JSON output; at most
// MaxWorkers run at once, the others wait their turn. It returns
// ctx's error when ctx ends first, a *BudgetError when a limit stops the
// evaluation; the child is gone when it returns.
func Evaluate(ctx context.Context, req Request, l Limits) (string, error) {
	if !hooked.Load() {
		return "", errors.New("jsonnet evaluation needs jsonneteval.Worker called first in main")
	}
	select {
	case slots <- struct{}{}:
		defer func() { <-slots }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	l = l.withDefaults()
	body, err := json.Marshal(workerRequest{Request: req, Limits: l})
	if err != nil {
		return "", fmt.Errorf("encoding the jsonnet request: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, l.Wall)
	defer cancel()
	// /proc/self/exe: the running program even when its file was replaced
	// since it started (drift watch runs for days).
	exe := "/proc/self/exe"
	if _, err := os.Stat(exe); err != nil { // no /proc mounted
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("starting the jsonnet worker: %w", err)
		}
	}
	cmd := exec.CommandContext(wctx, exe)
	cmd.Args = []string{"kubectl-gitops-jsonnet-worker"}
	cmd.Env = []string{workerEnv + "=1"}
	cmd.Stdin = bytes.NewReader(body)
	stdout := &cappedBuffer{max: l.Output + 64<<10, overflow: cancel}
	stderr := &cappedBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Should this process die, the worker dies with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case stdout.overflowed:
		return "", outputBudget(l)
	case errors.Is(wctx.Err(), context.DeadlineExceeded):
		return "", timeBudget(l)
	case err == nil:
		return stdout.String(), nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return "", fmt.Errorf("starting the jsonnet worker: %w", err)
	}
	st := exit.ProcessState
	ws, _ := st.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled() && (ws.Signal() == syscall.SIGKILL || ws.Signal() == syscall.SIGXCPU) &&
		st.UserTime()+st.SystemTime() >= l.CPU-time.Second:
		return "", cpuBudget(l)
	case st.ExitCode() == exitJsonnetError:
		var a workerAnswer
		if err := json.Unmarshal(stdout.Bytes(), &a); err != nil || a.Error == "" {
			return "", errors.New("the jsonnet worker failed without saying why")
		}
		if a.Error == outputBudget(l).Error() {
			return "", outputBudget(l)
		}
		return "", errors.New(a.Error)
	case st.ExitCode() == 2 && (outOfMemory(stderr.String()) || nearMemoryBudget(st, l)):
		return "", memoryBudget(l)
	}
	// The worker's stderr is not shown: a runtime crash may quote the
	// repository's data.
	return "", fmt.Errorf("the jsonnet worker failed (%s)", st)
}

// nearMemoryBudget reports whether a worker that crashed had used at least
// half its memory budget: under RLIMIT_DATA the Go runtime does not always
// die with "out of memory" — a failed mapping inside the garbage collector
// ends in a SIGSEGV trace (exit 2) instead (seen with Go 1.26's collector).
func nearMemoryBudget(st *os.ProcessState, l Limits) bool {
	ru, ok := st.SysUsage().(*syscall.Rusage)
	return ok && ru.Maxrss*1024 >= l.Memory/2 // Maxrss is in KiB on Linux
}

// outOfMemory reports whether a Go program's stderr tells that it died of
// lacking memory: "fatal error: runtime: out of memory", "… cannot allocate
// memory", "… out of memory allocating heap arena metadata".
func outOfMemory(stderr string) bool {
	for l := range strings.Lines(stderr) {
		if msg, ok := strings.CutPrefix(l, "fatal error: "); ok {
			return strings.Contains(msg, "out of memory") || strings.Contains(msg, "cannot allocate memory")
		}
	}
	return false
}

// cappedBuffer keeps at most max bytes; past them it calls overflow (when
// set) and drops the rest.
type cappedBuffer struct {
	bytes.Buffer
	max        int64
	overflow   func()
	overflowed bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - int64(b.Len()); int64(len(p)) > room {
		b.Buffer.Write(p[:max(room, 0)])
		if b.overflow != nil && !b.overflowed {
			b.overflowed = true
			b.overflow()
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
