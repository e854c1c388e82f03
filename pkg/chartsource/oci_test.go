package chartsource_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// A real chart pushed to an in-process registry by Helm's own push code is
// fetched through a HelmRepository of type oci (a tag, or a range over the
// tags) and through an OCIRepository (tag, semver, digest).
func TestOCIFetchesChartsPushedByHelm(t *testing.T) {
	dir := t.TempDir()
	archives := packageChart(t, sealedSecretsChart(t), dir, "2.19.3", "2.20.0-rc.1", "3.0.0", "3.0.1+build.7")
	reg, host := ociRegistry(t, nil)
	manifests := helmPush(t, host, archives)

	f := newFetcher(t, chartsource.Options{})
	tests := []struct {
		name string
		ref  chartsource.ChartRef
		want string
	}{
		{"HelmRepository exact", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "2.19.3"}, "2.19.3"},
		{"HelmRepository latest stable", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets"}, "3.0.1+build.7"},
		{"HelmRepository x range", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "2.x"}, "2.19.3"},
		{"HelmRepository prerelease range", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: ">=2.20.0-alpha <3"}, "2.20.0-rc.1"},
		{"HelmRepository build metadata", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "3.0.1+build.7"}, "3.0.1+build.7"},
		{"OCIRepository tag", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts/sealed-secrets", Tag: "3.0.0"}, "3.0.0"},
		{"OCIRepository semver", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts/sealed-secrets", Semver: "~2.19"}, "2.19.3"},
		{"OCIRepository digest", chartsource.ChartRef{RepoURL: "oci://" + host + "/charts/sealed-secrets", Digest: manifests["2.20.0-rc.1"], Tag: "3.0.0"}, "2.20.0-rc.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.FetchChart(context.Background(), tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if n, v := chartVersion(t, c.Path); n != "sealed-secrets" || v != tt.want {
				t.Errorf("fetched %s %s, want sealed-secrets %s", n, v, tt.want)
			}
			if want := fileDigest(t, filepath.Join(dir, "sealed-secrets-"+tt.want+".tgz")); c.Digest != want {
				t.Errorf("digest %s, want the pushed archive's %s", c.Digest, want)
			}
			if c.ManifestDigest != manifests[tt.want] {
				t.Errorf("manifest digest %s, want %s", c.ManifestDigest, manifests[tt.want])
			}
		})
	}

	t.Run("a second fetch of an exact version or a digest makes no request", func(t *testing.T) {
		cache := t.TempDir()
		for _, ref := range []chartsource.ChartRef{tests[0].ref, tests[7].ref} {
			if _, _, err := newFetcher(t, chartsource.Options{CacheDir: cache}).Fetch(context.Background(), ref); err != nil {
				t.Fatal(err)
			}
			reg.reset()
			c, err := newFetcher(t, chartsource.Options{CacheDir: cache}).FetchChart(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := reg.requests(); len(got) != 0 || !c.Cached {
				t.Errorf("%+v: second fetch made requests %v (Cached=%v), want none", ref, got, c.Cached)
			}
		}
	})
}

// Registry responses are untrusted: the chart layer's digest is checked, a
// layer or tag list over the limits is refused, a manifest without a chart
// layer is not a chart.
func TestOCIHostileRegistry(t *testing.T) {
	dir := t.TempDir()
	archives := packageChart(t, sealedSecretsChart(t), dir, "1.0.0", "1.1.0", "1.2.0")
	t.Run("layer content does not match its digest", func(t *testing.T) {
		// A registry that serves another chart's bytes for a blob.
		other := packageChart(t, sealedSecretsChart(t), t.TempDir(), "9.9.9")[0]
		evil, err := os.ReadFile(other)
		if err != nil {
			t.Fatal(err)
		}
		var lie bool
		_, host := ociRegistry(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if lie && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
					_, _ = w.Write(evil)
					return
				}
				h.ServeHTTP(w, r)
			})
		})
		helmPush(t, host, archives[:1])
		lie = true
		cache := t.TempDir()
		_, _, err = newFetcher(t, chartsource.Options{CacheDir: cache}).Fetch(context.Background(),
			chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "1.0.0"})
		if err == nil {
			t.Fatal("a layer that does not match its digest was accepted")
		}
		if entries, _ := filepath.Glob(filepath.Join(cache, "sha256", "*")); len(entries) != 0 {
			t.Errorf("a refused layer was cached: %v", entries)
		}
	})
	t.Run("layer over the size limit", func(t *testing.T) {
		reg, host := ociRegistry(t, nil)
		helmPush(t, host, archives[:1])
		reg.reset()
		_, _, err := newFetcher(t, chartsource.Options{Limits: chartsource.Limits{ChartSize: 1000}}).Fetch(context.Background(),
			chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "1.0.0"})
		if err == nil || !strings.Contains(err.Error(), "limit of 1000") {
			t.Fatalf("err = %v, want the layer refused as too large", err)
		}
		if n := countSuffix(reg.requests(), "/blobs/"); n != 0 {
			t.Errorf("the oversized layer was requested")
		}
	})
	t.Run("more tags than the limit", func(t *testing.T) {
		_, host := ociRegistry(t, nil)
		helmPush(t, host, archives)
		_, _, err := newFetcher(t, chartsource.Options{Limits: chartsource.Limits{Tags: 2}}).Fetch(context.Background(),
			chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "1.x"})
		if err == nil || !strings.Contains(err.Error(), "limit of 2") {
			t.Fatalf("err = %v, want the tag list refused", err)
		}
	})
	t.Run("manifest over the response limit", func(t *testing.T) {
		_, host := ociRegistry(t, nil)
		helmPush(t, host, archives[:1])
		_, _, err := newFetcher(t, chartsource.Options{Limits: chartsource.Limits{Response: 100}}).Fetch(context.Background(),
			chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "1.0.0"})
		if err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
			t.Fatalf("err = %v, want the manifest refused as too large", err)
		}
	})
	t.Run("a digest that is not sha256 hex", func(t *testing.T) {
		_, _, err := newFetcher(t, chartsource.Options{}).Fetch(context.Background(),
			chartsource.ChartRef{RepoURL: "oci://127.0.0.1:1/charts/x", Digest: "sha256:../../etc/passwd"})
		if err == nil || !strings.Contains(err.Error(), "invalid sha256 digest") {
			t.Fatalf("err = %v, want the digest refused", err)
		}
	})
}

// The real helm CLI (v4.3.2, built from the module proxy) pushes a chart
// to the in-process registry; the fetcher reads it back.
func TestOCIChartPushedByHelmCLI(t *testing.T) {
	helm := peertools.Require(t, peertools.Helm, "helm")
	dir := t.TempDir()
	archive := packageChart(t, sealedSecretsChart(t), dir, "2.19.3")[0]
	_, host := ociRegistry(t, nil)
	home := t.TempDir()
	cmd := exec.Command(helm, "push", archive, "oci://"+host+"/charts", "--plain-http")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home, "XDG_DATA_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm push: %v\n%s", err, out)
	}
	c, err := newFetcher(t, chartsource.Options{}).FetchChart(context.Background(),
		chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "2.x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest != fileDigest(t, archive) || c.Version != "2.19.3" {
		t.Errorf("fetched %s %s, want the pushed archive %s", c.Version, c.Digest, fileDigest(t, archive))
	}
}
