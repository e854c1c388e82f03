package compare_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

// BenchmarkServerMode and BenchmarkLocalMode profile the engine against a
// running cluster loaded with the drift benchmark's data (hack/bench-drift.sh,
// hack/benchfloor gen/apply): KUBECTL_GITOPS_BENCH_KUBECONFIG names its
// kubeconfig and KUBECTL_GITOPS_BENCH_MANIFESTS the manifests directory.
// Skipped unless both are set. Each iteration loads the manifests, compares
// and encodes the report as JSON, as `kubectl gitops drift -o json` does.
// With KUBECTL_GITOPS_BENCH_HEAPPROFILE set, the first iteration writes a
// heap profile there (after a GC) when half of the objects are compared.
//
//	go test -run '^$' -bench ServerMode -benchtime 3x -cpuprofile cpu.out ./pkg/compare
func BenchmarkServerMode(b *testing.B) { benchMode(b, compare.ModeServer) }

// BenchmarkLocalMode: see BenchmarkServerMode.
func BenchmarkLocalMode(b *testing.B) { benchMode(b, compare.ModeLocal) }

// BenchmarkHybridMode: see BenchmarkServerMode.
func BenchmarkHybridMode(b *testing.B) { benchMode(b, compare.ModeHybrid) }

func benchMode(b *testing.B, mode compare.Mode) {
	kubeconfig, dir := os.Getenv("KUBECTL_GITOPS_BENCH_KUBECONFIG"), os.Getenv("KUBECTL_GITOPS_BENCH_MANIFESTS")
	if kubeconfig == "" || dir == "" {
		b.Skip("KUBECTL_GITOPS_BENCH_KUBECONFIG and KUBECTL_GITOPS_BENCH_MANIFESTS not set")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cpu0 := cpuTime(b)
	for b.Loop() {
		// Packed as they are read, as drift's reader (desired.ReadFiles)
		// gives them.
		var desired []compare.Desired
		_, err := manifest.Load(ctx, manifest.Options{Filenames: []string{dir}, Each: func(o manifest.Object) {
			desired = append(desired, compare.Pack(o.Obj, o.Source.String()))
		}})
		if err != nil {
			b.Fatal(err)
		}
		client, err := cluster.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		engine := &compare.Engine{Reader: client, Applier: client}
		opts := compare.Options{Mode: mode, Concurrency: 32}
		if path := os.Getenv("KUBECTL_GITOPS_BENCH_HEAPPROFILE"); path != "" {
			var once sync.Once
			opts.Progress = func(done, total int) {
				if done >= total/2 {
					once.Do(func() { writeHeapProfile(b, path) })
				}
			}
		}
		rep, err := engine.Run(ctx, desired, opts)
		if err != nil {
			b.Fatal(err)
		}
		enc := json.NewEncoder(io.Discard)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// writeHeapProfile writes the live heap to path, after a GC.
func writeHeapProfile(b *testing.B, path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.Logf("heap profile at half the objects: %d MB in use, written to %s", ms.HeapInuse>>20, path)
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
