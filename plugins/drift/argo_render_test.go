package drift

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// bareRepo commits the tree at src (a directory, or nil) plus files to a new
// bare repository under base and returns its path.
func bareRepo(t *testing.T, base, name, src string, files map[string]string) string {
	t.Helper()
	work, bare := filepath.Join(base, name+"-work"), filepath.Join(base, name+".git")
	gitRun(t, base, "init", "--quiet", work)
	gitRun(t, base, "init", "--quiet", "--bare", bare)
	if src != "" {
		if err := os.CopyFS(work, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range files {
		if err := os.MkdirAll(filepath.Join(work, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "--quiet", "-m", name)
	gitRun(t, work, "push", "--quiet", bare, "main")
	return bare
}

// TestArgoHooksJsonnetMultiSource: Applications in the shape of
// argocd-example-apps (pre-post-sync, jsonnet-guestbook, sync-waves), on
// the real API server with Argo CD's CRD, the live objects as Argo CD
// leaves them. A PreSync hook Job with generateName and HookSucceeded is
// neither missing nor an error, and the hook Job Argo CD created is not
// extraneous; a jsonnet application (tla, extVar with code, libs) is in sync
// as applied and drifts when changed; a multi-source application compares
// both its directory sources, each from its own repository.
func TestArgoHooksJsonnetMultiSource(t *testing.T) {
	cp := controlplane.ForTest(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	setGitEnv(t)
	base := t.TempDir()
	apps := bareRepo(t, base, "example-apps", filepath.Join("..", "..", "pkg", "gitopsapi", "testdata", "argocd-example-apps"), nil)
	extra := bareRepo(t, base, "extra", "", map[string]string{
		"extra/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra-config}\ndata: {from: second-source}\n",
		"values/prod.yaml":  "replicas: 3\n",
	})
	const origApps, origExtra = "https://git.example.com/org/argocd-example-apps.git", "https://git.example.com/org/extra.git"
	overrides := []string{"--repo-override=" + origApps + "=file://" + apps, "--repo-override=" + origExtra + "=file://" + extra}

	for _, ns := range []string{"argo-t2", "hooks-shop", "jsonnet-shop", "multi-shop"} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	kubectl(t, cp, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: hooks, namespace: argo-t2}
spec:
  project: default
  source: {repoURL: `+origApps+`, targetRevision: main, path: pre-post-sync}
  destination: {server: "https://kubernetes.default.svc", namespace: hooks-shop}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: jsonnet, namespace: argo-t2}
spec:
  project: default
  source:
    repoURL: `+origApps+`
    targetRevision: main
    path: jsonnet-guestbook
    directory:
      jsonnet:
        tlas: [{name: replicas, value: "2", code: true}, {name: containerPort, value: "8080", code: true}]
        extVars: [{name: env, value: prod}, {name: namespace, value: $ARGOCD_APP_NAMESPACE}, {name: tier, value: "{a: 1}", code: true}]
        libs: [jsonnet-lib]
  destination: {server: "https://kubernetes.default.svc", namespace: jsonnet-shop}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: multi, namespace: argo-t2}
spec:
  project: default
  sources:
  - {repoURL: `+origApps+`, targetRevision: main, path: sync-waves}
  - {repoURL: `+origExtra+`, targetRevision: main, ref: values}
  - {repoURL: `+origExtra+`, targetRevision: main, path: extra}
  destination: {server: "https://kubernetes.default.svc", namespace: multi-shop}
`, "apply", "-f", "-")

	id := func(app, group, kind, ns, name string) string {
		return "argocd.argoproj.io/tracking-id: 'argo-t2_" + app + ":" + group + "/" + kind + ":" + ns + "/" + name + "'"
	}
	// What Argo CD applied and left: the hook Job it created under a
	// generated name (still there: its pod never ran), not deleted yet.
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata: {name: guestbook-ui, namespace: hooks-shop, annotations: {`+id("hooks", "", "ConfigMap", "hooks-shop", "guestbook-ui")+`}}
data: {color: blue}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: upgrade-sql-schema-x7k2p
  namespace: hooks-shop
  annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded, `+id("hooks", "batch", "Job", "hooks-shop", "upgrade-sql-schema-x7k2p")+`}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: upgrade-sql-schema, image: "alpine:latest", command: [sleep, "5"]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: jsonnet-guestbook-ui-env, namespace: jsonnet-shop, annotations: {`+id("jsonnet", "", "ConfigMap", "jsonnet-shop", "jsonnet-guestbook-ui-env")+`}}
data: {env: prod, namespace: jsonnet-shop, tier: '{"a": 1}'}
---
apiVersion: v1
kind: Service
metadata:
  name: jsonnet-guestbook-ui
  namespace: jsonnet-shop
  labels: {app.kubernetes.io/part-of: guestbook, environment: prod}
  annotations: {`+id("jsonnet", "", "Service", "jsonnet-shop", "jsonnet-guestbook-ui")+`}
spec:
  ports: [{port: 80, targetPort: 8080}]
  selector: {app: jsonnet-guestbook-ui}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jsonnet-guestbook-ui
  namespace: jsonnet-shop
  labels: {app.kubernetes.io/part-of: guestbook, environment: prod}
  annotations: {`+id("jsonnet", "apps", "Deployment", "jsonnet-shop", "jsonnet-guestbook-ui")+`}
spec:
  replicas: 2
  revisionHistoryLimit: 3
  selector: {matchLabels: {app: jsonnet-guestbook-ui}}
  template:
    metadata: {labels: {app: jsonnet-guestbook-ui}}
    spec:
      containers: [{name: jsonnet-guestbook-ui, image: "gcr.io/heptio-images/ks-guestbook-demo:0.2", ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: wave-backend, namespace: multi-shop, annotations: {argocd.argoproj.io/sync-wave: "1", `+id("multi", "", "ConfigMap", "multi-shop", "wave-backend")+`}}
data: {tier: backend}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: wave-frontend, namespace: multi-shop, annotations: {argocd.argoproj.io/sync-wave: "2", `+id("multi", "", "ConfigMap", "multi-shop", "wave-frontend")+`}}
data: {tier: frontend}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: extra-config, namespace: multi-shop, annotations: {`+id("multi", "", "ConfigMap", "multi-shop", "extra-config")+`}}
data: {from: second-source}
`, "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")

	args := append([]string{"--argocd-app", "argo-t2/hooks", "--argocd-app", "argo-t2/jsonnet", "--argocd-app", "argo-t2/multi", "-o", "json"}, overrides...)
	compared := func(t *testing.T, s sourcesReport) map[string]int {
		t.Helper()
		n := map[string]int{}
		for _, src := range s.Sources {
			if src.Status != "compared" || src.Report == nil {
				t.Errorf("%s: %s: %s", src.Name, src.Status, src.Reason)
				continue
			}
			n[src.Name] = len(src.Report.Objects)
		}
		return n
	}
	t.Run("in sync as applied", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "--mode", mode)...)
			s := parseSources(t, r)
			if r.code != 0 {
				t.Errorf("%s: exit %d, want 0: %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			want := map[string]int{"argocd/argo-t2/hooks": 1, "argocd/argo-t2/jsonnet": 3, "argocd/argo-t2/multi": 3}
			if got := compared(t, s); len(got) != 3 || got["argocd/argo-t2/hooks"] != want["argocd/argo-t2/hooks"] ||
				got["argocd/argo-t2/jsonnet"] != want["argocd/argo-t2/jsonnet"] || got["argocd/argo-t2/multi"] != want["argocd/argo-t2/multi"] {
				t.Errorf("%s: objects compared %v, want %v", mode, got, want)
			}
		}
		assertNoCheckouts(t, tmp)
	})

	kubectl(t, cp, "", "patch", "-n", "jsonnet-shop", "configmap/jsonnet-guestbook-ui-env", "-p", `{"data":{"env":"dev"}}`)
	kubectl(t, cp, "", "delete", "-n", "multi-shop", "configmap/extra-config")
	t.Run("drift in the jsonnet output and the second source", func(t *testing.T) {
		r := runDrift(t, cp, args...)
		if r.code != cli.ExitFindings {
			t.Errorf("exit %d, want 1\nstderr: %s", r.code, r.stderr)
		}
		got := driftBySource(parseSources(t, r))
		want := map[string]string{
			"argocd/argo-t2/hooks":   "",
			"argocd/argo-t2/jsonnet": "ConfigMap/jsonnet-guestbook-ui-env modified data.env kubectl-patch(Update)",
			"argocd/argo-t2/multi":   "ConfigMap/extra-config missing",
		}
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s:\n  got  %q\n  want %q", name, got[name], w)
			}
		}
	})
}
