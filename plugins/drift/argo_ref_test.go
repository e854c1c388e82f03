package drift

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

const argoRefCanary = "canary-s3cr3t-7f3a-argoref"

// TestArgoHelmRefValueFiles: a multi-source Application in the shape of
// Argo CD's own example (a chart from one repository, its values from
// another: `ref: values`, `valueFiles: [$values/…]`), two real Git
// repositories, the values one at a tag (its main branch has moved on),
// both through --repo-override. The chart is rendered with the ref
// source's files at its revision, the same objects as the real Helm CLI
// renders with Argo CD's command line, applied as Argo CD applies them: in
// sync in both modes; a hand-scaled Deployment and a ConfigMap edited by
// hand are reported and nothing else; the canary (a password in the values
// repository, rendered into the ConfigMap) never appears in any output.
// A value file leading out of the values repository, and a ref to the
// chart's own repository at another commit, are errors with Argo CD's
// words, never compared; a remote value file (with a password in its URL)
// is refused naming the application and the URL without the password.
func TestArgoHelmRefValueFiles(t *testing.T) {
	cp := controlplane.ForTest(t)
	helm := peertools.Require(t, peertools.Helm, "helm")
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	setGitEnv(t)
	base := t.TempDir()
	apps := bareRepo(t, base, "example-apps", argoExampleApps, nil)
	values := bareRepo(t, base, "values", "", map[string]string{
		"envs/prod/values.yaml": "replicaCount: 2\nconfig: {greeting: from-the-values-repo}\nauth: {password: " + argoRefCanary + "}\n",
		"files/motd.txt":        "welcome to prod\n",
	})
	// The ref source asks for v2; main has moved on since.
	work := filepath.Join(base, "values-work")
	gitRun(t, work, "tag", "v2")
	if err := os.WriteFile(filepath.Join(work, "envs/prod/values.yaml"), []byte("replicaCount: 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, work, "commit", "--quiet", "-am", "later")
	gitRun(t, work, "push", "--quiet", values, "main", "v2")
	refDir := t.TempDir() // the values repository at v2, for the Helm CLI
	gitRun(t, base, "clone", "--quiet", "--branch", "v2", values, refDir)

	const appsURL, valuesURL = "https://git.example.com/org/argocd-example-apps.git", "https://git.example.com/org/values.git"
	overrides := []string{"--repo-override=" + appsURL + "=file://" + apps, "--repo-override=" + valuesURL + "=file://" + values}
	for _, ns := range []string{"argo-ref", "gb-prod"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	application := func(name, helmOpts, refSource string) string {
		return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, namespace: argo-ref}
spec:
  project: default
  destination: {server: "https://kubernetes.default.svc", namespace: gb-prod}
  sources:
  - repoURL: ` + appsURL + `
    targetRevision: main
    path: helm-guestbook
    helm: ` + helmOpts + `
  - ` + refSource + `
`
	}
	app := application("guestbook", `{releaseName: gb, skipCrds: true, valueFiles: [values-production.yaml, $values/envs/prod/values.yaml, $values/envs/prod/missing.yaml], ignoreMissingValueFiles: true, fileParameters: [{name: config.motd, path: $values/files/motd.txt}]}`,
		`{repoURL: `+valuesURL+`, targetRevision: v2, ref: values}`)
	kubectl(t, cp, app, "apply", "-f", "-")

	// Argo CD's repo-server: helm template with the command line it builds,
	// the ref source's files from its checkout at v2.
	var appObj map[string]any
	if err := yaml.Unmarshal([]byte(app), &appObj); err != nil {
		t.Fatal(err)
	}
	src := gitopsapi.ArgoSource(&unstructured.Unstructured{Object: appObj}, gitopsapi.ArgoSettings{Namespace: "argocd"})
	if src.Skip() != "" || len(src.Parts) != 1 {
		t.Fatalf("skip %q, %d parts", src.Skip(), len(src.Parts))
	}
	part := *src.Parts[0]
	part.RefRoots = map[string]string{"$values": refDir}
	root, err := filepath.Abs(argoExampleApps)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := gitopsapi.ArgoHelmTemplate(&part, root)
	if err != nil {
		t.Fatal(err)
	}
	var ver struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(kubectl(t, cp, "", "version", "-o", "json")), &ver); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(helm, tpl.Args(root, "", strings.TrimPrefix(ver.ServerVersion.GitVersion, "v"), []string{"policy/v1", "policy/v1/PodDisruptionBudget"})...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	for _, want := range []string{argoRefCanary, "from-the-values-repo", "welcome to prod", "replicas: 2"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("helm template did not use the ref source's files (%q):\n%s", want, out)
		}
	}
	applyAsArgo(t, cp, string(out), "gb-prod", "argo-ref_guestbook")

	args := append([]string{"--argocd-app", "argo-ref/guestbook"}, overrides...)
	t.Run("in sync as applied", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "-o", "json", "--mode", mode)...)
			s := parseSources(t, r)
			if r.code != 0 {
				t.Errorf("%s: exit %d, want 0: %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			if len(s.Sources) != 1 || s.Sources[0].Status != "compared" || s.Sources[0].Report == nil {
				t.Fatalf("%s: sources %+v", mode, s.Sources)
			}
			// ConfigMap, Deployment, PodDisruptionBudget, Service.
			if n := len(s.Sources[0].Report.Objects); n != 4 {
				t.Errorf("%s: %d objects compared, want 4", mode, n)
			}
		}
		assertNoCheckouts(t, tmp)
	})

	kubectl(t, cp, "", "scale", "-n", "gb-prod", "deployment/gb-helm-guestbook", "--replicas=4")
	kubectl(t, cp, "", "patch", "-n", "gb-prod", "configmap/gb-helm-guestbook", "-p", `{"data":{"DB_URL":"postgres://app:changed-by-hand@db:5432/guestbook"}}`)
	t.Run("hand edits found", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "-o", "json", "--mode", mode)...)
			if r.code != cli.ExitFindings {
				t.Errorf("%s: exit %d, want 1\nstderr: %s", mode, r.code, r.stderr)
			}
			got := driftBySource(parseSources(t, r))["argocd/argo-ref/guestbook"]
			want := "ConfigMap/gb-helm-guestbook modified data.DB_URL kubectl-patch(Update)\nDeployment/gb-helm-guestbook modified spec.replicas kubectl(Update,scale)"
			if got != want {
				t.Errorf("%s:\n  got  %q\n  want %q", mode, got, want)
			}
		}
	})
	t.Run("the canary never appears", func(t *testing.T) {
		for _, o := range []string{"summary", "diff", "json", "markdown", "yaml"} {
			r := runDrift(t, cp, append(args, "-o", o)...)
			if r.code != cli.ExitFindings {
				t.Errorf("-o %s: exit %d, want 1\nstderr: %s", o, r.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, argoRefCanary) {
				t.Errorf("-o %s: the canary leaked:\n%s\n%s", o, r.stdout, r.stderr)
			}
		}
	})

	t.Run("refused as Argo CD refuses", func(t *testing.T) {
		// The chart's repository: some-tag is the commit before main's.
		appsWork := filepath.Join(base, "example-apps-work")
		gitRun(t, appsWork, "tag", "some-tag")
		if err := os.WriteFile(filepath.Join(appsWork, "NOTES"), []byte("later\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		gitRun(t, appsWork, "add", "NOTES")
		gitRun(t, appsWork, "commit", "--quiet", "-m", "later")
		gitRun(t, appsWork, "push", "--quiet", apps, "main", "some-tag")
		for _, tc := range []struct{ name, helm, ref, want string }{{
			name: "outside", helm: `{valueFiles: [$values/../../etc/passwd]}`, ref: `{repoURL: ` + valuesURL + `, targetRevision: v2, ref: values}`,
			want: `helm.valueFiles "$values/../../etc/passwd": file '/../../etc/passwd' resolved to outside repository root`,
		}, {
			name: "same-repo", helm: `{valueFiles: [$apps/helm-guestbook/values.yaml]}`, ref: `{repoURL: ` + appsURL + `, targetRevision: some-tag, ref: apps}`,
			want: `cannot reference a different revision of the same repository ($apps references "some-tag"`,
		}, {
			// Argo CD would let helm download it; drift says it does not,
			// naming the application, never the URL's password.
			name: "remote", helm: `{valueFiles: ["https://deploy:` + argoRefCanary + `@values.example.com/prod.yaml"]}`, ref: `{repoURL: ` + valuesURL + `, targetRevision: v2, ref: values}`,
			want: `rendering argocd/argo-ref/remote: helm.valueFiles "https://values.example.com/prod.yaml": remote value file https://values.example.com/prod.yaml: drift does not download value files: not supported`,
		}} {
			kubectl(t, cp, application(tc.name, tc.helm, tc.ref), "apply", "-f", "-")
			r := runDrift(t, cp, append([]string{"--argocd-app", "argo-ref/" + tc.name, "-o", "json"}, overrides...)...)
			if r.code != cli.ExitError || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Errorf("%s: exit %d, want 2 and %q:\n%s\n%s", tc.name, r.code, tc.want, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, argoRefCanary) {
				t.Errorf("%s: the canary leaked:\n%s\n%s", tc.name, r.stdout, r.stderr)
			}
		}
	})
}

// applyAsArgo applies rendered (helm template's output) as Argo CD's
// controller does: hooks left out, the destination namespace ns on
// namespaced objects, the tracking annotation of instance, server-side
// apply by argocd-controller.
func applyAsArgo(t *testing.T, cp *controlplane.ControlPlane, rendered, ns, instance string) {
	t.Helper()
	var apply strings.Builder
	for _, doc := range strings.Split(rendered, "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAnnotations()["helm.sh/hook"] != "" {
			continue
		}
		if u.GetKind() != "CustomResourceDefinition" {
			u.SetNamespace(ns)
		}
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		// Argo CD's id names the destination namespace, cluster-scoped
		// objects' too.
		ann["argocd.argoproj.io/tracking-id"] = instance + ":" + u.GroupVersionKind().Group + "/" + u.GetKind() + ":" + ns + "/" + u.GetName()
		u.SetAnnotations(ann)
		b, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		apply.WriteString("---\n" + string(b))
	}
	kubectl(t, cp, apply.String(), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
}
