package ocisource

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/childproc"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// TestPullWhatTheFluxCLIPushes: an artifact pushed by the real `flux push
// artifact` (v2.9.5) to the in-process registry is pulled with Flux's
// revision, its annotations and its files.
func TestPullWhatTheFluxCLIPushes(t *testing.T) {
	flux := peertools.Require(t, peertools.Flux, "flux")
	isolate(t)
	host := startRegistry(t, nil)
	dir := t.TempDir()
	for name, body := range map[string]string{
		"deploy/app.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {color: blue}\n",
		"deploy/logo.png":       "not pushed: flux's default --ignore-paths",
		"deploy/sub/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const rev = "main@sha1:0123456789abcdef0123456789abcdef01234567"
	cmd := exec.Command(flux, "push", "artifact", "oci://"+host+"/fleet/app:v1.2.3", "--path="+dir,
		"--source=https://github.com/example/fleet", "--revision="+rev, "--insecure-registry", "--output=json")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
	out, err := childproc.Output(cmd)
	if err != nil {
		t.Fatalf("flux push artifact: %v", err)
	}
	var pushed struct{ Digest string }
	if err := json.Unmarshal(out, &pushed); err != nil || !strings.HasPrefix(pushed.Digest, "sha256:") {
		t.Fatalf("flux push output %q: %v", out, err)
	}

	art, err := Pull(context.Background(), Spec{URL: "oci://" + host + "/fleet/app", Ref: Ref{Semver: "~1.2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = art.Close() }()
	if want := "v1.2.3@" + pushed.Digest; art.Revision != want {
		t.Errorf("Revision = %q, want %q", art.Revision, want)
	}
	if art.Annotations[RevisionAnnotation] != rev || art.Annotations[SourceAnnotation] != "https://github.com/example/fleet" || art.Annotations[CreatedAnnotation] == "" {
		t.Errorf("annotations = %v", art.Annotations)
	}
	want := map[string]string{
		"deploy/app.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {color: blue}\n",
		"deploy/sub/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
	}
	if d := cmp.Diff(want, files(t, art.Root)); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
}
