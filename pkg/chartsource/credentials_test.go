package chartsource_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/registry"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ocisource"
)

// requireBasic serves h only to requests with the basic credentials
// user/pass, as a private chart repository does.
func requireBasic(user, pass string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
			// A careless server echoes what it was sent.
			http.Error(w, fmt.Sprintf("bad credentials %s:%s", u, p), http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func assertNoCanary(t *testing.T, what string, texts ...string) {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	for _, s := range texts {
		if strings.Contains(s, canary) || strings.Contains(s, b64) {
			t.Errorf("%s shows the password: %s", what, s)
		}
	}
}

func hasCanary(auths []string) bool {
	for _, a := range auths {
		if u, p, ok := (&http.Request{Header: http.Header{"Authorization": {a}}}).BasicAuth(); ok && (p == canary || u == canary) {
			return true
		}
	}
	return false
}

// A HelmRepository secretRef's credentials go to the repository's host
// only: not to a chart URL on another host, not on a redirect to another
// host, never in an error; with passCredentials they do go to the chart
// host, as Helm's passCredentialsAll.
func TestHTTPCredentialsStayWithTheirHost(t *testing.T) {
	// The chart host: serves the archives to anyone, records what it saw.
	dir := t.TempDir()
	packageChart(t, sealedSecretsChart(t), dir, "2.19.3")
	other := newServer(t, http.FileServer(http.Dir(dir)))

	t.Run("absolute chart URL on another host", func(t *testing.T) {
		writeIndex(t, dir, other.URL)
		idx := newServer(t, requireBasic("flux", canary, http.FileServer(http.Dir(dir))))
		other.reset()
		for _, pass := range []bool{false, true} {
			f := newFetcher(t, chartsource.Options{})
			c, err := f.FetchChart(context.Background(), chartsource.ChartRef{RepoURL: idx.URL, Chart: "sealed-secrets",
				Credentials: &chartsource.BasicAuth{Username: "flux", Password: canary}, PassCredentials: pass})
			if err != nil {
				t.Fatalf("passCredentials=%v: %v", pass, err)
			}
			assertNoCanary(t, "the result", fmt.Sprintf("%+v", c))
			if got := hasCanary(other.authorizations()); got != pass {
				t.Errorf("passCredentials=%v: the chart host received the credentials: %v", pass, got)
			}
		}
		if !hasCanary(idx.authorizations()) {
			t.Error("the repository host never received its credentials")
		}
	})

	t.Run("redirect to another host", func(t *testing.T) {
		writeIndex(t, dir, "")
		idx := newServer(t, requireBasic("flux", canary, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, ".tgz") {
				http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
				return
			}
			http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
		})))
		other.reset()
		f := newFetcher(t, chartsource.Options{})
		if _, _, err := f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: idx.URL, Chart: "sealed-secrets",
			Credentials: &chartsource.BasicAuth{Username: "flux", Password: canary}}); err != nil {
			t.Fatal(err)
		}
		if n := countSuffix(other.requests(), ".tgz"); n != 1 {
			t.Fatalf("the redirect target saw %d chart requests, want 1", n)
		}
		if auths := other.authorizations(); len(auths) != 0 {
			t.Errorf("the redirect target received Authorization headers %d times", len(auths))
		}
	})

	t.Run("wrong password: the error does not show it", func(t *testing.T) {
		idx := newServer(t, requireBasic("flux", "right", http.FileServer(http.Dir(dir))))
		f := newFetcher(t, chartsource.Options{})
		_, _, err := f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: idx.URL, Chart: "sealed-secrets",
			Credentials: &chartsource.BasicAuth{Username: "flux", Password: canary}, SourceKind: "HelmRepository", SourceNamespace: "flux-system", SourceName: "private"})
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err = %v, want a 401", err)
		}
		assertNoCanary(t, "the error", err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", chartsource.ChartRef{Credentials: &chartsource.BasicAuth{Password: canary}}))
	})

	t.Run("credentials in the URL are not shown", func(t *testing.T) {
		idx := newServer(t, http.NotFoundHandler())
		u := strings.Replace(idx.URL, "http://", "http://flux:"+canary+"@", 1)
		_, _, err := newFetcher(t, chartsource.Options{}).Fetch(context.Background(), chartsource.ChartRef{RepoURL: u, Chart: "sealed-secrets"})
		if err == nil {
			t.Fatal("want a 404")
		}
		assertNoCanary(t, "the error", err.Error())
	})
}

// recorder is a transport that answers every request without a network
// (404; or, when challenge is set, 401 asking for basic auth over http
// and no https at all): it shows what
// would have been sent to a host this test cannot reach.
type recorder struct {
	reqs      []*http.Request
	challenge bool
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.reqs = append(r.reqs, req)
	if r.challenge && req.URL.Scheme == "https" {
		return nil, errors.New("connection refused") // no TLS there: the client falls back to http
	}
	if r.challenge {
		return &http.Response{StatusCode: http.StatusUnauthorized, Status: "401 Unauthorized", Body: http.NoBody, Request: req,
			Header: http.Header{"Www-Authenticate": {`Basic realm="registry"`}}}, nil
	}
	return &http.Response{StatusCode: http.StatusNotFound, Status: "404 Not Found", Body: http.NoBody, Request: req}, nil
}

// Credentials never go over plain http to a host that is not a loopback
// address: the fetch fails instead, and nothing is sent.
func TestCredentialsNotOverPlainHTTP(t *testing.T) {
	rec := &recorder{}
	f := newFetcher(t, chartsource.Options{Transport: rec})
	_, _, err := f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: "http://charts.example.com/stable", Chart: "app",
		Credentials: &chartsource.BasicAuth{Username: "flux", Password: canary}})
	if err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("err = %v, want a refusal to send credentials over plain http", err)
	}
	assertNoCanary(t, "the error", err.Error())
	if len(rec.reqs) != 0 {
		t.Errorf("%d requests were sent", len(rec.reqs))
	}
	// Over https they are sent, to that host.
	_, _, err = f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: "https://charts.example.com/stable", Chart: "app",
		Credentials: &chartsource.BasicAuth{Username: "flux", Password: canary}})
	if err == nil || len(rec.reqs) != 1 {
		t.Fatalf("err = %v after %d requests, want one request answered 404", err, len(rec.reqs))
	}
	if u, p, _ := rec.reqs[0].BasicAuth(); u != "flux" || p != canary || rec.reqs[0].URL.Host != "charts.example.com" {
		t.Errorf("https request to %s carried %q/%q, want the credentials", rec.reqs[0].URL.Host, u, p)
	}
	assertNoCanary(t, "the error", err.Error())
}

// A registry on a private address, which the registry client speaks plain
// http to when https fails: it asks for credentials (a secretRef's, or the
// Docker config's) and gets a refusal instead.
func TestOCICredentialsNotOverPlainHTTP(t *testing.T) {
	for _, cred := range []*chartsource.BasicAuth{{Username: "flux", Password: canary}, nil} {
		rec := &recorder{challenge: true}
		kc := noKeychain{}
		opts := chartsource.Options{Transport: rec}
		if cred == nil {
			t.Setenv("HELM_REGISTRY_CONFIG", filepath.Join(t.TempDir(), "none.json"))
			dockerDir := t.TempDir()
			auth := base64.StdEncoding.EncodeToString([]byte("flux:" + canary))
			if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(`{"auths":{"10.1.2.3:5000":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("HOME", t.TempDir())
			t.Setenv("DOCKER_CONFIG", dockerDir)
		} else {
			opts.Keychain = kc
		}
		f, err := chartsource.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = f.Fetch(context.Background(), chartsource.ChartRef{RepoURL: "oci://10.1.2.3:5000/charts", Type: "oci", Chart: "app", Version: "1.0.0", Credentials: cred})
		if err == nil || !strings.Contains(err.Error(), "plain http") {
			t.Fatalf("credentials %v: err = %v, want a refusal to send credentials over plain http", cred != nil, err)
		}
		assertNoCanary(t, "the error", err.Error())
		for _, r := range rec.reqs {
			if r.Header.Get("Authorization") != "" {
				t.Errorf("credentials %v: %s %s was sent with an Authorization header", cred != nil, r.Method, r.URL)
			}
		}
	}
}

// privateRegistry is the in-process registry behind basic auth, whose blob
// downloads redirect to another host (as registries redirect to a CDN or
// object store); blobs records what that other host received.
func privateRegistry(t *testing.T, user, pass string) (reg, blobs *server, host string) {
	t.Helper()
	var inner http.Handler
	blobs = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.ServeHTTP(w, r) }))
	reg, host = ociRegistry(t, func(h http.Handler) http.Handler {
		inner = h
		return requireBasic(user, pass, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				http.Redirect(w, r, blobs.URL+r.URL.Path, http.StatusTemporaryRedirect)
				return
			}
			h.ServeHTTP(w, r)
		}))
	})
	return reg, blobs, host
}

// Registry credentials — a secretRef's, or from the Docker or Helm registry
// configuration — reach the registry and nothing else: not the host its
// blob downloads redirect to, not an error (even when the registry echoes
// them).
func TestOCICredentialsStayWithTheirHost(t *testing.T) {
	archives := packageChart(t, sealedSecretsChart(t), t.TempDir(), "2.19.3")
	authFile := func(t *testing.T, host, pass string) string {
		dir := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte("flux:" + pass))
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// isolate points every credential location at an empty directory.
	isolate := func(t *testing.T) {
		home := t.TempDir()
		for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "HELM_CONFIG_HOME"} {
			t.Setenv(k, home)
		}
		t.Setenv("REGISTRY_AUTH_FILE", "")
		t.Setenv("HELM_REGISTRY_CONFIG", filepath.Join(home, "none.json"))
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, host, pass string) *chartsource.BasicAuth
	}{
		{"secretRef", func(t *testing.T, host, pass string) *chartsource.BasicAuth {
			return &chartsource.BasicAuth{Username: "flux", Password: pass}
		}},
		{"DOCKER_CONFIG", func(t *testing.T, host, pass string) *chartsource.BasicAuth {
			t.Setenv("DOCKER_CONFIG", authFile(t, host, pass))
			return nil
		}},
		{"Helm registry config", func(t *testing.T, host, pass string) *chartsource.BasicAuth {
			t.Setenv("HELM_REGISTRY_CONFIG", filepath.Join(authFile(t, host, pass), "config.json"))
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			reg, blobs, host := privateRegistry(t, "flux", canary)
			helmPush(t, host, archives, registry.ClientOptBasicAuth("flux", canary))
			reg.reset()
			ref := chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "2.x",
				Credentials: tc.setup(t, host, canary)}
			f, err := chartsource.New(chartsource.Options{CacheDir: t.TempDir()}) // the default keychain
			if err != nil {
				t.Fatal(err)
			}
			c, err := f.FetchChart(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			assertNoCanary(t, "the result", fmt.Sprintf("%+v", c))
			if !hasCanary(reg.authorizations()) {
				t.Error("the registry never received the credentials")
			}
			if n := countSuffix(blobs.requests(), c.Digest); n != 1 {
				t.Errorf("the blob host served the chart %d times, want 1", n)
			}
			if auths := blobs.authorizations(); len(auths) != 0 {
				t.Errorf("the blob host received Authorization headers: %d", len(auths))
			}

			// The same credentials, wrong for another registry that echoes
			// them in its error: the error does not show them.
			_, _, wrong := privateRegistry(t, "flux", "right")
			ref.RepoURL = "oci://" + wrong + "/charts"
			ref.Credentials = tc.setup(t, wrong, canary)
			_, _, err = f.Fetch(context.Background(), ref)
			if err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(err.Error(), "UNAUTHORIZED") {
				t.Fatalf("err = %v, want unauthorized", err)
			}
			assertNoCanary(t, "the error", err.Error())
		})
	}
}

// The plugin may pass a function reading a source's secretRef instead of
// the credentials themselves: it is asked for the Secret the reference
// names, and not for a repository overridden elsewhere.
func TestCredentialsFromTheSourceObject(t *testing.T) {
	dir := t.TempDir()
	packageChart(t, sealedSecretsChart(t), dir, "2.19.3")
	writeIndex(t, dir, "")
	idx := newServer(t, requireBasic("flux", canary, http.FileServer(http.Dir(dir))))
	var asked []string
	creds := func(_ context.Context, ns, name string) (*chartsource.Credentials, error) {
		asked = append(asked, ns+"/"+name)
		return &chartsource.Credentials{Basic: &chartsource.BasicAuth{Username: "flux", Password: canary}}, nil
	}
	f := newFetcher(t, chartsource.Options{Credentials: creds, Override: overrides(map[string]string{"https://elsewhere.example/charts": dir})})
	ref := chartsource.ChartRef{RepoURL: idx.URL, Chart: "sealed-secrets", SourceKind: "HelmRepository", SourceNamespace: "flux-system", SourceName: "private",
		SecretName: "private-auth"}
	if _, _, err := f.Fetch(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != "flux-system/private-auth" {
		t.Errorf("credentials asked for %v, want flux-system/private-auth once", asked)
	}
	ref.RepoURL = "https://elsewhere.example/charts"
	if _, _, err := f.Fetch(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 {
		t.Errorf("credentials asked for an overridden repository: %v", asked)
	}
}

// A kubernetes.io/dockerconfigjson secretRef (HelmRepository type oci,
// OCIRepository): the registry gets its own entry's credentials; a
// registry the config has no entry for gets none of them (and refuses);
// a token realm on another host gets nothing; errors never show them.
func TestOCIDockerConfigSecret(t *testing.T) {
	home := t.TempDir()
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "HELM_CONFIG_HOME"} {
		t.Setenv(k, home)
	}
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("HELM_REGISTRY_CONFIG", filepath.Join(home, "none.json"))
	archives := packageChart(t, sealedSecretsChart(t), t.TempDir(), "2.19.3")
	reg, _, host := privateRegistry(t, "flux", canary)
	helmPush(t, host, archives, registry.ClientOptBasicAuth("flux", canary))
	reg.reset()
	other, _, otherHost := privateRegistry(t, "flux", "other-password")
	helmPush(t, otherHost, archives, registry.ClientOptBasicAuth("flux", "other-password"))
	other.reset()

	auth := base64.StdEncoding.EncodeToString([]byte("flux:" + canary))
	config := []byte(`{"auths":{"` + host + `":{"auth":"` + auth + `"},"registry.example.com":{"username":"flux","password":"` + canary + `"}}}`)
	var asked []string
	f := newFetcher(t, chartsource.Options{Credentials: func(_ context.Context, ns, name string) (*chartsource.Credentials, error) {
		asked = append(asked, ns+"/"+name)
		return &chartsource.Credentials{DockerConfig: &chartsource.DockerConfig{JSON: config}}, nil
	}})
	ref := chartsource.ChartRef{RepoURL: "oci://" + host + "/charts", Type: "oci", Chart: "sealed-secrets", Version: "2.x",
		SourceKind: "HelmRepository", SourceNamespace: "flux-system", SourceName: "private", SecretName: "regcred"}
	c, err := f.FetchChart(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, "the result", fmt.Sprintf("%+v %#v", c, ref))
	if !hasCanary(reg.authorizations()) || len(asked) != 1 || asked[0] != "flux-system/regcred" {
		t.Errorf("the registry never received its entry's credentials (Secret asked for: %v)", asked)
	}

	// The OCIRepository of another registry with the same Secret: no
	// entry, no credentials.
	ref = chartsource.ChartRef{RepoURL: "oci://" + otherHost + "/charts/sealed-secrets", Type: "oci", Tag: "2.19.3",
		SourceKind: "OCIRepository", SourceNamespace: "flux-system", SourceName: "other", SecretName: "regcred"}
	_, err = f.FetchChart(context.Background(), ref)
	if err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Fatalf("err = %v, want unauthorized", err)
	}
	assertNoCanary(t, "the error", err.Error())
	if auths := other.authorizations(); hasCanary(auths) {
		t.Errorf("another registry received the credentials")
	}

	// A registry whose token realm is on another host: refused before
	// the credentials are sent there.
	realmSrv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) }))
	tokenReg := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+strings.Replace(realmSrv.URL, "127.0.0.1", "localhost", 1)+`/token",service="registry"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
	}))
	tokenHost := strings.TrimPrefix(tokenReg.URL, "http://")
	tokenConfig := []byte(`{"auths":{"` + tokenHost + `":{"auth":"` + auth + `"}}}`)
	f = newFetcher(t, chartsource.Options{})
	_, err = f.FetchChart(context.Background(), chartsource.ChartRef{RepoURL: "oci://" + tokenHost + "/charts/app", Type: "oci", Tag: "1.0.0",
		DockerConfig: &chartsource.DockerConfig{JSON: tokenConfig}})
	if !errors.Is(err, ocisource.ErrCredentialsElsewhere) {
		t.Errorf("err = %v, want ErrCredentialsElsewhere", err)
	}
	if hasCanary(realmSrv.authorizations()) {
		t.Error("the token realm on another host received the credentials")
	}
}
