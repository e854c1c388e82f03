package clitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Result is what one run of a plugin returned.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// String shows the whole result, for failure messages.
func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Options say how a plugin is run; the zero value runs it as
// "kubectl-gitops" with an empty standard input, no --kubeconfig and
// context.Background().
type Options struct {
	// Binary is argv[0], e.g. "kubectl-gitops-drift": it names the
	// command in help and error messages.
	Binary string
	// Kubeconfig, when not empty, is passed as --kubeconfig before the
	// arguments.
	Kubeconfig string
	// Stdin is the command's standard input.
	Stdin io.Reader
	// Env is set with t.Setenv before the run, for the rest of the test
	// (so not in a parallel test).
	Env map[string]string
	// Ctx is the command's context: cancelling it is the plugin's SIGINT.
	Ctx context.Context
}

// Run runs the plugin newCmd builds with args, in-process. t may be nil
// when o.Env is empty (a run from a goroutine).
func Run(t testing.TB, newCmd cli.NewCommand, o Options, args ...string) Result {
	if t != nil {
		t.Helper()
	}
	for k, v := range o.Env {
		t.Setenv(k, v)
	}
	argv := []string{o.Binary}
	if o.Binary == "" {
		argv[0] = "kubectl-gitops"
	}
	if o.Kubeconfig != "" {
		argv = append(argv, "--kubeconfig", o.Kubeconfig)
	}
	argv = append(argv, args...)
	in := o.Stdin
	if in == nil {
		in = strings.NewReader("")
	}
	ctx := o.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	var out, errOut bytes.Buffer
	code := cli.Run(ctx, argv, genericiooptions.IOStreams{In: in, Out: &out, ErrOut: &errOut}, newCmd)
	return Result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}
