package clitest

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// HelpGolden runs `<binary> <path> --help` for every command of the plugin
// (completion and its shells excepted; `options` itself, which prints the
// global flags) and compares the texts, in command
// order, with the golden file (golden.Check: -update rewrites it).
func HelpGolden(t *testing.T, binary string, newCmd cli.NewCommand, goldenPath string) {
	t.Helper()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if sub.Name() == "completion" || sub.Name() == "help" {
				continue
			}
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	env := cli.NewEnv(binary, genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	root := newCmd(env)
	cli.Setup(root, env)
	walk(root, nil)

	var got strings.Builder
	for _, p := range paths {
		var out, errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}
		argv := append([]string{binary}, p...)
		if len(p) != 1 || p[0] != "options" { // options prints the global flags
			argv = append(argv, "--help")
		}
		if code := cli.Run(context.Background(), argv, streams, newCmd); code != cli.ExitOK {
			t.Fatalf("%s: exit %d, stderr:\n%s", strings.Join(argv, " "), code, errOut.String())
		}
		got.WriteString("=== " + strings.Join(argv, " ") + "\n")
		text := out.String() + errOut.String()
		if home, err := os.UserHomeDir(); err == nil && home != "" {
			text = strings.ReplaceAll(text, home, "$HOME") // --cache-dir's default
		}
		got.WriteString(text)
	}
	golden.CheckString(t, goldenPath, got.String())
}
