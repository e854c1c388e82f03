package desired

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

type fakeCharts struct {
	got  ChartRef
	path string
	err  error
}

func (f *fakeCharts) Fetch(_ context.Context, ref ChartRef) (string, string, error) {
	f.got = ref
	return f.path, "sha256:abc", f.err
}

func helmOp(kind string) *gitopsapi.Source {
	return &gitopsapi.Source{Operator: gitopsapi.Flux, Kind: "HelmRelease", Namespace: "apps", Name: "web",
		Tracking: gitopsapi.Tracking{Method: "labels", Instance: "apps/web"}, DefaultNamespace: "prod",
		Helm: &gitopsapi.HelmRelease{ReleaseName: "web", ReleaseNamespace: "prod", StorageNamespace: "apps",
			Chart: gitopsapi.HelmChartRef{SourceKind: kind, SourceNamespace: "flux-system", SourceName: "charts", Chart: "web", Version: "1.x", URL: "oci://ghcr.io/org/charts"}}}
}

// TestHelmReleaseChartSources: a HelmRelease whose chart comes from a
// HelmRepository or OCIRepository is an error of its source when no
// fetcher is wired — never in sync — and is fetched through the
// ChartFetcher when one is; with no renderer, it is an error too.
func TestHelmReleaseChartSources(t *testing.T) {
	t.Parallel()
	namespaced := func(*unstructured.Unstructured) bool { return true }
	var rendered string
	render := func(_ context.Context, _ *gitopsapi.Source, chartPath, root string) (*HelmRender, error) {
		rendered = chartPath + "|" + root
		obj := &unstructured.Unstructured{}
		obj.SetAPIVersion("v1")
		obj.SetKind("ConfigMap")
		obj.SetName("web")
		return &HelmRender{Set: &manifest.Set{Objects: []manifest.Object{{Obj: obj, Source: manifest.Source{File: "web/templates/cm.yaml"}}}}, SecretValues: []string{"s3cr3t-value"}}, nil
	}
	for _, kind := range []string{"HelmRepository", "OCIRepository"} {
		s := NewFetcher(Options{Helm: render}).Operator(context.Background(), helmOp(kind), false, namespaced)
		if !s.SkipIsError || !strings.Contains(s.Skip, "chart from "+kind+" flux-system/charts: fetching not available yet") || len(s.Desired) != 0 {
			t.Errorf("%s without a fetcher: skip %q (error %v), %d objects", kind, s.Skip, s.SkipIsError, len(s.Desired))
		}
		if s.Type != TypeHelmRelease || s.Name != "helmrelease/apps/web" {
			t.Errorf("%s: type %q name %q", kind, s.Type, s.Name)
		}
	}
	charts := &fakeCharts{path: "/cache/web-1.2.0.tgz"}
	s := NewFetcher(Options{Helm: render, Charts: charts}).Operator(context.Background(), helmOp("OCIRepository"), true, namespaced)
	if s.Skip != "" || len(s.Desired) != 1 || rendered != "/cache/web-1.2.0.tgz|" {
		t.Fatalf("with a fetcher: skip %q, %d objects, rendered %q", s.Skip, len(s.Desired), rendered)
	}
	if want := (ChartRef{SourceKind: "OCIRepository", SourceNamespace: "flux-system", SourceName: "charts", URL: "oci://ghcr.io/org/charts", Chart: "web", Version: "1.x"}); charts.got.URL != want.URL || charts.got.Chart != want.Chart || charts.got.SourceName != want.SourceName || charts.got.Version != want.Version {
		t.Errorf("fetched %+v, want %+v", charts.got, want)
	}
	if s.Origin.Commit != "sha256:abc" || loaded(t, s.Desired[0]).GetNamespace() != "prod" || s.Desired[0].Source != "web/templates/cm.yaml" {
		t.Errorf("origin %+v, object namespace %q, source %q", s.Origin, loaded(t, s.Desired[0]).GetNamespace(), s.Desired[0].Source)
	}
	if len(s.SecretValues) != 1 {
		t.Errorf("secret values not carried: %v", s.SecretValues)
	}
	charts.err = errors.New("registry unreachable")
	if s := NewFetcher(Options{Helm: render, Charts: charts}).Operator(context.Background(), helmOp("HelmRepository"), false, namespaced); !s.SkipIsError || !strings.Contains(s.Skip, "registry unreachable") {
		t.Errorf("fetch error: skip %q", s.Skip)
	}
	if s := NewFetcher(Options{}).Operator(context.Background(), helmOp("OCIRepository"), false, namespaced); !s.SkipIsError || !strings.Contains(s.Skip, ErrNoHelm.Error()) {
		t.Errorf("no renderer: skip %q", s.Skip)
	}
}

// TestGitRepositorySecretRef: the Secret a GitRepository's spec.secretRef
// names is read for a Kustomization's repository and a HelmRelease chart's
// (and its credentials reach the fetch: gitsource refuses them over plain
// http to a host that is not a loopback address, naming the Secret); an overridden repository's Secret is
// not read; a Secret that cannot be read is a warning.
func TestGitRepositorySecretRef(t *testing.T) {
	t.Parallel()
	namespaced := func(*unstructured.Unstructured) bool { return true }
	const url = "http://git.example.com/fleet.git"
	kustomization := func() *gitopsapi.Source {
		return &gitopsapi.Source{Operator: gitopsapi.Flux, Kind: "Kustomization", Namespace: "apps", Name: "web", RepoURL: url, Revision: "main", Path: "deploy",
			Git: &gitopsapi.GitRepository{Namespace: "flux-system", Name: "fleet", URL: url, Revision: "main", SecretName: "git-auth"}}
	}
	helmGit := func() *gitopsapi.Source {
		op := helmOp("GitRepository")
		op.RepoURL, op.Revision, op.Path = url, "main", "charts/web"
		op.Helm.Chart.SourceName, op.Helm.Chart.SecretName = "fleet", "git-auth"
		return op
	}
	render := func(context.Context, *gitopsapi.Source, string, string) (*HelmRender, error) {
		return nil, errors.New("not rendered")
	}
	for name, op := range map[string]func() *gitopsapi.Source{"Kustomization": kustomization, "HelmRelease": helmGit} {
		var asked []string
		read := func(_ context.Context, ns, secret string) (map[string][]byte, error) {
			asked = append(asked, ns+"/"+secret)
			return map[string][]byte{"username": []byte("flux"), "password": []byte("canary-s3cr3t-7f3a")}, nil
		}
		s := NewFetcher(Options{Helm: render, ReadSecret: read}).Operator(context.Background(), op(), true, namespaced)
		if strings.Join(asked, ",") != "flux-system/git-auth" || !strings.Contains(s.Skip, "the credentials of Secret flux-system/git-auth are sent only over https (or http to a loopback address)") {
			t.Errorf("%s: Secret asked for %v, skip %q", name, asked, s.Skip)
		}
		if strings.Contains(s.Skip, "canary") || !slices.Contains(s.SecretValues, "canary-s3cr3t-7f3a") {
			t.Errorf("%s: skip %q, secret values %d", name, s.Skip, len(s.SecretValues))
		}
		asked = nil
		s = NewFetcher(Options{Helm: render, ReadSecret: read, RepoOverrides: []string{url + "=file:///nonexistent/mirror.git"}}).Operator(context.Background(), op(), true, namespaced)
		if len(asked) != 0 || strings.Contains(s.Skip, "credentials") {
			t.Errorf("%s overridden: Secret asked for %v, skip %q", name, asked, s.Skip)
		}
		unreadable := func(context.Context, string, string) (map[string][]byte, error) {
			return nil, errors.New(`secrets "git-auth" is forbidden`)
		}
		s = NewFetcher(Options{Helm: render, ReadSecret: unreadable}).Operator(context.Background(), op(), true, namespaced)
		if want := "the credentials of Secret flux-system/git-auth (spec.secretRef) are not used: secrets \"git-auth\" is forbidden; git uses your own configuration"; !slices.Contains(s.Warnings, want) || strings.Contains(s.Skip, "credentials") {
			t.Errorf("%s unreadable: warnings %q, skip %q", name, s.Warnings, s.Skip)
		}
	}
}

// TestSecretRefOfURLWithoutCredentials: for a repository URL that takes no
// credentials (file://, git://) nothing of the Secret would be sent, so a
// Secret drift cannot read (forbidden, not found) is no warning; one it
// reads still warns when it holds credentials that go unused.
func TestSecretRefOfURLWithoutCredentials(t *testing.T) {
	t.Parallel()
	namespaced := func(*unstructured.Unstructured) bool { return true }
	for _, url := range []string{"file:///nonexistent/fleet.git", "git://127.0.0.1:1/fleet.git"} {
		op := func() *gitopsapi.Source {
			return &gitopsapi.Source{Operator: gitopsapi.Flux, Kind: "Kustomization", Namespace: "apps", Name: "web", RepoURL: url, Revision: "main", Path: "deploy",
				Git: &gitopsapi.GitRepository{Namespace: "flux-system", Name: "fleet", URL: url, Revision: "main", SecretName: "git-auth"}}
		}
		for _, readErr := range []string{`secrets "git-auth" is forbidden`, `secrets "git-auth" not found`} {
			unreadable := func(context.Context, string, string) (map[string][]byte, error) { return nil, errors.New(readErr) }
			s := NewFetcher(Options{ReadSecret: unreadable}).Operator(context.Background(), op(), true, namespaced)
			for _, w := range s.Warnings {
				if strings.Contains(w, "git-auth") {
					t.Errorf("%s, %s: warning %q", url, readErr, w)
				}
			}
		}
		withCredentials := func(context.Context, string, string) (map[string][]byte, error) {
			return map[string][]byte{"username": []byte("flux"), "password": []byte("canary-s3cr3t-7f3a")}, nil
		}
		s := NewFetcher(Options{ReadSecret: withCredentials}).Operator(context.Background(), op(), true, namespaced)
		if want := "the credentials of Secret flux-system/git-auth (spec.secretRef) are not used: only http(s) and SSH repositories take credentials"; !slices.Contains(s.Warnings, want) {
			t.Errorf("%s, Secret with credentials: warnings %q", url, s.Warnings)
		}
		if strings.Contains(strings.Join(s.Warnings, "\n")+s.Skip, "canary") {
			t.Errorf("%s: a Secret value in warnings %q or skip %q", url, s.Warnings, s.Skip)
		}
	}
}
