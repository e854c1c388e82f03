package drift

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// helmChartFixture is pkg/helmrender's fixture chart (helpers, schema, a
// hook, a CRD in crds/).
const helmChartFixture = "../../pkg/helmrender/testdata/webapp"

const helmCanary = "canary-s3cr3t-7f3a-helm"

// helmControllerApply renders the chart with the real Helm CLI's template
// (the values helm-controller composes for the HelmRelease below), adds
// what helm-controller and Helm's install add (origin labels, managed-by,
// meta.helm.sh annotations), leaves the hooks out, and creates the objects
// as helm-controller's Helm client does: client-side, field manager
// "helm-controller" (an Update entry). The chart's CRD is created apart,
// with the origin labels only, as helm-controller's CRD policy does. It
// returns the manifest the release record stores.
func helmControllerApply(t *testing.T, cp *controlplane.ControlPlane, release, relNS, hrNS, hrName string, values map[string]any) string {
	t.Helper()
	return helmControllerApplyChart(t, cp, helmChartFixture, "crds/widgets.webapp.example.org.yaml", release, relNS, hrNS, hrName, values)
}

// helmControllerApplyChart is helmControllerApply for the chart at chart
// (a directory or archive); crdFile ("" for none) is the CRD of the
// chart's directory created apart.
func helmControllerApplyChart(t *testing.T, cp *controlplane.ControlPlane, chart, crdFile, release, relNS, hrNS, hrName string, values map[string]any) string {
	t.Helper()
	manifest := createAsHelmController(t, cp, helmTemplate(t, cp, chart, release, relNS, values), release, relNS, hrNS, hrName)
	if crdFile == "" {
		return manifest
	}
	crd, err := os.ReadFile(filepath.Join(chart, crdFile))
	if err != nil {
		t.Fatal(err)
	}
	crdDoc := strings.Replace(string(crd), "  name: widgets.webapp.example.org\n",
		"  name: widgets.webapp.example.org\n  labels: {helm.toolkit.fluxcd.io/name: "+hrName+", helm.toolkit.fluxcd.io/namespace: "+hrNS+"}\n", 1)
	kubectl(t, cp, crdDoc, "create", "--field-manager=helm-controller", "-f", "-")
	return manifest
}

// helmTemplate renders the chart with the real Helm CLI's template, with
// the cluster's version and values.
func helmTemplate(t *testing.T, cp *controlplane.ControlPlane, chart, release, relNS string, values map[string]any) string {
	t.Helper()
	helm := peertools.Require(t, peertools.Helm, "helm")
	var ver struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(kubectl(t, cp, "", "version", "-o", "json")), &ver); err != nil {
		t.Fatal(err)
	}
	vf := filepath.Join(t.TempDir(), "values.yaml")
	data, _ := yaml.Marshal(values)
	if err := os.WriteFile(vf, data, 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(helm, "template", release, chart, "-n", relNS, "-f", vf, "--kube-version", ver.ServerVersion.GitVersion, "--api-versions", "policy/v1/PodDisruptionBudget")
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	return string(out)
}

// createAsHelmController creates the rendered (and post-rendered)
// documents out as helm-controller's Helm client does: hooks left out,
// helm-controller's origin labels and Helm's release metadata added,
// client-side, field manager "helm-controller". It returns the manifest
// the release record stores.
func createAsHelmController(t *testing.T, cp *controlplane.ControlPlane, out, release, relNS, hrNS, hrName string) string {
	t.Helper()
	origin := map[string]any{"helm.toolkit.fluxcd.io/name": hrName, "helm.toolkit.fluxcd.io/namespace": hrNS}
	var manifest, apply strings.Builder
	for _, doc := range strings.Split(out, "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			continue
		}
		md := m["metadata"].(map[string]any)
		ann, _ := md["annotations"].(map[string]any)
		if ann["helm.sh/hook"] != nil {
			continue
		}
		labels, _ := md["labels"].(map[string]any)
		if labels == nil {
			labels = map[string]any{}
		}
		for k, v := range origin {
			labels[k] = v
		}
		md["labels"] = labels
		b, _ := yaml.Marshal(m)
		manifest.WriteString("---\n" + string(b))
		labels["app.kubernetes.io/managed-by"] = "Helm"
		if ann == nil {
			ann = map[string]any{}
		}
		ann["meta.helm.sh/release-name"], ann["meta.helm.sh/release-namespace"] = release, relNS
		md["annotations"] = ann
		b, _ = yaml.Marshal(m)
		apply.WriteString("---\n" + string(b))
	}
	kubectl(t, cp, apply.String(), "create", "-n", relNS, "--field-manager=helm-controller", "-f", "-")
	return manifest.String()
}

// helmRecord writes the release record Helm's Secret driver stores:
// base64 of gzipped JSON, values included (they must never be printed).
func helmRecord(t *testing.T, cp *controlplane.ControlPlane, ns, release string, version int, manifest string, config map[string]any) {
	t.Helper()
	rec, _ := json.Marshal(map[string]any{"name": release, "namespace": ns, "version": version, "info": map[string]any{"status": "deployed"},
		"config": config, "manifest": manifest})
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	name := "sh.helm.release.v1." + release + ".v" + itoa(version)
	sec := map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"owner": "helm", "name": release, "version": itoa(version), "status": "deployed"}},
		"data":     map[string]any{"release": base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(gz.Bytes())))}}
	b, _ := json.Marshal(sec)
	kubectl(t, cp, string(b), "create", "-f", "-")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestFluxHelmRelease is issue 16's scenario: a HelmRelease whose chart is
// in a Git repository (GitRepository source, --repo-override), values from
// spec.values, a ConfigMap and two Secrets (a values file, and one key at
// a targetPath), rendered and applied
// as helm-controller would. drift renders the chart as helm-controller
// does: in sync in both modes. Then a scaled Deployment, a changed image,
// a label added by hand and a deleted ConfigMap are each reported with
// their author in both modes, and nothing else; an object of the release's
// last stored manifest that Git no longer renders is extraneous; the
// Secret's value never appears in any output; a HelmRelease that cannot be
// rendered is an error of its source.
func TestFluxHelmRelease(t *testing.T) {
	// The shared control plane: the hand-added label that went unreported
	// in fast runs was no other test's doing but a rule of drift's (see
	// TestHelmReleasePersonsChangeInCreationSecond).
	cp := controlplane.ForTest(t)
	setGitEnv(t)
	bare := webappFleetRepo(t)

	const hrNS, relNS, release = "hr-flux", "hr-apps", "hr-apps-web"
	const full = release + "-webapp"
	for _, ns := range []string{hrNS, relNS} {
		kubectl(t, cp, "", "create", "namespace", ns)
	}
	// Other tests of the package share the control plane (--all-flux, drift
	// status): leave no HelmRelease behind.
	t.Cleanup(func() {
		_ = cp.Kubectl(context.Background(), "delete", "namespace", hrNS, relNS, "--wait=false").Run()
		_ = cp.Kubectl(context.Background(), "delete", "crd", "widgets.webapp.example.org", "--wait=false").Run()
	})
	kubectl(t, cp, `apiVersion: v1
kind: ConfigMap
metadata: {name: web-base, namespace: `+hrNS+`}
data:
  values.yaml: |
    config:
      greeting: hallo
---
apiVersion: v1
kind: Secret
metadata: {name: web-smtp, namespace: `+hrNS+`}
stringData: {pass: `+helmCanary+`}
---
apiVersion: v1
kind: Secret
metadata: {name: web-relay, namespace: `+hrNS+`}
stringData:
  values.yaml: |
    config:
      smtp:
        host: `+helmCanary+`-relay.example.com
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: `+hrNS+`}
spec: {interval: 1m, url: "https://git.example.com/org/fleet.git", ref: {branch: main}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: `+hrNS+`}
spec:
  interval: 10m
  targetNamespace: `+relNS+`
  chart:
    spec:
      chart: ./charts/webapp
      sourceRef: {kind: GitRepository, name: fleet}
  values: {replicaCount: 2}
  valuesFrom:
  - {kind: ConfigMap, name: web-base}
  - {kind: Secret, name: web-relay}
  - {kind: Secret, name: web-smtp, valuesKey: pass, targetPath: config.smtp.pass}
`, "apply", "-f", "-")
	values := map[string]any{"replicaCount": 2, "config": map[string]any{"greeting": "hallo", "smtp": map[string]any{"pass": helmCanary, "host": helmCanary + "-relay.example.com"}}}
	manifest := helmControllerApply(t, cp, release, relNS, hrNS, "web", values)
	helmRecord(t, cp, hrNS, release, 1, manifest, values)

	args := []string{"--flux-helmrelease", hrNS + "/web", "--repo-override=https://git.example.com/org/fleet.git=file://" + bare}
	const name = "helmrelease/" + hrNS + "/web"
	noLeak := func(t *testing.T, what string, r runResult) {
		t.Helper()
		if strings.Contains(r.stdout+r.stderr, helmCanary) {
			t.Errorf("%s: the valuesFrom Secret's value leaks:\n%s\n%s", what, r.stdout, r.stderr)
		}
	}

	t.Run("in sync", func(t *testing.T) {
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
			s := parseSources(t, r)
			if r.code != 0 || len(s.Sources) != 1 || s.Sources[0].Status != "compared" || s.Sources[0].Report == nil {
				t.Fatalf("%s: exit %d, sources %v\nstderr: %s", mode, r.code, driftBySource(s), r.stderr)
			}
			if s.Sources[0].Name != name || s.Sources[0].Type != "helmrelease" {
				t.Errorf("source %q of type %q", s.Sources[0].Name, s.Sources[0].Type)
			}
			// ConfigMap, Service, Deployment, PodDisruptionBudget; the
			// CRD, under the default CRD policy Create, only for presence.
			if got := s.Sources[0].Report.Summary["unchanged"]; got != 4 {
				t.Errorf("%s: %d unchanged, want 4: %v", mode, got, driftBySource(s))
			}
			if got := s.Sources[0].Report.Summary["skipped"]; got != 1 {
				t.Errorf("%s: %d skipped (the CRD), want 1: %v", mode, got, driftBySource(s))
			}
			noLeak(t, mode, r)
		}
	})

	kubectl(t, cp, "", "scale", "-n", relNS, "deployment/"+full, "--replicas=5")
	kubectl(t, cp, "", "set", "image", "-n", relNS, "deployment/"+full, "webapp=ghcr.io/example/webapp:hotfix")
	kubectl(t, cp, "", "label", "-n", relNS, "service/"+full, "hand=made")
	kubectl(t, cp, "", "delete", "-n", relNS, "configmap/"+full)

	t.Run("people's changes, with attribution", func(t *testing.T) {
		want := strings.Join([]string{
			"ConfigMap/" + full + " missing",
			"CustomResourceDefinition/widgets.webapp.example.org skipped",
			"Deployment/" + full + " modified spec.replicas kubectl(Update,scale)",
			"Deployment/" + full + " modified spec.template.spec.containers[0].image kubectl-set(Update)",
			"Service/" + full + " extra metadata.labels.hand kubectl-label(Update)",
		}, "\n")
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
			if r.code != cli.ExitFindings {
				t.Errorf("%s: exit %d, want 1\nstderr: %s", mode, r.code, r.stderr)
			}
			if got := driftBySource(parseSources(t, r))[name]; got != want {
				t.Errorf("%s: drift\n%s\nwant\n%s", mode, got, want)
			}
			for _, out := range []string{"json", "yaml", "summary", "markdown", ""} {
				a := append(args, "--mode", mode)
				if out != "" {
					a = append(a, "-o", out)
				}
				noLeak(t, mode+" -o "+out, runDrift(t, cp, a...))
			}
		}
		// Shown on request: the test can see a leak.
		if r := runDrift(t, cp, append(args, "--show-secrets")...); !strings.Contains(r.stdout, helmCanary) {
			t.Errorf("--show-secrets: the missing ConfigMap's value from the Secret is not shown:\n%s", r.stdout)
		}
	})

	// An object annotated helm.sh/resource-policy: keep is one Helm's
	// upgrade never deletes (kube.Client.Update): skipped, saying so, and
	// --prune leaves it.
	t.Run("extraneous: in the last stored manifest, no longer rendered", func(t *testing.T) {
		legacy := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + release + "-legacy\n  labels: {helm.toolkit.fluxcd.io/name: web, helm.toolkit.fluxcd.io/namespace: " + hrNS + "}\ndata: {old: \"yes\"}\n"
		kept := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + release + "-kept\n  labels: {helm.toolkit.fluxcd.io/name: web, helm.toolkit.fluxcd.io/namespace: " + hrNS + "}\n  annotations: {helm.sh/resource-policy: keep}\ndata: {old: \"yes\"}\n"
		kubectl(t, cp, legacy+"---\n"+kept, "create", "-n", relNS, "--field-manager=helm-controller", "-f", "-")
		helmRecord(t, cp, hrNS, release, 2, manifest+"---\n"+legacy+"---\n"+kept, values)
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
			got := driftBySource(parseSources(t, r))[name]
			if !strings.Contains(got, "ConfigMap/"+release+"-legacy extraneous") {
				t.Errorf("%s: the legacy ConfigMap is not extraneous:\n%s", mode, got)
			}
			if !strings.Contains(got, "ConfigMap/"+release+"-kept skipped") {
				t.Errorf("%s: the ConfigMap Helm keeps is not skipped:\n%s", mode, got)
			}
			if !strings.Contains(r.stdout, "Helm release "+hrNS+"/"+release+" v2") {
				t.Errorf("%s: the reason does not name the release record", mode)
			}
			if !strings.Contains(r.stdout, "helm.sh/resource-policy: keep: no longer in the chart, and Helm does not delete it") {
				t.Errorf("%s: the reason does not say Helm keeps it", mode)
			}
			noLeak(t, mode, r)
		}
		r := runDrift(t, cp, append(args, "--prune", "--yes")...)
		if r.code != cli.ExitOK && r.code != cli.ExitFindings {
			t.Fatalf("--prune: exit %d\nstderr: %s", r.code, r.stderr)
		}
		noLeak(t, "--prune", r)
		left := kubectl(t, cp, "", "get", "configmaps", "-n", relNS, "-o", "name")
		if strings.Contains(left, release+"-legacy") || !strings.Contains(left, release+"-kept") {
			t.Errorf("after --prune, want the legacy ConfigMap deleted and the kept one left:\n%s", left)
		}
	})

	t.Run("listed by drift status", func(t *testing.T) {
		r := runDrift(t, cp, "status", "-n", hrNS, "--repo-override=https://git.example.com/org/fleet.git=file://"+bare)
		if !strings.Contains(r.stdout, name) {
			t.Errorf("drift status does not list %s:\n%s\n%s", name, r.stdout, r.stderr)
		}
		noLeak(t, "status", r)
	})

	t.Run("spec.driftDetection.ignore honoured", func(t *testing.T) {
		kubectl(t, cp, "", "patch", "-n", hrNS, "helmrelease/web", "--type=merge", "-p",
			`{"spec":{"driftDetection":{"mode":"enabled","ignore":[{"paths":["/spec/replicas"],"target":{"kind":"Deployment"}}]}}}`)
		for _, mode := range []string{"server", "local"} {
			r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
			got := driftBySource(parseSources(t, r))[name]
			if strings.Contains(got, "spec.replicas") || !strings.Contains(got, "containers[0].image") {
				t.Errorf("%s: with /spec/replicas ignored on Deployments:\n%s", mode, got)
			}
		}
	})

	t.Run("cannot be rendered: an error of the source", func(t *testing.T) {
		kubectl(t, cp, "", "patch", "-n", hrNS, "helmrelease/web", "--type=merge", "-p", `{"spec":{"values":{"replicaCount":"many"}}}`)
		r := runDrift(t, cp, append(args, "-o", "json")...)
		s := parseSources(t, r)
		if r.code != cli.ExitError || len(s.Sources) != 1 || s.Sources[0].Status != "error" || s.Sources[0].Report != nil {
			t.Errorf("bad values: exit %d, sources %v\nstderr: %s", r.code, driftBySource(s), r.stderr)
		}
		noLeak(t, "bad values", r)
		kubectl(t, cp, "", "patch", "-n", hrNS, "helmrelease/web", "--type=json", "-p", `[{"op":"replace","path":"/spec/chart/spec/sourceRef","value":{"kind":"HelmRepository","name":"charts"}}]`)
		r = runDrift(t, cp, append(args, "-o", "json")...)
		s = parseSources(t, r)
		if r.code != cli.ExitError || len(s.Sources) != 1 || s.Sources[0].Status != "error" || !strings.Contains(s.Sources[0].Reason, "HelmRepository "+hrNS+"/charts") {
			t.Errorf("HelmRepository: exit %d, sources %v\nstderr: %s", r.code, driftBySource(s), r.stderr)
		}
	})
}

// TestHelmReleasePersonsChangeInCreationSecond is the cause of
// TestFluxHelmRelease's flaky "people's changes" row, forced: managedFields
// times have a resolution of one second, and an Update entry dated from
// the object's creation second is taken for its creator (whose fields
// include the server's defaults, so they are not another manager's
// additions). A `kubectl label` landing in the second helm-controller
// created the Service was taken for a second creator, and the person's
// label went unreported. Here the label is put into that second on
// purpose (the Service is created again until both entries share it): it
// is the person's drift in both modes, and nothing else of the Service is.
func TestHelmReleasePersonsChangeInCreationSecond(t *testing.T) {
	cp := controlplane.ForTest(t)
	setGitEnv(t)
	bare := webappFleetRepo(t)

	const ns, release = "hr-second", "hr-second-web"
	const full = release + "-webapp"
	kubectl(t, cp, "", "create", "namespace", ns)
	kubectl(t, cp, `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: `+ns+`}
spec: {interval: 1m, url: "https://git.example.com/org/fleet.git", ref: {branch: main}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: `+ns+`}
spec:
  interval: 10m
  targetNamespace: `+ns+`
  chart:
    spec:
      chart: ./charts/webapp
      sourceRef: {kind: GitRepository, name: fleet}
  values: {replicaCount: 2}
`, "apply", "-f", "-")
	values := map[string]any{"replicaCount": 2}
	rendered := helmTemplate(t, cp, helmChartFixture, release, ns, values)

	// The creation and the label in one second: started just after a
	// second begins (the control plane runs on this machine's clock), and
	// checked on the Service's managedFields; again if the second ended.
	sameSecond := false
	for attempt := 0; attempt < 8 && !sameSecond; attempt++ {
		if attempt > 0 {
			kubectl(t, cp, "", "delete", "-n", ns, "service,deployment,configmap,poddisruptionbudget", "-l", "helm.toolkit.fluxcd.io/name=web", "--wait")
		}
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		manifest := createAsHelmController(t, cp, rendered, release, ns, ns, "web")
		kubectl(t, cp, "", "label", "-n", ns, "service/"+full, "hand=made")
		if attempt == 0 {
			helmRecord(t, cp, ns, release, 1, manifest, values)
		}
		var svc struct {
			Metadata struct {
				CreationTimestamp string `json:"creationTimestamp"`
				ManagedFields     []struct {
					Manager, Time string
				} `json:"managedFields"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(kubectl(t, cp, "", "get", "-n", ns, "service/"+full, "-o", "json", "--show-managed-fields")), &svc); err != nil {
			t.Fatal(err)
		}
		times := map[string]string{}
		for _, e := range svc.Metadata.ManagedFields {
			times[e.Manager] = e.Time
		}
		created := svc.Metadata.CreationTimestamp
		sameSecond = times["helm-controller"] == created && times["kubectl-label"] == created
		t.Logf("attempt %d: created %s, managedFields times %v", attempt, created, times)
	}
	if !sameSecond {
		t.Fatal("the label never landed in the Service's creation second")
	}

	args := []string{"--flux-helmrelease", ns + "/web", "--repo-override=https://git.example.com/org/fleet.git=file://" + bare}
	want := "Service/" + full + " extra metadata.labels.hand kubectl-label(Update)"
	for _, mode := range []string{"server", "local"} {
		r := runDrift(t, cp, append(args, "--mode", mode, "-o", "json")...)
		var service []string
		for _, line := range strings.Split(driftBySource(parseSources(t, r))["helmrelease/"+ns+"/web"], "\n") {
			if strings.HasPrefix(line, "Service/") {
				service = append(service, line)
			}
		}
		if r.code != cli.ExitFindings || strings.Join(service, "\n") != want {
			t.Errorf("%s: exit %d, the Service's drift\n%s\nwant\n%s\nstderr: %s", mode, r.code, strings.Join(service, "\n"), want, r.stderr)
		}
	}
}

// webappFleetRepo is a bare Git repository (branch main) holding the
// helmChartFixture chart at charts/webapp.
func webappFleetRepo(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	work, bare := filepath.Join(base, "work"), filepath.Join(base, "fleet.git")
	if err := os.CopyFS(filepath.Join(work, "charts/webapp"), os.DirFS(helmChartFixture)); err != nil {
		t.Fatal(err)
	}
	gitRun(t, base, "init", "--quiet", work)
	gitRun(t, base, "init", "--quiet", "--bare", bare)
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "--quiet", "-m", "fleet")
	gitRun(t, work, "push", "--quiet", bare, "main")
	return bare
}
