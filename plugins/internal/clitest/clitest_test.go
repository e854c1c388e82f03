package clitest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// echo is a plugin that prints its arguments, --kubeconfig, an environment
// variable and its standard input, and fails when asked to.
func echo(env *cli.Env) *cobra.Command {
	var fail bool
	root := &cobra.Command{
		Use:  env.Name,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := io.ReadAll(env.Streams.In)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Streams.Out, "args=%s kubeconfig=%s env=%s stdin=%s\n",
				strings.Join(args, ","), *env.ConfigFlags.KubeConfig, os.Getenv("CLITEST_VAR"), in)
			if fail {
				return errors.New("asked to fail")
			}
			return cmd.Context().Err()
		},
	}
	root.Flags().BoolVar(&fail, "fail", false, "fail")
	return root
}

func TestRun(t *testing.T) {
	r := Run(t, echo, Options{
		Binary:     "kubectl-gitops-echo",
		Kubeconfig: "/k",
		Stdin:      strings.NewReader("hello"),
		Env:        map[string]string{"CLITEST_VAR": "v1"},
	}, "a", "b")
	if want := "args=a,b kubeconfig=/k env=v1 stdin=hello\n"; r.Code != cli.ExitOK || r.Stdout != want || r.Stderr != "" {
		t.Errorf("got %s\nwant exit 0, stdout %q", r, want)
	}

	r = Run(nil, echo, Options{Binary: "kubectl-gitops-echo"}, "--fail")
	if r.Code != cli.ExitError || !strings.Contains(r.Stderr, "asked to fail") || !strings.Contains(r.String(), "exit 2") {
		t.Errorf("--fail: %s", r)
	}

	r = Run(nil, echo, Options{}, "--no-such-flag")
	if r.Code != cli.ExitUsage || !strings.Contains(r.Stderr, "See 'kubectl gitops --help'") {
		t.Errorf("a usage error: %s", r)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = Run(nil, echo, Options{Ctx: ctx})
	if r.Code == cli.ExitOK || !strings.Contains(r.Stderr, "error: interrupted") {
		t.Errorf("a cancelled context: %s", r)
	}
}
