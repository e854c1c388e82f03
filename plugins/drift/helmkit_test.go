package drift

import (
	"path/filepath"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/chartrepo"
)

// isolateHelm points Helm's cache and the Docker and Helm registry
// credential files into tmp, so a test neither reads nor writes the user's.
func isolateHelm(t *testing.T, tmp string) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(tmp, "docker"))
	t.Setenv("HELM_REGISTRY_CONFIG", filepath.Join(tmp, "helm-registry.json"))
}

// serveSealedSecrets isolates Helm in tmp (isolateHelm) and serves the
// real sealed-secrets chart, packaged into tmp/repo, from an HTTP chart
// repository closed at the end of the test: the chart's source directory,
// its archive and the server.
func serveSealedSecrets(t *testing.T, tmp string) (src, archive string, srv *chartrepo.Server) {
	t.Helper()
	isolateHelm(t, tmp)
	src, err := chartrepo.ModuleChart(chartrepo.SealedSecrets)
	if err != nil {
		t.Fatal(err)
	}
	archive, err = chartrepo.Package(src, filepath.Join(tmp, "repo"), "")
	if err != nil {
		t.Fatal(err)
	}
	srv, err = chartrepo.ServeHTTP(filepath.Join(tmp, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return src, archive, srv
}
