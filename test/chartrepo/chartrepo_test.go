package chartrepo_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/chartrepo"
)

// TestServe packages the real sealed-secrets chart at two versions, serves
// them by HTTP (the index lists both, with their archives' digests, and
// serves the archives) and pushes one to the in-process registry.
func TestServe(t *testing.T) {
	src, err := chartrepo.ModuleChart(chartrepo.SealedSecrets)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "repo")
	var archives []string
	for _, v := range []string{"1.0.0", "1.1.0"} {
		a, err := chartrepo.Package(src, dir, v)
		if err != nil {
			t.Fatal(err)
		}
		if want := "sealed-secrets-" + v + ".tgz"; filepath.Base(a) != want {
			t.Errorf("archive %s, want %s", a, want)
		}
		archives = append(archives, a)
	}
	srv, err := chartrepo.ServeHTTP(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		return string(body)
	}
	index := get(srv.URL + "/index.yaml")
	for _, want := range []string{"version: 1.0.0", "version: 1.1.0", "- sealed-secrets-1.1.0.tgz", "digest: "} {
		if !strings.Contains(index, want) {
			t.Errorf("the index has no %q:\n%s", want, index)
		}
	}
	if got := get(srv.URL + "/sealed-secrets-1.1.0.tgz"); len(got) < 1000 {
		t.Errorf("the archive served is %d bytes", len(got))
	}

	reg, err := chartrepo.ServeOCI()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Close() }()
	ref, digest, err := chartrepo.Push(reg.Host(), "charts", archives[1], filepath.Join(t.TempDir(), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ref != reg.Host()+"/charts/sealed-secrets" || !strings.HasPrefix(digest, "sha256:") {
		t.Errorf("pushed %s @ %s", ref, digest)
	}
	if tags := get(reg.URL + "/v2/charts/sealed-secrets/tags/list"); !strings.Contains(tags, `"1.1.0"`) {
		t.Errorf("the registry's tags: %s", tags)
	}
}

// TestRecorder: Serve behind a Recorder sees every request's path and
// Authorization header, in order, until Reset.
func TestRecorder(t *testing.T) {
	var rec chartrepo.Recorder
	srv, err := chartrepo.Serve(rec.Wrap(http.NotFoundHandler()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	do := func(path, auth string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	do("/index.yaml", "Basic abc")
	do("/a.tgz", "")
	paths, auths := rec.Requests()
	if strings.Join(paths, ",") != "/index.yaml,/a.tgz" || strings.Join(auths, ",") != "Basic abc," {
		t.Errorf("recorded %q %q", paths, auths)
	}
	rec.Reset()
	if p, a := rec.Requests(); len(p)+len(a) != 0 {
		t.Errorf("after Reset: %q %q", p, a)
	}
}
