package gitopsapi

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

const artifactRepo = "testdata/artifactgen/repo"

// fixtureObject reads the object of kind and name from a multi-document
// file of the fixture repository.
func fixtureObject(t *testing.T, file, kind, name string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(artifactRepo, file))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := sigsyaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	t.Fatalf("no %s %s in %s", kind, name, file)
	return nil
}

// canonical turns objects into sorted YAML documents.
func canonical(t *testing.T, objs []map[string]any) []string {
	t.Helper()
	var out []string
	for _, o := range objs {
		data, err := sigsyaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	sort.Strings(out)
	return out
}

// fluxBuild runs the real `flux build kustomization --dry-run` in the
// fixture repository and returns its objects.
func fluxBuild(t *testing.T, flux string, args ...string) []map[string]any {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), flux, append([]string{"build", "kustomization"}, args...)...)
	cmd.Dir = artifactRepo
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("flux %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var objs []map[string]any
	r := utilyaml.NewYAMLReader(bufioReader(out))
	for {
		doc, err := r.Read()
		if err != nil {
			break
		}
		m := map[string]any{}
		if err := sigsyaml.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		if len(m) > 0 {
			objs = append(objs, m)
		}
	}
	return objs
}

// TestFluxArtifactsMatchFluxBuild: for the fixture's Kustomizations on
// ExternalArtifacts and on a GitRepository with spec.ignore, the objects
// drift renders from the artifact it builds equal those the real Flux CLI
// (v2.9.5) builds from the repository directory the artifact copies (with
// the GitRepository's ignore rule passed as --ignore-paths, which flux
// build matches below --path).
func TestFluxArtifactsMatchFluxBuild(t *testing.T) {
	flux := peertools.Require(t, peertools.Flux, "flux")
	gen := fixtureObject(t, "clusters/staging/artifacts.yaml", "ArtifactGenerator", "flux-system")
	ignore := "/tenants/scratch.yaml\n"
	tests := []struct {
		name, ksFile, fluxPath string
		ks                     *unstructured.Unstructured
		fluxArgs               []string
	}{
		{name: "apps", ksFile: "clusters/staging/apps.yaml", fluxPath: "./apps/staging"},
		{name: "infra-configs", ksFile: "clusters/staging/infrastructure.yaml", fluxPath: "./infrastructure/configs"},
		{name: "tenants", fluxPath: "./tenants", ks: obj(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: tenants, namespace: ag-flux}
spec: {interval: 1h, prune: true, path: ./tenants, sourceRef: {kind: GitRepository, name: fleet-tenants}}
`), // flux build matches --ignore-paths below --path.
			fluxArgs: []string{"--ignore-paths", "/scratch.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, ksFile := tt.ks, tt.ksFile
			if ks == nil {
				ks = fixtureObject(t, tt.ksFile, "Kustomization", tt.name)
			} else {
				ksFile = filepath.Join(t.TempDir(), "ks.yaml")
				data, _ := sigsyaml.Marshal(ks.Object)
				if err := os.WriteFile(ksFile, data, 0o644); err != nil {
					t.Fatal(err)
				}
				ksFile, _ = filepath.Abs(ksFile)
			}
			s := FluxSource(ks, nil)
			repo := &GitRepository{Namespace: "ag-flux", Name: "flux-system"}
			root := t.TempDir()
			if s.Problem == unreadArtifact(ks) {
				s.Problem = ""
				art, unsupported := generatorArtifact(gen, str(ks.Object, "spec", "sourceRef", "name"))
				if art == nil || unsupported != "" {
					t.Fatalf("artifact %v, %q", art, unsupported)
				}
				gitDir := t.TempDir()
				if err := BuildGitArtifact(t.Context(), repo, artifactRepo, nil, gitDir); err != nil {
					t.Fatal(err)
				}
				if err := BuildExternalArtifact(t.Context(), art, map[string]string{"monorepo": gitDir}, root); err != nil {
					t.Fatal(err)
				}
			} else {
				s.Problem, s.Kustomize = "", true
				repo.Ignore = &ignore
				if err := BuildGitArtifact(t.Context(), repo, artifactRepo, nil, root); err != nil {
					t.Fatal(err)
				}
			}
			set, err := Render(t.Context(), s, root)
			if err != nil {
				t.Fatal(err)
			}
			var ours []map[string]any
			for _, o := range set.Objects {
				s.Track(o.Obj, o.Obj.GetKind() != "Namespace")
				ours = append(ours, o.Obj.Object)
			}
			theirs := fluxBuild(t, flux, append([]string{tt.name, "-n", "ag-flux", "--path", tt.fluxPath, "--kustomization-file", ksFile, "--dry-run"}, tt.fluxArgs...)...)
			if len(theirs) == 0 {
				t.Fatal("flux build gave no objects")
			}
			if diff := cmp.Diff(canonical(t, theirs), canonical(t, ours)); diff != "" {
				t.Errorf("(-flux build +drift):\n%s", diff)
			}
		})
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
