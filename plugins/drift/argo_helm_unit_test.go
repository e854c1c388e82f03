package drift

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/test/childproc"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// argoExampleApps is pkg/gitopsapi's fixture repository in the shape of
// argocd-example-apps (helm-guestbook among them).
const argoExampleApps = "../../pkg/gitopsapi/testdata/argocd-example-apps"

func argoHelmSource(t *testing.T, source string) *gitopsapi.Source {
	t.Helper()
	var app map[string]any
	doc := "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: guestbook, namespace: argocd}\n" +
		"spec:\n  project: default\n  destination: {server: \"https://kubernetes.default.svc\", namespace: shop}\n  source:\n" + source
	if err := yaml.Unmarshal([]byte(doc), &app); err != nil {
		t.Fatal(err)
	}
	src := gitopsapi.ArgoSource(&unstructured.Unstructured{Object: app}, gitopsapi.ArgoSettings{Namespace: "argocd"})
	if src.Skip() != "" {
		t.Fatalf("skipped: %s", src.Skip())
	}
	return src
}

// TestArgoHelmMatchesHelmCLI is a differential test: for Applications
// using every spec.source.helm option, drift's render (Helm SDK) gives
// exactly the objects the real Helm CLI v4.3.2 prints for the command line
// Argo CD's repo-server builds (gitopsapi.HelmTemplate.Args: --set,
// --set-string, --set-file, --values files and the values/valuesObject
// file, --kube-version, --api-versions, --include-crds), hooks included
// (Argo CD drops them after rendering, by its own rules).
func TestArgoHelmMatchesHelmCLI(t *testing.T) {
	helm := peertools.Require(t, peertools.Helm, "helm")
	root, err := filepath.Abs(argoExampleApps)
	if err != nil {
		t.Fatal(err)
	}
	caps := helmrender.Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"v1", "apps/v1", "policy/v1", "policy/v1/PodDisruptionBudget"}}
	for _, tc := range []struct{ name, source string }{
		{"defaults", "    {repoURL: r, path: helm-guestbook}\n"},
		{"every option", `    repoURL: r
    path: helm-guestbook
    helm:
      releaseName: gb
      namespace: other
      valueFiles: [values-production.yaml, missing.yaml]
      ignoreMissingValueFiles: true
      valuesObject: {image: {tag: v7}, config: {tags: [a, b]}}
      parameters:
      - {name: config.greeting, value: "hello, $ARGOCD_APP_NAMESPACE"}
      - {name: replicaCount, value: "3"}
      - {name: containerPort, value: "8080", forceString: true}
      - {name: auth.password, value: canary-s3cr3t-7f3a}
      fileParameters:
      - {name: config.motd, path: files/motd.txt}
`},
		{"own versions and no CRDs", `    repoURL: r
    path: helm-guestbook
    helm: {kubeVersion: "1.29.4", apiVersions: [apps/v1], skipCrds: true, values: "service: {type: NodePort}\n"}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := argoHelmSource(t, tc.source)
			r, err := renderArgoHelm(t.Context(), src, filepath.Join(root, "helm-guestbook"), root, caps, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ours := map[string]map[string]any{}
			for _, o := range r.Set.Objects {
				ours[o.Obj.GetKind()+"/"+o.Obj.GetName()] = o.Obj.Object
			}
			tpl, err := gitopsapi.ArgoHelmTemplate(src, root)
			if err != nil {
				t.Fatal(err)
			}
			vf := ""
			if tpl.Values != nil {
				vf = filepath.Join(t.TempDir(), "values.yaml")
				if err := os.WriteFile(vf, tpl.Values, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			home := t.TempDir()
			args := tpl.Args(root, vf, strings.TrimPrefix(caps.KubeVersion, "v"), caps.APIVersions)
			cmd := exec.Command(helm, args...)
			// HELM_DEBUG (as a user's shell may set it) makes helm log to
			// stderr: only stdout is the rendered YAML, stderr goes in the
			// error.
			cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home, "HELM_DEBUG=true")
			out, err := childproc.Output(cmd)
			if err != nil {
				t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
			}
			theirs := map[string]map[string]any{}
			for _, doc := range strings.Split(string(out), "\n---") {
				js, err := yaml.YAMLToJSON([]byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				var m map[string]any
				// Numbers as unstructured objects hold them.
				if err := utiljson.Unmarshal(js, &m); err != nil {
					t.Fatal(err)
				}
				if len(m) == 0 {
					continue
				}
				u := unstructured.Unstructured{Object: m}
				theirs[u.GetKind()+"/"+u.GetName()] = m
			}
			if len(theirs) < 4 {
				t.Fatalf("helm printed %d objects:\n%s", len(theirs), out)
			}
			if diff := cmp.Diff(theirs, ours); diff != "" {
				t.Errorf("objects differ from helm %s (-helm +drift):\n%s", strings.Join(args, " "), diff)
			}
			t.Logf("%d objects: %v", len(ours), sortedNames(ours))
		})
	}
}

func sortedNames(m map[string]map[string]any) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}
