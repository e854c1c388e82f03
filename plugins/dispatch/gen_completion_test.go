package dispatch

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// cobraScripts generates cobra's completion scripts for a command named
// kubectl-gitops: they drive completion through `kubectl-gitops __complete`,
// which the dispatcher implements without cobra.
func cobraScripts(t *testing.T) map[string][]byte {
	t.Helper()
	root := &cobra.Command{Use: "kubectl-gitops"}
	root.AddCommand(&cobra.Command{Use: "version", Run: func(*cobra.Command, []string) {}})
	out := map[string][]byte{}
	for shell, gen := range map[string]func(*bytes.Buffer) error{
		"bash":       func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
		"zsh":        func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		"fish":       func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
		"powershell": func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) },
	} {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			t.Fatal(err)
		}
		out[shell] = b.Bytes()
	}
	return out
}

// The embedded scripts are exactly what cobra generates (rewritten with
// go test ./plugins/dispatch -update after a cobra upgrade).
func TestEmbeddedCompletionScriptsAreCobras(t *testing.T) {
	for shell, want := range cobraScripts(t) {
		path := filepath.Join("completion", shell)
		if golden.Update() {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := completionFS.ReadFile("completion/" + shell)
		if err != nil {
			t.Fatalf("%s: %v", shell, err)
		}
		if !golden.Update() && !bytes.Equal(got, want) {
			t.Errorf("%s: embedded script differs from cobra's; run go test ./plugins/dispatch -update", shell)
		}
	}
}
