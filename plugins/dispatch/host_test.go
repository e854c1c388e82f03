package dispatch

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseName(t *testing.T) {
	tests := []struct{ argv0, host, verb string }{
		{"kubectl-gitops", "kubectl", ""},
		{"/usr/local/bin/kubectl-gitops", "kubectl", ""},
		{"kubectl-gitops-drift", "kubectl", "drift"},
		{"flux-gitops", "flux", ""},
		{"/home/u/.fluxcd/plugins/flux-gitops", "flux", ""},
		{"flux-gitops-seal", "flux", "seal"},
		{"argocd-gitops", "argocd", ""},
		{"/usr/local/bin/argocd-gitops", "argocd", ""},
		{"argocd-gitops-promote.EXE", "argocd", "promote"},
		{"flux-gitops.exe", "flux", ""},
		{"gitops", "kubectl", ""},
		{"flux-gitops-", "kubectl", ""},
		{"kubectl-gitops.test", "kubectl", ""},
	}
	for _, tt := range tests {
		host, verb := ParseName(filepath.FromSlash(tt.argv0))
		if host != tt.host || verb != tt.verb {
			t.Errorf("ParseName(%q) = %q, %q; want %q, %q", tt.argv0, host, verb, tt.host, tt.verb)
		}
	}
}

// argvRecorder stands in for Exec and records the argv a verb was run with.
func argvRecorder(got *[][]string) func(string, []string) (int, error) {
	return func(_ string, argv []string) (int, error) {
		*got = append(*got, argv)
		return 0, nil
	}
}

// Under Flux or Argo CD the dispatcher names its host in messages and passes
// it to the verb as argv[0], so the verb's usage lines and hints read
// "flux gitops drift …".
func TestRunUnderHost(t *testing.T) {
	for _, host := range []string{"flux", "argocd"} {
		t.Run(host, func(t *testing.T) {
			f := newFixture(t)
			writeVerb(t, f.own, "kubectl-gitops-drift", "drift", 0)
			f.d.Host = host
			var got [][]string
			f.d.Exec = argvRecorder(&got)
			f.d.Run([]string{"drift", "--help"})
			f.d.Run([]string{"__complete", "drift", "--cont"})
			want := [][]string{{host + "-gitops-drift", "--help"}, {host + "-gitops-drift", "__complete", "--cont"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("verb argv (-want +got):\n%s", diff)
			}

			f.d.Run([]string{"frobnicate"})
			f.d.Run(nil)
			for _, w := range []string{`unknown verb "frob…" for "` + host + ` gitops"`, "See '" + host + " gitops --help' for usage."} {
				if !strings.Contains(f.errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, f.errOut.String())
				}
			}
			for _, w := range []string{"  " + host + " gitops VERB [flags]", "Run '" + host + " gitops VERB --help'"} {
				if !strings.Contains(f.out.String(), w) {
					t.Errorf("usage lacks %q:\n%s", w, f.out.String())
				}
			}
			// The completion scripts are for the command kubectl-gitops: the
			// usage points at the host's own completion instead.
			if strings.Contains(f.out.String(), "gitops completion") || !strings.Contains(f.out.String(), completionHint[host]) {
				t.Errorf("usage under %s offers the kubectl-gitops completion scripts, or lacks %q:\n%s", host, completionHint[host], f.out.String())
			}
			if strings.Contains(f.out.String()+f.errOut.String(), "kubectl gitops") {
				t.Errorf("output names kubectl under %s:\n%s%s", host, f.out.String(), f.errOut.String())
			}
		})
	}
}

// A multicall binary's builtin verbs run in process, come before binaries on
// disk and are listed and completed like them.
func TestRunBuiltin(t *testing.T) {
	f := newFixture(t)
	writeVerb(t, f.own, "kubectl-gitops-drift", "drift-on-disk", 0)
	var got [][]string
	f.d.Host = "argocd"
	f.d.Builtin = map[string]func([]string) int{
		"drift": func(argv []string) int { got = append(got, argv); return 3 },
	}
	f.d.Exec = func(string, []string) (int, error) { t.Error("a builtin verb was run from disk"); return 0, nil }
	if code := f.d.Run([]string{"drift", "-o", "json"}); code != 3 {
		t.Errorf("exit %d, want the verb's 3", code)
	}
	f.d.Run([]string{"__complete", "drift", "--o"})
	want := [][]string{{"argocd-gitops-drift", "-o", "json"}, {"argocd-gitops-drift", "__complete", "--o"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("builtin argv (-want +got):\n%s", diff)
	}

	f.out.Reset()
	f.d.Builtin["seal"] = func([]string) int { return 0 }
	f.d.Run([]string{"__completeNoDesc", "s"})
	if got, want := f.out.String(), "seal\n:4\n"; got != want {
		t.Errorf("completion: got %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"drift", "seal"}, f.d.Verbs()); diff != "" {
		t.Errorf("Verbs (-want +got):\n%s", diff)
	}
}

// MainWith runs the verb a binary's name selects (a copy or symlink of the
// multicall binary named after a verb).
func TestMainWithSelectsVerbByName(t *testing.T) {
	var got []string
	builtin := map[string]func([]string) int{
		"tenant": func(argv []string) int { got = argv; return 5 },
	}
	if code := MainWith([]string{"/opt/bin/flux-gitops-tenant", "verify"}, builtin); code != 5 {
		t.Errorf("exit %d, want the verb's 5", code)
	}
	if diff := cmp.Diff([]string{"/opt/bin/flux-gitops-tenant", "verify"}, got); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
}
