// Package clitest provides test helpers for plugin commands: the --help
// text of every command of a plugin, held to a golden file. It is imported
// by tests only.
package clitest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// HelpGolden runs `<binary> <path> --help` for every command of the plugin
// (completion and its shells excepted; `options` itself, which prints the
// global flags) and compares the texts, in command
// order, with the golden file; update rewrites it.
func HelpGolden(t *testing.T, binary string, newCmd cli.NewCommand, golden string, update bool) {
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
	if update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("--help differs from %s (-want +got):\n%s", golden, diff)
	}
}
