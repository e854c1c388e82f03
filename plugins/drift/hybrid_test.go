package drift

import (
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/clitest"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// hybridCRD has a field whose schema defaults a field inside it
// (spec.settings.mode) and a map of strings under a key named like a
// quantity's (spec.limits), which the server stores as written.
const hybridCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.hybrid.example.com}
spec:
  group: hybrid.example.com
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              settings:
                type: object
                properties:
                  mode: {type: string, default: fast}
              limits:
                type: object
                additionalProperties: {type: string}
              size: {type: integer}
`

// TestHybridUndecidable drives hybrid mode's undecidable cases through one
// table on the real API server: for each, the cluster holds what `apply`
// writes, Git declares what `git` says, and runDrift's differential check
// requires hybrid mode's report to be server mode's; the local pass must
// have sent the object to the server for the reason named (or kept it, for
// the objects it decides exactly). Where local mode's answer is not the
// server's (localDiffers), the case is one local comparison cannot decide.
func TestHybridUndecidable(t *testing.T) {
	cp := controlplane.ForTest(t)
	kubectl(t, cp, hybridCRD, "apply", "--server-side", "-f", "-")
	kubectl(t, cp, "", "wait", "--for=condition=established", "--timeout=60s", "crd/gadgets.hybrid.example.com")
	// Its schema reaches the OpenAPI index a moment later: until then
	// local and hybrid mode compare Gadgets unchecked.
	waitPublished(t, cp, schema.GroupVersion{Group: "hybrid.example.com", Version: "v1"})
	gadget := func(ns, spec string) string {
		return "apiVersion: hybrid.example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: " + ns + "}\nspec: " + spec + "\n"
	}
	deployment := func(ns, extra string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ` + ns + `}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 8080, name: http}]
        resources: {limits: {cpu: "1", memory: 128Mi}}
        ` + extra + `
`
	}
	service := func(ns string) string {
		return `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ` + ns + `}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
`
	}
	tests := []struct {
		name string
		// apply is applied server-side as kustomize-controller (csa:
		// client-side with kubectl apply); git is Git's state.
		apply, git   func(ns string) string
		csa          bool
		wantReason   string // "" : decided locally
		localDiffers bool
	}{
		{name: "in sync decided locally",
			apply: func(ns string) string { return deployment(ns, "") + "---\n" + service(ns) },
			git:   func(ns string) string { return deployment(ns, "") + "---\n" + service(ns) }},
		{name: "crd schema defaults into an empty object Git sets",
			apply: func(ns string) string { return gadget(ns, "{size: 1}") },
			git:   func(ns string) string { return gadget(ns, "{size: 1, settings: {}}") },
			// Local mode: unchanged; the server defaults settings.mode.
			wantReason: "a value Git sets matches only after normalisation", localDiffers: true},
		{name: "quantity-like string in a crd written differently",
			apply: func(ns string) string { return gadget(ns, `{limits: {cpu: "1"}}`) },
			git:   func(ns string) string { return gadget(ns, `{limits: {cpu: "1000m"}}`) },
			// Local mode: equal quantities; the server stores the string.
			wantReason: "a value Git sets matches only after normalisation", localDiffers: true},
		{name: "quantity written differently in a built-in kind",
			apply: func(ns string) string { return deployment(ns, "") },
			git: func(ns string) string {
				return strings.Replace(deployment(ns, ""), `cpu: "1"`, `cpu: "1000m"`, 1)
			},
			wantReason: "a value Git sets matches only after normalisation"},
		{name: "integer Git writes as a float",
			apply: func(ns string) string { return deployment(ns, "") },
			git:   func(ns string) string { return strings.Replace(deployment(ns, ""), "replicas: 2", "replicas: 2.0", 1) },
			// The manifest reader makes a whole float an integer, as the
			// server does: decided locally.
			wantReason: ""},
		{name: "null in Git",
			apply:      func(ns string) string { return deployment(ns, "") },
			git:        func(ns string) string { return deployment(ns, "command: null") },
			wantReason: "a value Git sets matches only after normalisation"},
		{name: "client-side applied in sync",
			apply: func(ns string) string { return deployment(ns, "") }, csa: true,
			git:        func(ns string) string { return deployment(ns, "") },
			wantReason: "client-side applied (last-applied annotation)"},
		{name: "finalizers in another order",
			apply: func(ns string) string {
				return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: " + ns + ", finalizers: [example.com/a, example.com/b]}\n"
			},
			git: func(ns string) string {
				return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: " + ns + ", finalizers: [example.com/b, example.com/a]}\n"
			},
			// Local mode compares finalizers as a set; applying Git's
			// reorders them.
			wantReason: "an atomic list or map differs from Git's", localDiffers: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := "hybrid-" + string(rune('a'+i))
			kubectl(t, cp, "", "create", "namespace", ns)
			t.Cleanup(func() {
				// Finalizers would keep the namespace: removed first.
				_ = cp.Kubectl(t.Context(), "patch", "-n", ns, "configmap/c", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`).Run()
			})
			live := writeFiles(t, map[string]string{"live.yaml": tt.apply(ns)})
			if tt.csa {
				kubectl(t, cp, "", "apply", "-f", filepath.Join(live, "live.yaml"))
			} else {
				kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", filepath.Join(live, "live.yaml"))
			}
			git := writeFiles(t, map[string]string{"git.yaml": tt.git(ns)})

			server := runDrift(t, cp, "-f", git, "--mode", "server", "-o", "json") // and hybrid, compared
			hybrid := runDriftOnce(cp, "-f", git, "--mode", "hybrid", "-o", "json")
			var h struct {
				ServerCompared map[string]int `json:"serverCompared"`
			}
			if err := json.Unmarshal([]byte(hybrid.stdout), &h); err != nil {
				t.Fatalf("hybrid: not a JSON report: %v\n%s%s", err, hybrid.stdout, hybrid.stderr)
			}
			switch {
			case tt.wantReason == "" && len(h.ServerCompared) > 0:
				t.Errorf("the local pass sent objects to the server: %v", h.ServerCompared)
			case tt.wantReason != "" && h.ServerCompared[tt.wantReason] == 0:
				t.Errorf("serverCompared %v, want an object for %q", h.ServerCompared, tt.wantReason)
			}
			local := runDriftOnce(cp, "-f", git, "--mode", "local", "-o", "json")
			if differs := sameAsServer(server, withMode(local, "hybrid")) != ""; differs != tt.localDiffers {
				t.Errorf("local mode differs from server mode: %v, want %v\nserver:\n%s\nlocal:\n%s", differs, tt.localDiffers, server.stdout, local.stdout)
			}
		})
	}
}

// withMode returns r with its JSON report's mode replaced.
func withMode(r runResult, mode string) runResult {
	var m map[string]any
	if json.Unmarshal([]byte(r.stdout), &m) != nil {
		return r
	}
	m["mode"] = mode
	b, _ := json.Marshal(m)
	r.stdout = string(b)
	return r
}

// TestHybridAccessPerNamespace: hybrid mode reviews the right to patch a
// resource in all namespaces first, and per namespace only when that is
// denied. A user who may patch ConfigMaps in one namespace only (and read
// them in another) gets the ConfigMap there decided locally, and the other
// one sent to the server (which refuses its dry-run, as in server mode).
func TestHybridAccessPerNamespace(t *testing.T) {
	cp := controlplane.ForTest(t)
	const user = "hybrid-ns-patcher"
	nsA, nsB := "hybrid-access-a", "hybrid-access-b"
	var git strings.Builder
	for _, ns := range []string{nsA, nsB} {
		kubectl(t, cp, "", "create", "namespace", ns)
		cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns + "}\ndata: {mode: fast}\n"
		kubectl(t, cp, cm, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
		git.WriteString("---\n" + cm)
	}
	kubectl(t, cp, "", "create", "role", "cm-patcher", "-n", nsA, "--verb=get,list,patch", "--resource=configmaps")
	kubectl(t, cp, "", "create", "rolebinding", "cm-patcher", "-n", nsA, "--role=cm-patcher", "--user="+user)
	kubectl(t, cp, "", "create", "role", "cm-reader", "-n", nsB, "--verb=get,list", "--resource=configmaps")
	kubectl(t, cp, "", "create", "rolebinding", "cm-reader", "-n", nsB, "--role=cm-reader", "--user="+user)
	// The admission configuration, readable: else every kind is
	// undecidable for this user, whatever its access.
	kubectl(t, cp, "", "create", "clusterrole", user, "--verb=list",
		"--resource=mutatingwebhookconfigurations.admissionregistration.k8s.io,validatingwebhookconfigurations.admissionregistration.k8s.io,mutatingadmissionpolicies.admissionregistration.k8s.io,validatingadmissionpolicies.admissionregistration.k8s.io")
	kubectl(t, cp, "", "create", "clusterrolebinding", user, "--clusterrole="+user, "--user="+user)
	t.Cleanup(func() {
		_ = cp.Kubectl(context.Background(), "delete", "clusterrolebinding,clusterrole", user).Run()
	})
	// RBAC's authorizer sees new bindings a moment later.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := cp.Kubectl(t.Context(), "auth", "can-i", "patch", "configmaps", "-n", nsA, "--as", user).Output()
		out2, _ := cp.Kubectl(t.Context(), "auth", "can-i", "list", "validatingwebhookconfigurations.admissionregistration.k8s.io", "--as", user).Output()
		if strings.TrimSpace(string(out)) == "yes" && strings.TrimSpace(string(out2)) == "yes" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bindings were not seen within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	kc := filepath.Join(t.TempDir(), "user.kubeconfig")
	if err := cp.WriteUserKubeconfig(kc, user); err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"git.yaml": git.String()})
	asUser := func(mode string) runResult {
		r := clitest.Run(nil, NewCmd, clitest.Options{Binary: "kubectl-gitops-drift", Kubeconfig: kc}, "-f", dir, "--mode", mode, "-o", "json")
		return runResult{r.Code, r.Stdout, r.Stderr}
	}
	server, hybrid := asUser("server"), asUser("hybrid")
	if diff := sameAsServer(server, hybrid); diff != "" {
		t.Errorf("hybrid mode differs from server mode: %s\nserver (exit %d):\n%s%s\nhybrid (exit %d):\n%s%s",
			diff, server.code, server.stdout, server.stderr, hybrid.code, hybrid.stdout, hybrid.stderr)
	}
	var h struct {
		ServerCompared map[string]int `json:"serverCompared"`
		Objects        []struct {
			Namespace, Status string
		} `json:"objects"`
	}
	if err := json.Unmarshal([]byte(hybrid.stdout), &h); err != nil {
		t.Fatalf("hybrid: not a JSON report: %v\n%s%s", err, hybrid.stdout, hybrid.stderr)
	}
	// Only the ConfigMap of the namespace the user may not patch in.
	if want := map[string]int{"patching it is not known to be allowed": 1}; !maps.Equal(h.ServerCompared, want) {
		t.Errorf("serverCompared %v, want %v", h.ServerCompared, want)
	}
	statuses := map[string]string{}
	for _, o := range h.Objects {
		statuses[o.Namespace] = o.Status
	}
	if statuses[nsA] != "unchanged" || statuses[nsB] != "error" {
		t.Errorf("statuses by namespace %v: want %s unchanged (decided locally), %s error (its dry-run refused)", statuses, nsA, nsB)
	}
}

// TestHybridReviewsOncePerResource: for a user allowed everywhere, hybrid
// mode reviews the right to patch once per resource, however many
// namespaces the objects are in (it made one review per resource and
// namespace: 100 at the benchmark's 5,000 objects). Counted by the API
// server (apiserver_request_total), around one run.
func TestHybridReviewsOncePerResource(t *testing.T) {
	cp := controlplane.ForTest(t)
	var git strings.Builder
	for i := range 6 {
		ns := "hybrid-reviews-" + string(rune('a'+i))
		kubectl(t, cp, "", "create", "namespace", ns)
		objs := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns + "}\ndata: {mode: fast}\n" +
			"---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: " + ns + "}\n"
		kubectl(t, cp, objs, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
		git.WriteString("---\n" + objs)
	}
	dir := writeFiles(t, map[string]string{"git.yaml": git.String()})
	reviews := func() int {
		out := kubectl(t, cp, "", "get", "--raw", "/metrics")
		n := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "apiserver_request_total{") && strings.Contains(line, `resource="selfsubjectaccessreviews"`) {
				f := strings.Fields(line)
				v, err := strconv.ParseFloat(f[len(f)-1], 64)
				if err != nil {
					t.Fatalf("metrics line %q: %v", line, err)
				}
				n += int(v)
			}
		}
		return n
	}
	before := reviews()
	r := runDriftOnce(cp, "-f", dir, "--mode", "hybrid", "-o", "json")
	after := reviews()
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (in sync):\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "serverCompared") {
		t.Errorf("objects in sync went to the server:\n%s", r.stdout)
	}
	// ConfigMaps and ServiceAccounts: one review each.
	if got := after - before; got != 2 {
		t.Errorf("%d access reviews for 2 resources in 6 namespaces, want 2", got)
	}
}
