package drift

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// orderedDeployment is a Deployment whose env, ports, volumes and
// containers are each listed in the given order ("AB" or "BA").
func orderedDeployment(ns, name string, order map[string]string) string {
	pick := func(list, a, b string) string {
		if order[list] == "BA" {
			return "[" + b + ", " + a + "]"
		}
		return "[" + a + ", " + b + "]"
	}
	env := pick("env", `{name: A, value: "1"}`, `{name: B, value: "2"}`)
	ports := pick("ports", `{containerPort: 8080}`, `{containerPort: 9090}`)
	volumes := pick("volumes", `{name: data, emptyDir: {}}`, `{name: cache, emptyDir: {}}`)
	containers := pick("containers", `{name: app, image: nginx, env: `+env+`, ports: `+ports+`}`, `{name: sidecar, image: busybox}`)
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: ` + ns + `}
spec:
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:
      volumes: ` + volumes + `
      containers: ` + containers + `
`
}

// TestListOrderDrift: Git lists the items of an associative list (env,
// ports, volumes, containers) in another order than the live object. A
// server-side apply keeps Git's order of the items it applies whoever
// applied the live object (the agent itself or another manager), so
// applying Git changes the pod template and rolls the Deployment out, as
// `kubectl diff --server-side` shows. Both modes report the order as a
// change of the list, and agree.
func TestListOrderDrift(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "listorder"
	kubectl(t, cp, "", "create", "namespace", ns)
	paths := map[string]string{
		"env":        "spec.template.spec.containers[0].env",
		"ports":      "spec.template.spec.containers[0].ports",
		"volumes":    "spec.template.spec.volumes",
		"containers": "spec.template.spec.containers",
	}
	app := `.spec.template.spec.containers[?(@.name=="app")]`
	keys := map[string]string{
		"env":        "{" + app + ".env[*].name}",
		"ports":      "{" + app + ".ports[*].containerPort}",
		"volumes":    "{.spec.template.spec.volumes[*].name}",
		"containers": "{.spec.template.spec.containers[*].name}",
	}
	gitOrder := map[string]string{"env": "B A", "ports": "9090 8080", "volumes": "cache data", "containers": "sidecar app"}
	appliers := map[string][]string{
		"agent": {"apply", "--server-side", "--field-manager=argocd-controller"},
		"other": {"create"},
	}
	for _, list := range []string{"env", "ports", "volumes", "containers"} {
		for _, who := range []string{"agent", "other"} {
			name := list + "-" + who
			kubectl(t, cp, orderedDeployment(ns, name, nil), append(appliers[who], "-f", "-")...)
			dir := writeFiles(t, map[string]string{"web.yaml": orderedDeployment(ns, name, map[string]string{list: "BA"})})
			// What the server returns for Git's state, applied by the
			// manager that applied live ("agent") or by another ("other",
			// created by kubectl-create): Git's order.
			dry := kubectl(t, cp, orderedDeployment(ns, name, map[string]string{list: "BA"}), "apply", "--server-side", "--dry-run=server", "--force-conflicts", "--field-manager=argocd-controller", "-f", "-", "-o", "jsonpath="+keys[list])
			if dry != gitOrder[list] {
				t.Errorf("%s: the dry-run returns %s %q, want Git's order %q", name, list, dry, gitOrder[list])
			}
			var reports [2][]string
			for i, mode := range []string{"server", "local"} {
				r := runDrift(t, cp, "-f", filepath.Join(dir, "web.yaml"), "--mode", mode, "-o", "json")
				if r.code != 1 {
					t.Errorf("%s, %s mode: exit %d, want 1 (drift)\n%s%s", name, mode, r.code, r.stdout, r.stderr)
					continue
				}
				reports[i] = noteLines(t, r.stdout)
				want := "Deployment/" + name + " reordered " + paths[list]
				if len(reports[i]) != 1 || !strings.HasPrefix(reports[i][0], want+" ") {
					t.Errorf("%s, %s mode: got %q, want one line %q by a manager", name, mode, reports[i], want)
				}
			}
			if !slices.Equal(reports[0], reports[1]) {
				t.Errorf("%s: the modes disagree:\nserver: %q\nlocal:  %q", name, reports[0], reports[1])
			}
		}
	}
}

// TestListOrderDriftWithForeignItem: another manager (kubectl set env)
// added C after Git's A and B, and Git now lists B before A. The server
// puts B, then C, then A; both modes report the order of Git's items and
// C as added by kubectl-set. Git in live's order with C is not an order
// change.
func TestListOrderDriftWithForeignItem(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "listorder-foreign"
	kubectl(t, cp, "", "create", "namespace", ns)
	kubectl(t, cp, orderedDeployment(ns, "web", nil), "apply", "--server-side", "--field-manager=argocd-controller", "-f", "-")
	// managedFields times have a resolution of one second: the foreign
	// item's manager is made the most recent one, so that an attribution
	// by recency (rather than by the items reordered) shows.
	time.Sleep(1100 * time.Millisecond)
	kubectl(t, cp, "", "set", "env", "-n", ns, "deployment/web", "-c", "app", "C=3")
	dry := kubectl(t, cp, orderedDeployment(ns, "web", map[string]string{"env": "BA"}), "apply", "--server-side", "--dry-run=server", "--force-conflicts", "--field-manager=argocd-controller", "-f", "-",
		"-o", `jsonpath={.spec.template.spec.containers[?(@.name=="app")].env[*].name}`)
	if dry != "B C A" {
		t.Errorf("the dry-run returns env %q, want B C A", dry)
	}
	for _, order := range []string{"AB", "BA"} {
		dir := writeFiles(t, map[string]string{"web.yaml": orderedDeployment(ns, "web", map[string]string{"env": order})})
		want := []string{"Deployment/web extra spec.template.spec.containers[0].env[2] [added by another manager] kubectl-set(Update)"}
		if order == "BA" {
			want = append(want, "Deployment/web reordered spec.template.spec.containers[0].env argocd-controller(Apply)")
		}
		for _, mode := range []string{"server", "local"} {
			if order == "BA" {
				// The diff names the order and shows Git's (B, C, A in
				// server mode; local mode drops the foreign C).
				r := runDrift(t, cp, "-f", filepath.Join(dir, "web.yaml"), "--mode", mode)
				if !strings.Contains(r.stdout, `#   spec.template.spec.containers[0].env: order ["B","A"] in Git, ["A","B"] live`) ||
					!strings.Contains(r.stdout, "-        - name: A\n") || !strings.Contains(r.stdout, "+        - name: A\n") {
					t.Errorf("%s mode: the diff does not show the order:\n%s", mode, r.stdout)
				}
			}
			r := runDrift(t, cp, "-f", filepath.Join(dir, "web.yaml"), "--mode", mode, "-o", "json")
			got := noteLines(t, r.stdout)
			if r.code != 1 || !slices.Equal(got, want) {
				t.Errorf("Git %s, %s mode: exit %d, got\n%s\nwant\n%s\n%s", order, mode, r.code, strings.Join(got, "\n"), strings.Join(want, "\n"), r.stderr)
			}
		}
	}
}

// TestInvalidManifestBothModes: manifests the server refuses to apply — a
// container port given as the string "8080" (for an existing object and a
// new one), a field the kind does not have — are errors in both modes:
// server mode from the dry-run, local mode from the server's OpenAPI v3
// schema. Valid manifests using int-or-string ports, quantities and
// free-form fields stay in sync in both.
func TestInvalidManifestBothModes(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "invalid"
	kubectl(t, cp, "", "create", "namespace", ns)
	valid := orderedDeployment(ns, "web", nil) + `---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ` + ns + `}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: metrics, port: 9090, targetPort: 9090}]
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota, namespace: ` + ns + `}
spec: {hard: {cpu: "2", memory: 1Gi, pods: 10}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: ` + ns + `}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: apps}
  postBuild: {substitute: {cluster: prod}}
`
	kubectl(t, cp, valid, "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	dir := writeFiles(t, map[string]string{"valid.yaml": valid})
	for _, mode := range []string{"server", "local"} {
		if r := runDrift(t, cp, "-f", filepath.Join(dir, "valid.yaml"), "--mode", mode, "-o", "json"); r.code != 0 {
			t.Errorf("valid manifests, %s mode: exit %d, want 0\n%s%s", mode, r.code, r.stdout, r.stderr)
		}
	}

	stringPort := strings.Replace(orderedDeployment(ns, "web", nil), "containerPort: 8080", `containerPort: "8080"`, 1)
	newStringPort := strings.Replace(orderedDeployment(ns, "new", nil), "containerPort: 8080", `containerPort: "8080"`, 1)
	unknownField := strings.Replace(orderedDeployment(ns, "web", nil), "image: nginx,", "image: nginx, imagePullPolicyy: Always,", 1)
	tests := map[string]struct{ manifest, local string }{
		"string port":             {stringPort, `spec.template.spec.containers[0].ports[0].containerPort: expected integer, got string`},
		"string port, new object": {newStringPort, `spec.template.spec.containers[0].ports[0].containerPort: expected integer, got string`},
		"unknown field":           {unknownField, `spec.template.spec.containers[0].imagePullPolicyy: field not declared in schema`},
	}
	for name, tt := range tests {
		dir := writeFiles(t, map[string]string{"web.yaml": tt.manifest})
		var statuses [2][]string
		for i, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, "-f", filepath.Join(dir, "web.yaml"), "--mode", mode, "-o", "json")
			rep := parseReport(t, r.stdout)
			if r.code != 2 || len(rep.Objects) != 1 || rep.Objects[0].Status != "error" {
				t.Errorf("%s, %s mode: exit %d, want 2 and one object in error\n%s%s", name, mode, r.code, r.stdout, r.stderr)
				continue
			}
			statuses[i] = []string{rep.Objects[0].Name, rep.Objects[0].Status}
			if mode == "local" && !strings.Contains(rep.Objects[0].Reason, tt.local) {
				t.Errorf("%s, local mode: reason %q, want it to name %q", name, rep.Objects[0].Reason, tt.local)
			}
		}
		if !slices.Equal(statuses[0], statuses[1]) {
			t.Errorf("%s: the modes disagree: server %v, local %v", name, statuses[0], statuses[1])
		}
	}
}
