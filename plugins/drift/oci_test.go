package drift

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/childproc"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

const ociCanary = "canary-s3cr3t-7f3a"

// ociRegistry starts go-containerregistry's registry on loopback (behind
// HTTP basic auth for flux:<ociCanary> when private) and returns its
// host:port.
func ociRegistry(t *testing.T, private bool) string {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if private {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "flux" || p != ociCanary {
				w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
				http.Error(w, "{}", http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// ociPush pushes a tar.gz of entries as `flux push artifact` does (OCI
// manifest, Flux's config and content media types and annotations) and
// returns the manifest digest.
func ociPush(t *testing.T, host, repoTag string, entries ...ociEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := e.Header
		if h.Typeflag == 0 {
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, int64(len(e.body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.cncf.flux.config.v1+json")
	img = mutate.Annotations(img, map[string]string{
		"org.opencontainers.image.created":  "2026-12-07T10:00:00Z",
		"org.opencontainers.image.source":   "https://github.com/example/fleet",
		"org.opencontainers.image.revision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
	}).(v1.Image)
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(buf.Bytes(), "application/vnd.cncf.flux.content.v1.tar+gzip")})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "flux", Password: ociCanary})); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

type ociEntry struct {
	tar.Header
	body string
}

func ociFile(name, body string) ociEntry { return ociEntry{Header: tar.Header{Name: name}, body: body} }

// ociWrite writes the entries' files under dir, as they would be unpacked.
func ociWrite(t *testing.T, dir string, entries ...ociEntry) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(dir, filepath.FromSlash(e.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(e.body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ociApp is the artifact's content: the Kustomization reads deploy/ (no
// kustomization file: kustomize-controller generates one), and its
// spec.ignore leaves deploy/scratch.yaml out.
func ociApp(color string) []ociEntry {
	return []ociEntry{
		ociFile("deploy/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  color: "+color+"\n"),
		ociFile("deploy/scratch.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scratch\n"),
		ociFile("README.md", "not a manifest\n"),
	}
}

// ociApplied is what kustomize-controller applies of ociApp("green").
const ociApplied = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  namespace: oci-shop
  labels: {kustomize.toolkit.fluxcd.io/name: app, kustomize.toolkit.fluxcd.io/namespace: oci-flux}
data:
  color: green
`

// ociObjects are the OCIRepository and the Kustomization; the registry
// URL the cluster knows is overridden to the test's registry.
func ociObjects(ref, extra string) string {
	return `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: app, namespace: oci-flux}
spec:
  interval: 5m
  url: oci://registry.example.com/fleet/app
  ref: ` + ref + `
  ignore: |
    deploy/scratch.yaml
` + extra + `---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app, namespace: oci-flux}
spec:
  interval: 10m
  prune: true
  path: ./deploy
  targetNamespace: oci-shop
  sourceRef: {kind: OCIRepository, name: app}
`
}

// TestFluxOCIRepository: a Flux Kustomization whose source is an
// OCIRepository, its artifacts in a registry started by the test (pushed
// in the format `flux push artifact` writes), its objects applied as
// kustomize-controller applies them on the real control plane. drift
// pulls the artifact as source-controller does: tag, semver and digest
// refs; --applied-revision by the digest Flux applied; a hand edit found
// with its author in both modes; layerSelector copy (no ignore rules) vs
// extract; --repo-override to a directory; a secretRef's credentials used
// and never shown; a tar leaving the artifact refused.
func TestFluxOCIRepository(t *testing.T) {
	cp := controlplane.ForTest(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// The peer tools are found through $HOME's cache: look them up before
	// $HOME changes (keeping the user's docker config out of the test).
	_, _ = peertools.Dir(peertools.Flux)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := ociRegistry(t, false)
	blue := ociPush(t, host, "app:1.0.0", ociApp("blue")...)
	green := ociPush(t, host, "app:1.1.0", ociApp("green")...)
	ociPush(t, host, "app:2.0.0-rc.1", ociApp("red")...)
	ociPush(t, host, "app:evil", append(ociApp("green"), ociFile("deploy/../../escape.yaml", "x"))...)

	for _, ns := range []string{"oci-flux", "oci-shop"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	kubectl(t, cp, ociApplied, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	apply := func(ref, extra string) {
		t.Helper()
		kubectl(t, cp, ociObjects(ref, extra), "apply", "-f", "-")
	}
	args := []string{"--flux-kustomization", "oci-flux/app", "--repo-override=oci://registry.example.com/fleet/app=oci://" + host + "/app", "-o", "json"}
	const src = "flux/oci-flux/app"
	check := func(t *testing.T, mode string, extra []string, wantCode int, wantDrift, wantRevision string) {
		t.Helper()
		r := runDrift(t, cp, append(append(args, "--mode", mode), extra...)...)
		s := parseSources(t, r)
		if r.code != wantCode || len(s.Sources) != 1 {
			t.Fatalf("%s: exit %d (want %d), sources %v\nstderr: %s", mode, r.code, wantCode, driftBySource(s), r.stderr)
		}
		if got := driftBySource(s)[src]; got != wantDrift {
			t.Errorf("%s: drift\n%s\nwant\n%s", mode, got, wantDrift)
		}
		if wantRevision != "" && s.Sources[0].Commit != wantRevision {
			t.Errorf("%s: revision %q, want %q", mode, s.Sources[0].Commit, wantRevision)
		}
	}

	t.Run("refs resolve as source-controller resolves them", func(t *testing.T) {
		for _, tt := range []struct {
			ref, drift, revision string
			code                 int
		}{
			{"{semver: '>=1.0.0'}", "", "1.1.0@" + green, cli.ExitOK},
			{"{semver: '>=1.0.0-0', semverFilter: '-rc'}", "ConfigMap/app modified data.color", "2.0.0-rc.1@", cli.ExitFindings},
			{"{digest: '" + green + "', tag: '1.0.0'}", "", green, cli.ExitOK},
			{"{tag: '1.0.0'}", "ConfigMap/app modified data.color", "1.0.0@" + blue, cli.ExitFindings},
		} {
			apply(tt.ref, "")
			for _, mode := range []string{"server", "local"} {
				r := runDrift(t, cp, append(args, "--mode", mode)...)
				s := parseSources(t, r)
				if r.code != tt.code || len(s.Sources) != 1 {
					t.Fatalf("ref %s, %s: exit %d (want %d), sources %v\nstderr: %s", tt.ref, mode, r.code, tt.code, driftBySource(s), r.stderr)
				}
				if got := driftBySource(s)[src]; !strings.HasPrefix(got, tt.drift) || (tt.drift == "") != (got == "") {
					t.Errorf("ref %s, %s: drift %q, want %q", tt.ref, mode, got, tt.drift)
				}
				if !strings.HasPrefix(s.Sources[0].Commit, tt.revision) {
					t.Errorf("ref %s, %s: revision %q, want %q", tt.ref, mode, s.Sources[0].Commit, tt.revision)
				}
			}
		}
	})

	t.Run("--applied-revision pulls the digest Flux applied", func(t *testing.T) {
		apply("{tag: '1.0.0'}", "")
		kubectl(t, cp, "", "patch", "-n", "oci-flux", "kustomization/app", "--subresource=status", "--type=merge",
			"-p", `{"status":{"lastAppliedRevision":"1.1.0@`+green+`"}}`)
		for _, mode := range []string{"server", "local"} {
			check(t, mode, []string{"--applied-revision"}, cli.ExitOK, "", "1.1.0@"+green)
		}
		r := runDrift(t, cp, args...)
		if !strings.Contains(r.stdout+r.stderr, "Flux last applied 1.1.0@"+green+"; comparing with 1.0.0@"+blue) {
			t.Errorf("no warning that Flux applied another revision:\n%s\n%s", r.stdout, r.stderr)
		}
	})

	t.Run("layerSelector copy keeps what extract ignores", func(t *testing.T) {
		sel := "  layerSelector: {mediaType: application/vnd.cncf.flux.content.v1.tar+gzip, operation: %s}\n"
		apply("{tag: '1.1.0'}", fmt.Sprintf(sel, "extract"))
		check(t, "server", nil, cli.ExitOK, "", "1.1.0@"+green)
		apply("{tag: '1.1.0'}", fmt.Sprintf(sel, "copy"))
		check(t, "server", nil, cli.ExitFindings, "ConfigMap/scratch missing", "1.1.0@"+green)
	})

	t.Run("a hand edit is drift with its author, in both modes", func(t *testing.T) {
		apply("{semver: '~1.1'}", "")
		kubectl(t, cp, "", "patch", "-n", "oci-shop", "configmap/app", "--type=merge", "-p", `{"data":{"color":"purple"}}`)
		for _, mode := range []string{"server", "local"} {
			check(t, mode, nil, cli.ExitFindings, "ConfigMap/app modified data.color kubectl-patch(Update)", "1.1.0@"+green)
		}
		// kustomize-controller takes the field back.
		kubectl(t, cp, ociApplied, "apply", "--server-side", "--force-conflicts", "--field-manager=kustomize-controller", "-f", "-")
		check(t, "server", nil, cli.ExitOK, "", "1.1.0@"+green)

		// drift status shows Flux's revision next to the one compared.
		r := runDrift(t, cp, "status", "-n", "oci-flux", args[2] /* --repo-override */, "-o", "json")
		var st JSONStatus
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != cli.ExitOK || len(st.Sources) != 1 {
			t.Fatalf("status: exit %d, %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
		}
		if row := st.Sources[0]; row.Drift != "in-sync" || row.Commit != "1.1.0@"+green || row.Operator == nil || row.Operator.Revision != row.Commit {
			t.Errorf("status row %+v (operator %+v)", row, row.Operator)
		}
	})

	t.Run("--repo-override to the unpacked artifact", func(t *testing.T) {
		apply("{tag: '1.1.0'}", "")
		dir := t.TempDir()
		ociWrite(t, dir, ociApp("green")[:1]...)
		r := runDrift(t, cp, "--flux-kustomization", "oci-flux/app", "--repo-override=oci://registry.example.com/fleet/app="+dir, "-o", "json")
		s := parseSources(t, r)
		if r.code != cli.ExitOK || len(s.Sources) != 1 || !strings.Contains(s.Sources[0].Revision, dir) {
			t.Errorf("exit %d, sources %v, revision %q\nstderr: %s", r.code, driftBySource(s), s.Sources[0].Revision, r.stderr)
		}
	})

	t.Run("a secretRef's credentials are used, never shown", func(t *testing.T) {
		private := ociRegistry(t, true)
		digest := ociPush(t, private, "app:1.1.0", ociApp("green")...)
		auth := base64.StdEncoding.EncodeToString([]byte("flux:" + ociCanary))
		config := base64.StdEncoding.EncodeToString([]byte(`{"auths":{"` + private + `":{"auth":"` + auth + `"}}}`))
		kubectl(t, cp, `apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: oci-flux}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: `+config+`}
`, "apply", "-f", "-")
		override := "--repo-override=oci://registry.example.com/fleet/app=oci://" + private + "/app"
		apply("{tag: '1.1.0'}", "  secretRef: {name: regcred}\n")
		for _, out := range []string{"json", "yaml", "summary"} {
			r := runDrift(t, cp, "--flux-kustomization", "oci-flux/app", override, "-o", out)
			if r.code != cli.ExitOK || !strings.Contains(r.stdout, digest[len("sha256:"):][:7]) && out != "summary" {
				t.Errorf("-o %s: exit %d\n%s\n%s", out, r.code, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, ociCanary) || strings.Contains(r.stdout+r.stderr, auth) {
				t.Errorf("-o %s: the credentials leak:\n%s\n%s", out, r.stdout, r.stderr)
			}
		}
		// Without the secretRef the registry refuses: an error of the
		// source, still without the credentials.
		apply("{tag: '1.1.0'}", "")
		r := runDrift(t, cp, "--flux-kustomization", "oci-flux/app", override, "-o", "json")
		if r.code != cli.ExitError || !strings.Contains(r.stdout, "401 Unauthorized") || strings.Contains(r.stdout+r.stderr, ociCanary) {
			t.Errorf("anonymous: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("a tar entry leaving the artifact is refused", func(t *testing.T) {
		apply("{tag: evil}", "")
		r := runDrift(t, cp, args...)
		s := parseSources(t, r)
		if r.code != cli.ExitError || len(s.Sources) != 1 || s.Sources[0].Status != "error" ||
			!strings.Contains(s.Sources[0].Reason, `tar entry "deploy/../../escape.yaml": ".." leaves the artifact`) {
			t.Errorf("exit %d, sources %v\nstderr: %s", r.code, driftBySource(s), r.stderr)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(tmp), "escape.yaml")); err == nil {
			t.Error("a file was written outside the artifact")
		}
	})

	t.Run("an artifact pushed by the real flux CLI", func(t *testing.T) {
		flux := peertools.Require(t, peertools.Flux, "flux")
		dir := t.TempDir()
		ociWrite(t, dir, ociApp("green")...)
		cmd := exec.Command(flux, "push", "artifact", "oci://"+host+"/app:from-flux", "--path="+dir, "--insecure-registry",
			"--source=https://github.com/example/fleet", "--revision=main@sha1:0123456789abcdef0123456789abcdef01234567", "--output=json")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
		out, err := childproc.Output(cmd)
		if err != nil {
			t.Fatalf("flux push artifact: %v", err)
		}
		var pushed struct{ Digest string }
		if err := json.Unmarshal(out, &pushed); err != nil {
			t.Fatalf("flux push artifact output %q: %v", out, err)
		}
		apply("{tag: from-flux}", "")
		for _, mode := range []string{"server", "local"} {
			check(t, mode, nil, cli.ExitOK, "", "from-flux@"+pushed.Digest)
		}
	})

	if left, _ := filepath.Glob(filepath.Join(tmp, "kubectl-gitops-oci-*")); len(left) > 0 {
		t.Errorf("artifacts left behind: %v", left)
	}
}

// ociDiffKustomization is the OCI fixture's Kustomization for the Flux
// differentials (flux_diff_test.go), in flux-system like their other rows;
// its OCIRepository (ociDiffSource) keeps deploy/scratch.yaml out with
// spec.ignore, as TestFluxOCIRepository's does.
const ociDiffKustomization = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: oci-app, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  path: ./deploy
  targetNamespace: fd-oci-shop
  sourceRef: {kind: OCIRepository, name: oci-app}
`

const ociDiffSource = `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: oci-app, namespace: flux-system}
spec:
  interval: 5m
  url: oci://registry.example.com/fleet/oci-app
  ref: {tag: 1.1.0}
  ignore: |
    deploy/scratch.yaml
`

// ociDiffRepo is the OCI fixture as the Flux differentials use it: the
// directory ociApp("green") is written to, pushed from it by the real
// `flux push artifact` to a registry the test starts; flux build and flux
// diff read that directory (they read no registry), drift pulls the
// artifact through --repo-override. The Kustomization's file is written
// into the directory after the push, so it is not in the artifact.
func ociDiffRepo(t *testing.T, flux string) fluxRepo {
	t.Helper()
	host := ociRegistry(t, false)
	dir := t.TempDir()
	ociWrite(t, dir, ociApp("green")...)
	cmd := exec.Command(flux, "push", "artifact", "oci://"+host+"/oci-app:1.1.0", "--path="+dir, "--insecure-registry",
		"--source=https://github.com/example/fleet", "--revision=main@sha1:0123456789abcdef0123456789abcdef01234567")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"), "HOME="+t.TempDir(), "DOCKER_CONFIG="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("flux push artifact: %v\n%s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(dir, "clusters"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clusters/oci.yaml"), []byte(ociDiffKustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	return fluxRepo{
		name: "oci-app", work: dir, source: ociDiffSource,
		overrideArg: "oci://registry.example.com/fleet/oci-app=oci://" + host + "/oci-app",
	}
}
