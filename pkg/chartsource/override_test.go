package chartsource_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/desired"
)

// overrides maps URLs as --repo-override does (exact match here; drift
// passes desired.OverrideURL).
func overrides(m map[string]string) func(string) string {
	return func(u string) string {
		if to, ok := m[u]; ok {
			return to
		}
		return u
	}
}

// An unreachable chart repository or registry mapped to a local directory
// (a copy of a repository with its index.yaml, or loose archives and
// unpacked charts) is read from there, with no network; or mapped to
// another repository URL.
func TestOverrideToLocalDirectory(t *testing.T) {
	src := sealedSecretsChart(t)
	indexed := t.TempDir()
	packageChart(t, src, indexed, "2.19.3", "3.0.0")
	writeIndex(t, indexed, "")

	loose := t.TempDir()
	packageChart(t, src, loose, "2.19.3")
	unpacked, err := loader.LoadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	unpacked.Metadata.Version = "2.20.0"
	if err := chartutil.SaveDir(unpacked, loose); err != nil {
		t.Fatal(err)
	}

	unreachable := &recorder{} // any request is a failure of this test
	f := newFetcher(t, chartsource.Options{Transport: unreachable, Override: overrides(map[string]string{
		"https://charts.internal.example/stable":      indexed,
		"https://charts.internal.example/file":        "file://" + indexed,
		"oci://registry.internal.example/charts":      loose,
		"oci://registry.internal.example/charts/seal": filepath.Join(loose, "sealed-secrets"),
	})})
	tests := []struct {
		name     string
		ref      chartsource.ChartRef
		want     string
		wantPath string
	}{
		{"HTTP repository to a directory with an index", chartsource.ChartRef{RepoURL: "https://charts.internal.example/stable", Chart: "sealed-secrets", Version: "2.x"},
			"2.19.3", filepath.Join(indexed, "sealed-secrets-2.19.3.tgz")},
		{"file:// URL, latest stable", chartsource.ChartRef{RepoURL: "https://charts.internal.example/file", Chart: "sealed-secrets"},
			"3.0.0", filepath.Join(indexed, "sealed-secrets-3.0.0.tgz")},
		{"OCI HelmRepository to loose charts: the unpacked one is highest", chartsource.ChartRef{RepoURL: "oci://registry.internal.example/charts", Type: "oci", Chart: "sealed-secrets"},
			"2.20.0", filepath.Join(loose, "sealed-secrets")},
		{"OCI HelmRepository to loose charts: an archive", chartsource.ChartRef{RepoURL: "oci://registry.internal.example/charts", Type: "oci", Chart: "sealed-secrets", Version: "~2.19.0"},
			"2.19.3", filepath.Join(loose, "sealed-secrets-2.19.3.tgz")},
		{"OCIRepository to an unpacked chart", chartsource.ChartRef{RepoURL: "oci://registry.internal.example/charts/seal", Semver: ">=2.0.0"},
			"2.20.0", filepath.Join(loose, "sealed-secrets")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.FetchChart(context.Background(), tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if n, v := chartVersion(t, c.Path); n != "sealed-secrets" || v != tt.want || c.Path != tt.wantPath {
				t.Errorf("fetched %s %s at %s, want sealed-secrets %s at %s", n, v, c.Path, tt.want, tt.wantPath)
			}
			if !strings.HasPrefix(c.Digest, "sha256:") || len(c.Digest) != 71 {
				t.Errorf("digest %q", c.Digest)
			}
		})
	}
	if len(unreachable.reqs) != 0 {
		t.Errorf("%d network requests with every repository overridden to a directory", len(unreachable.reqs))
	}

	t.Run("to another repository URL", func(t *testing.T) {
		srv, _ := chartRepo(t, false, "2.19.3")
		f := newFetcher(t, chartsource.Options{Override: overrides(map[string]string{"https://charts.internal.example/stable": srv.URL})})
		c, err := f.FetchChart(context.Background(), chartsource.ChartRef{RepoURL: "https://charts.internal.example/stable", Chart: "sealed-secrets",
			Credentials: &chartsource.BasicAuth{Username: "flux", Password: canary}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != "2.19.3" {
			t.Errorf("fetched %s", c.Version)
		}
		if len(srv.authorizations()) != 0 {
			t.Error("the original repository's credentials went to the override")
		}
	})
}

// A hostile index in an override directory cannot name a file outside it
// nor a network URL.
func TestOverrideDirectoryIndexStaysInside(t *testing.T) {
	outside := t.TempDir()
	packageChart(t, sealedSecretsChart(t), outside, "1.0.0")
	for name, u := range map[string]string{
		"parent":   "../" + filepath.Base(outside) + "/sealed-secrets-1.0.0.tgz",
		"absolute": filepath.Join(outside, "sealed-secrets-1.0.0.tgz"),
		"file URL": "file://" + filepath.Join(outside, "sealed-secrets-1.0.0.tgz"),
		"network":  "https://charts.example.com/sealed-secrets-1.0.0.tgz",
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(filepath.Dir(outside), "repo-"+strings.ReplaceAll(name, " ", "-"))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			index := "apiVersion: v1\nentries:\n  sealed-secrets:\n  - name: sealed-secrets\n    version: 1.0.0\n    apiVersion: v2\n    urls: [\"" + u + "\"]\n"
			if err := os.WriteFile(filepath.Join(dir, "index.yaml"), []byte(index), 0o644); err != nil {
				t.Fatal(err)
			}
			f := newFetcher(t, chartsource.Options{Transport: &recorder{}, Override: overrides(map[string]string{"https://x.example/": dir})})
			c, err := f.FetchChart(context.Background(), chartsource.ChartRef{RepoURL: "https://x.example/", Chart: "sealed-secrets"})
			if err == nil {
				t.Fatalf("fetched %s from outside the override directory", c.Path)
			}
			if !strings.Contains(err.Error(), "leaves the override directory") && !strings.Contains(err.Error(), "is not relative") {
				t.Fatalf("err = %v, want the URL refused as outside the directory", err)
			}
		})
	}
}

// drift's --repo-override values (desired.OverrideURL, the function drift
// passes as Options.Override) map chart repository and registry URLs too:
// exactly, or every URL under a prefix ending in "/".
func TestOverrideWithDriftRepoOverrideFlags(t *testing.T) {
	dir := t.TempDir()
	packageChart(t, sealedSecretsChart(t), dir, "2.19.3")
	flags := []string{
		"https://charts.internal.example/stable=" + dir,
		"oci://registry.internal.example/=file://" + filepath.Dir(dir) + "/",
	}
	f := newFetcher(t, chartsource.Options{Transport: &recorder{}, Override: func(u string) string { return desired.OverrideURL(flags, u) }})
	for _, ref := range []chartsource.ChartRef{
		{RepoURL: "https://charts.internal.example/stable/", Chart: "sealed-secrets"},
		{RepoURL: "oci://registry.internal.example/" + filepath.Base(dir), Type: "oci", Chart: "sealed-secrets"},
	} {
		c, err := f.FetchChart(context.Background(), ref)
		if err != nil {
			t.Fatalf("%s: %v", ref.RepoURL, err)
		}
		if want := filepath.Join(dir, "sealed-secrets-2.19.3.tgz"); c.Path != want {
			t.Errorf("%s: fetched %s, want %s", ref.RepoURL, c.Path, want)
		}
	}
}
