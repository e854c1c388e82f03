package ocisource

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/static"
)

// isolate keeps the user's docker config out of a test.
func isolate(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
}

// files lists the regular files under root with their contents.
func files(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func pull(t *testing.T, spec Spec) *Artifact {
	t.Helper()
	art, err := Pull(context.Background(), spec)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	t.Cleanup(func() { _ = art.Close() })
	return art
}

func TestPullResolvesRefsAsSourceController(t *testing.T) {
	isolate(t)
	host := startRegistry(t, nil)
	digests := map[string]string{}
	for _, tag := range []string{"1.0.0", "v1.2.0", "1.3.0-rc.1", "2.0.0", "v1.2", "1.2.1-rc.1", "latest"} {
		digests[tag] = pushArtifact(t, host, "app:"+tag, fluxLayer(t, file("version.yaml", "tag: "+tag+"\n")))
	}
	url := "oci://" + host + "/app"
	tests := []struct {
		name    string
		ref     Ref
		wantTag string
		wantRev string
	}{
		{"no ref is latest", Ref{}, "latest", "latest@" + digests["latest"]},
		{"tag", Ref{Tag: "2.0.0"}, "2.0.0", "2.0.0@" + digests["2.0.0"]},
		{"semver keeps the tag's spelling", Ref{Semver: ">=1.0.0 <2.0.0"}, "v1.2.0", "v1.2.0@" + digests["v1.2.0"]},
		{"semver over tag", Ref{Semver: "1.0.x", Tag: "2.0.0"}, "1.0.0", "1.0.0@" + digests["1.0.0"]},
		{"semverFilter", Ref{Semver: ">=1.0.0-0", SemverFilter: "-rc"}, "1.3.0-rc.1", "1.3.0-rc.1@" + digests["1.3.0-rc.1"]},
		{"no pre-release unless the range asks", Ref{Semver: ">=1.2.0 <1.3.0"}, "v1.2.0", "v1.2.0@" + digests["v1.2.0"]},
		{"pre-release when the range asks", Ref{Semver: ">=1.3.0-rc.0 <2.0.0"}, "1.3.0-rc.1", "1.3.0-rc.1@" + digests["1.3.0-rc.1"]},
		{"digest over everything", Ref{Digest: digests["1.0.0"], Semver: ">=1.0.0", Tag: "2.0.0"}, "1.0.0", digests["1.0.0"]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			art := pull(t, Spec{URL: url, Ref: tt.ref})
			if art.Revision != tt.wantRev {
				t.Errorf("Revision = %q, want %q", art.Revision, tt.wantRev)
			}
			if got := files(t, art.Root)["version.yaml"]; got != "tag: "+tt.wantTag+"\n" {
				t.Errorf("version.yaml = %q, want the artifact tagged %s", got, tt.wantTag)
			}
			if art.Annotations[RevisionAnnotation] != "main@sha1:0123456789abcdef0123456789abcdef01234567" {
				t.Errorf("annotations = %v", art.Annotations)
			}
		})
	}
	if _, err := Pull(context.Background(), Spec{URL: url, Ref: Ref{Semver: ">=3.0.0"}}); err == nil || !strings.Contains(err.Error(), "no match found for semver: >=3.0.0") {
		t.Errorf("semver without a match: err = %v", err)
	}
	if _, err := Pull(context.Background(), Spec{URL: url + ":v1"}); err == nil || !strings.Contains(err.Error(), "repository can only contain") {
		t.Errorf("URL with a tag: err = %v", err)
	}
}

func TestPullLayerSelectorAndIgnore(t *testing.T) {
	isolate(t)
	host := startRegistry(t, nil)
	other := static.NewLayer(tgz(t, file("other.yaml", "kind: Other\n")), "application/vnd.example.other.v1.tar+gzip")
	content := fluxLayer(t,
		file("deploy/app.yaml", "kind: ConfigMap\n"),
		file("deploy/extra.yaml", "kind: Extra\n"),
		file("deploy/.sops.yaml", "creation_rules: []\n"),
		file("deploy/logo.png", "png"),
		file(".sourceignore", "deploy/local.yaml\n"),
		file("deploy/local.yaml", "kind: Local\n"),
	)
	pushArtifact(t, host, "app:v1", other, content)
	url := "oci://" + host + "/app"
	ignore := "deploy/extra.yaml\n"
	tests := []struct {
		name string
		sel  LayerSelector
		want []string
	}{
		{"first layer by default", LayerSelector{}, []string{"other.yaml"}},
		{"extract applies source-controller's ignore rules", LayerSelector{MediaType: ContentMediaType},
			[]string{".sourceignore", "deploy/app.yaml"}},
		{"copy keeps the layer whole", LayerSelector{MediaType: ContentMediaType, Operation: OperationCopy},
			[]string{".sourceignore", "deploy/.sops.yaml", "deploy/app.yaml", "deploy/extra.yaml", "deploy/local.yaml", "deploy/logo.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			art := pull(t, Spec{URL: url, Ref: Ref{Tag: "v1"}, LayerSelector: tt.sel, Ignore: &ignore})
			var got []string
			for f := range files(t, art.Root) {
				got = append(got, f)
			}
			sort.Strings(got)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("files (-want +got):\n%s", d)
			}
		})
	}
	_, err := Pull(context.Background(), Spec{URL: url, Ref: Ref{Tag: "v1"}, LayerSelector: LayerSelector{MediaType: "application/x-none"}})
	if err == nil || !strings.Contains(err.Error(), "failed to find layer with media type 'application/x-none'") {
		t.Errorf("missing media type: err = %v", err)
	}
}

func TestPullRefusesUnsafeEntries(t *testing.T) {
	isolate(t)
	host := startRegistry(t, nil)
	link := func(name, target string, typ byte) entry {
		return entry{Header: tar.Header{Name: name, Linkname: target, Typeflag: typ, Mode: 0o777}}
	}
	tests := []struct {
		name  string
		entry entry
		op    string
		want  string
	}{
		{"dot-dot", file("../escape.yaml", "x"), "", `".." leaves the artifact`},
		{"dot-dot inside", file("deploy/../../escape.yaml", "x"), "", `".." leaves the artifact`},
		{"absolute", file("/tmp/escape.yaml", "x"), "", "absolute path"},
		{"symlink out", link("deploy/passwd", "../../etc/passwd", tar.TypeSymlink), "", "points outside the artifact"},
		{"absolute symlink", link("deploy/passwd", "/etc/passwd", tar.TypeSymlink), "", "points outside the artifact"},
		{"symlink out, copy", link("deploy/up", "../..", tar.TypeSymlink), OperationCopy, "points outside the artifact"},
		{"hard link", link("deploy/hard", "deploy/app.yaml", tar.TypeLink), "", "hard links are not supported"},
		{"device", entry{Header: tar.Header{Name: "deploy/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666}}, "", "devices and FIFOs are not allowed"},
		{"fifo", entry{Header: tar.Header{Name: "deploy/fifo", Typeflag: tar.TypeFifo, Mode: 0o666}}, "", "devices and FIFOs are not allowed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag := fmt.Sprintf("bad%d", i)
			pushArtifact(t, host, "app:"+tag, fluxLayer(t, file("deploy/app.yaml", "kind: ConfigMap\n"), tt.entry))
			tmp := t.TempDir()
			art, err := Pull(context.Background(), Spec{URL: "oci://" + host + "/app", Ref: Ref{Tag: tag}, LayerSelector: LayerSelector{Operation: tt.op}, TempDir: tmp})
			if err == nil {
				_ = art.Close()
				t.Fatal("Pull succeeded")
			}
			if !errors.Is(err, ErrUnsafeEntry) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrUnsafeEntry saying %q", err, tt.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left behind in the temporary directory: %v", left)
			}
			if _, err := os.Lstat(filepath.Join(filepath.Dir(tmp), "escape.yaml")); err == nil {
				t.Error("a file was written outside the artifact")
			}
		})
	}
	pushArtifact(t, host, "app:inner-link", fluxLayer(t, file("deploy/app.yaml", "kind: ConfigMap\n"), link("deploy/alias.yaml", "app.yaml", tar.TypeSymlink)))
	for _, op := range []string{OperationExtract, OperationCopy} {
		t.Run("symlink inside is skipped as Flux skips it, "+op, func(t *testing.T) {
			art := pull(t, Spec{URL: "oci://" + host + "/app", Ref: Ref{Tag: "inner-link"}, LayerSelector: LayerSelector{Operation: op}})
			if d := cmp.Diff(map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"}, files(t, art.Root)); d != "" {
				t.Errorf("files (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]string{"deploy/alias.yaml"}, art.SkippedLinks); d != "" {
				t.Errorf("SkippedLinks (-want +got):\n%s", d)
			}
		})
	}
}

func TestPullBoundsWhatTheRegistrySends(t *testing.T) {
	isolate(t)
	host := startRegistry(t, nil)
	url := "oci://" + host + "/app"
	big := strings.Repeat("a", 1<<20) // compresses to a few KiB
	pushArtifact(t, host, "app:bomb", fluxLayer(t, file("big.yaml", big)))
	for i := range 12 {
		pushArtifact(t, host, fmt.Sprintf("app:1.0.%d", i), fluxLayer(t, file("a.yaml", "a")))
	}
	tests := []struct {
		name   string
		ref    Ref
		limits Limits
		want   string
	}{
		{"manifest", Ref{Tag: "bomb"}, Limits{ManifestBytes: 64}, "exceeds the limit of 64"},
		{"layer", Ref{Tag: "bomb"}, Limits{LayerBytes: 512}, "exceeds the limit of 512"},
		{"unpacked", Ref{Tag: "bomb"}, Limits{UnpackedBytes: 64 << 10}, "the unpacked layer exceeds the limit of 65536 bytes"},
		{"tags", Ref{Semver: ">=1.0.0"}, Limits{Tags: 10}, "more than 10 tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Pull(context.Background(), Spec{URL: url, Ref: tt.ref, Limits: tt.limits})
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrTooLarge saying %q", err, tt.want)
			}
		})
	}
	if art := pull(t, Spec{URL: url, Ref: Ref{Tag: "bomb"}}); len(files(t, art.Root)["big.yaml"]) != len(big) {
		t.Error("the default limits refused a 1 MiB artifact")
	}
}

func TestPullEndsWithItsContext(t *testing.T) {
	isolate(t)
	started := make(chan struct{}, 1)
	var hang atomic.Bool
	host := startRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hang.Load() && strings.Contains(r.URL.Path, "/manifests/") {
				select {
				case started <- struct{}{}:
				default:
				}
				<-r.Context().Done() // a registry that never answers
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	pushArtifact(t, host, "app:v1", fluxLayer(t, file("a.yaml", "a")))
	hang.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := Pull(ctx, Spec{URL: "oci://" + host + "/app", Ref: Ref{Tag: "v1"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

const canary = "canary-s3cr3t-7f3a"

func dockerConfigFor(host, user, pass string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth))
}

// basicAuth lets through only requests with user:canary.
func basicAuth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "flux" || p != canary {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestPullCredentialsGoToTheirRegistryOnly(t *testing.T) {
	isolate(t)
	private := startRegistry(t, basicAuth)
	public := startRegistry(t, nil)
	var leaked atomic.Bool
	spy := startRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				leaked.Store(true)
			}
			h.ServeHTTP(w, r)
		})
	})
	// Push with the credentials, through the same guarded client.
	pushArtifact(t, public, "app:v1", fluxLayer(t, file("a.yaml", "public")))
	pushArtifact(t, spy, "app:v1", fluxLayer(t, file("a.yaml", "spy")))
	creds := dockerConfigFor(private, "flux", canary)

	t.Run("the registry named gets them", func(t *testing.T) {
		// The private registry holds nothing yet: pushing goes through
		// its auth too.
		pushPrivate(t, private)
		art := pull(t, Spec{URL: "oci://" + private + "/app", Ref: Ref{Tag: "v1"}, DockerConfigJSON: creds})
		if files(t, art.Root)["a.yaml"] != "private" {
			t.Error("pulled the wrong artifact")
		}
	})
	t.Run("another registry does not", func(t *testing.T) {
		art := pull(t, Spec{URL: "oci://" + spy + "/app", Ref: Ref{Tag: "v1"}, DockerConfigJSON: creds})
		if files(t, art.Root)["a.yaml"] != "spy" || leaked.Load() {
			t.Errorf("leaked = %v", leaked.Load())
		}
	})
	t.Run("wrong credentials fail without showing them", func(t *testing.T) {
		_, err := Pull(context.Background(), Spec{URL: "oci://" + private + "/app", Ref: Ref{Tag: "v1"}, DockerConfigJSON: dockerConfigFor(private, "flux", canary+"-wrong")})
		if err == nil || strings.Contains(err.Error(), canary) {
			t.Errorf("err = %v", err)
		}
		_, err = Pull(context.Background(), Spec{URL: "oci://" + private + "/app", DockerConfigJSON: []byte(`{"auths":` + canary)})
		if err == nil || strings.Contains(err.Error(), canary) {
			t.Errorf("invalid config: err = %v", err)
		}
	})
	t.Run("a token realm on another host gets nothing", func(t *testing.T) {
		var realmGotCreds atomic.Bool
		realm := startRegistry(t, func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				if r.Header.Get("Authorization") != "" || strings.Contains(r.Form.Encode(), canary) {
					realmGotCreds.Store(true)
				}
				_, _ = w.Write([]byte(`{"token":"t"}`))
			})
		})
		// localhost and 127.0.0.1 are different hosts to the client.
		realmURL := "http://localhost:" + strings.Split(realm, ":")[1] + "/token"
		hostile := startRegistry(t, func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realmURL+`",service="registry"`)
				http.Error(w, "{}", http.StatusUnauthorized)
			})
		})
		_, err := Pull(context.Background(), Spec{URL: "oci://" + hostile + "/app", Ref: Ref{Tag: "v1"}, DockerConfigJSON: dockerConfigFor(hostile, "flux", canary)})
		if !errors.Is(err, ErrCredentialsElsewhere) || strings.Contains(err.Error(), canary) {
			t.Errorf("err = %v, want ErrCredentialsElsewhere", err)
		}
		if realmGotCreds.Load() {
			t.Error("the token realm on another host received the credentials")
		}
	})
	t.Run("the user's docker config", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), creds, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", dir)
		art := pull(t, Spec{URL: "oci://" + private + "/app", Ref: Ref{Tag: "v1"}, UserDockerConfig: true})
		if files(t, art.Root)["a.yaml"] != "private" {
			t.Error("pulled the wrong artifact")
		}
	})
}

func TestPullProviders(t *testing.T) {
	for _, p := range []string{"aws", "azure", "gcp"} {
		_, err := Pull(context.Background(), Spec{URL: "oci://127.0.0.1:1/app", Provider: p})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "provider "+p) {
			t.Errorf("provider %s: err = %v", p, err)
		}
	}
}

// TestPullVerifiesTheLayerDigest: a registry serving other content under
// the layer's digest is an error, even when that content unpacks.
func TestPullVerifiesTheLayerDigest(t *testing.T) {
	isolate(t)
	swap := tgz(t, file("deploy/app.yaml", "kind: ConfigMap # swapped\n"))
	var layerDigest atomic.Value
	layerDigest.Store("")
	host := startRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if d := layerDigest.Load().(string); d != "" && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+d) {
				_, _ = w.Write(swap)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	l := fluxLayer(t, file("deploy/app.yaml", "kind: ConfigMap\n"))
	pushArtifact(t, host, "app:v1", l)
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	layerDigest.Store(d.String())
	tmp := t.TempDir()
	_, err = Pull(context.Background(), Spec{URL: "oci://" + host + "/app", Ref: Ref{Tag: "v1"}, TempDir: tmp})
	if err == nil || !strings.Contains(err.Error(), d.String()) {
		t.Errorf("err = %v, want a verification error naming %s", err, d)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestPullEndlessTagPages: a registry whose tag list never ends (empty
// pages, each pointing to the next) is stopped by the tag limit.
func TestPullEndlessTagPages(t *testing.T) {
	isolate(t)
	var pages atomic.Int64
	host := startRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/tags/list") {
				n := pages.Add(1)
				w.Header().Set("Link", fmt.Sprintf(`</v2/app/tags/list?n=100&last=page%d>; rel="next"`, n))
				_, _ = w.Write([]byte(`{"name":"app","tags":[]}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	_, err := Pull(context.Background(), Spec{URL: "oci://" + host + "/app", Ref: Ref{Semver: ">=1.0.0"}, Limits: Limits{Tags: 50}})
	if !errors.Is(err, ErrTooLarge) || pages.Load() > 51 {
		t.Errorf("err = %v after %d pages, want ErrTooLarge within 51", err, pages.Load())
	}
}

// TestRepositoryNeverQuotesCredentials: a URL with user information or a
// query is refused without quoting it (go-containerregistry's own messages
// would quote the password or the token).
func TestRepositoryNeverQuotesCredentials(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	for _, url := range []string{
		"oci://flux:" + canary + "@registry.example.com/app",
		"oci://" + canary + "@registry.example.com/app",
		"oci://registry.example.com/app?token=" + canary,
		"oci://registry.example.com/app#" + canary,
		"https://flux:" + canary + "@registry.example.com/app",
		"flux:" + canary + "@registry.example.com/app",
	} {
		_, err := Repository(url, false)
		if !errors.Is(err, ErrCredentialsInURL) || strings.Contains(err.Error(), canary) {
			t.Errorf("Repository(%q) = %v, want ErrCredentialsInURL without the secret", url, err)
		}
	}
	if _, err := Repository("oci://registry.example.com/fleet/app", false); err != nil {
		t.Errorf("a plain URL: %v", err)
	}
}
