// Command localcluster starts the project's throwaway control plane (see
// test/controlplane), runs a command against it with KUBECONFIG set and the
// control plane's kubectl first on PATH, then stops it and removes every
// file. Without a command it runs until interrupted. `make demo` uses it.
//
//	localcluster [--controller-manager=false] [--crds=false] [--feature-gates G] [--kubeconfig PATH] [-- COMMAND ARGS…]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("localcluster", flag.ContinueOnError)
	kcm := fs.Bool("controller-manager", true, "also run kube-controller-manager")
	crds := fs.Bool("crds", true, "install the Argo CD, Flux and Sealed Secrets CRDs")
	kubeconfig := fs.String("kubeconfig", "", "also write the admin kubeconfig to this path (removed on exit)")
	gates := fs.String("feature-gates", "", "kube-apiserver's --feature-gates, e.g. CBORServingAndStorage=true")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	cp, err := controlplane.Start(ctx, controlplane.Options{ControllerManager: *kcm, CRDs: *crds, FeatureGates: *gates})
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		if errors.Is(err, controlplane.ErrNotBuilt) {
			return 2
		}
		return 3
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "localcluster: stopping:", err)
		}
	}()
	if *kubeconfig != "" {
		data, err := os.ReadFile(cp.Kubeconfig)
		if err == nil {
			err = os.WriteFile(*kubeconfig, data, 0o600)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "localcluster: writing kubeconfig:", err)
			return 3
		}
		defer os.Remove(*kubeconfig)
	}
	fmt.Fprintf(os.Stderr, "localcluster: control plane %s ready in %.1fs (kubeconfig %s)\n",
		cp.Server, time.Since(start).Seconds(), cp.Kubeconfig)

	if fs.NArg() == 0 {
		fmt.Fprintf(os.Stderr, "localcluster: export KUBECONFIG=%s; Ctrl-C stops it\n", cp.Kubeconfig)
		<-ctx.Done()
		return 0
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+cp.Kubeconfig,
		"PATH="+cp.Paths.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		return 3
	}
	go func() {
		<-ctx.Done()
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() < 0 {
			return 130
		}
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		return 3
	}
	return 0
}
