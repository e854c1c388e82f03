package drift

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/driftwatch"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// helmCanaries are the secret values of the Helm values fixtures, by where
// they sit; "git" values are in the files, "live" ones only in the cluster.
type helmCanaries struct {
	release, target, values, object, param string
}

func helmCanariesFor(side string) helmCanaries {
	c := func(what string) string { return canary + "-" + what + "-" + side }
	return helmCanaries{c("release"), c("target"), c("values"), c("object"), c("param")}
}

func (h helmCanaries) all() []string {
	return []string{h.release, h.target, h.values, h.object, h.param}
}

// helmRelease is a Flux HelmRelease holding secrets in spec.values under
// a secret key and at a valuesFrom Secret's targetPath (under a key that is
// not secret-like).
func helmRelease(ns, name string, s helmCanaries) string {
	return `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: ` + name + `, namespace: ` + ns + `, labels: {` + fluxLabels("apps") + `}}
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: grafana}
  valuesFrom:
  - {kind: Secret, name: smtp-creds, valuesKey: pass, targetPath: smtp.pass}
  values:
    grafana: {adminUser: admin, adminPassword: ` + s.release + `}
    smtp: {host: mail.example.com, pass: ` + s.target + `}
`
}

// helmObjects are a HelmRelease and an Argo CD Application holding secrets
// in each place their Helm values can: the release's, and the
// Application's helm.values (a string), helm.valuesObject and
// helm.parameters.
func helmObjects(ns string, s helmCanaries) string {
	return helmRelease(ns, "grafana", s) + `---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: ` + ns + `, labels: {` + fluxLabels("apps") + `}}
spec:
  project: default
  destination: {server: "https://kubernetes.default.svc", namespace: web}
  source:
    repoURL: https://charts.example.com
    chart: web
    targetRevision: 1.2.3
    helm:
      values: |
        auth:
          username: admin
          password: ` + s.values + `
        replicas: 2
      valuesObject:
        db: {host: db.example.com, apiKey: ` + s.object + `}
      parameters:
      - {name: image.tag, value: "1.2"}
      - {name: auth.token, value: ` + s.param + `}
`
}

// TestHelmValuesNeverLeak: secret Helm values of a HelmRelease and an
// Application that drifted (someone put other secrets in the cluster) are
// masked in every output format and mode, in the external diff's files, in
// --fix's output and in watch's logs and Events; --show-secrets shows them.
func TestHelmValuesNeverLeak(t *testing.T) {
	cp := controlplane.ForTest(t)
	ns := "helm-values"
	kubectl(t, cp, "", "create", "namespace", ns)
	git, live := helmCanariesFor("git"), helmCanariesFor("live")
	stray := canary + "-stray"
	kubectl(t, cp, helmObjects(ns, live), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	// Applied client-side: its values are in the last-applied annotation too.
	kubectl(t, cp, helmRelease(ns, "legacy", helmCanariesFor("applied")), "apply", "-f", "-")
	// Extraneous: tracked by the same Kustomization, not in Git; applied
	// client-side, so its whole last-applied annotation is in the report.
	kubectl(t, cp, helmRelease(ns, "stray", helmCanariesFor("x"))+"    extra: {token: "+stray+"}\n", "apply", "-f", "-")
	dir := writeFiles(t, map[string]string{"helm.yaml": helmObjects(ns, git) + "---\n" + helmRelease(ns, "legacy", git)})

	var forbidden []string
	secrets := append(append(append(append(git.all(), live.all()...), helmCanariesFor("x").all()...), helmCanariesFor("applied").all()...), stray)
	for _, s := range secrets {
		forbidden = append(forbidden, s, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	leaks := func(t *testing.T, what, text string) {
		t.Helper()
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Errorf("%s: secret value %q leaked:\n%s", what, f, text)
			}
		}
	}

	for _, mode := range []string{"server", "local"} {
		for _, format := range outputs {
			args := []string{"-f", dir, "--mode", mode, "-o", format}
			r := runDrift(t, cp, args...)
			if r.code != cli.ExitFindings {
				t.Errorf("%v: exit %d: %s", args, r.code, r.stderr)
			}
			leaks(t, fmt.Sprint(args), r.stdout+r.stderr)
			switch format {
			case "diff":
				// The changed values stay visible as changed.
				if !strings.Contains(r.stdout, "spec.values.grafana.adminPassword: \"*** (after)\" in Git, \"*** (before)\" live") {
					t.Errorf("%v: the changed adminPassword is not shown masked:\n%s", args, r.stdout)
				}
			case "json":
				rep := parseReport(t, r.stdout)
				got := strings.Join(drifted(rep), "\n")
				for _, want := range []string{"HelmRelease/grafana modified spec.values.grafana.adminPassword", "HelmRelease/grafana modified spec.values.smtp.pass",
					"HelmRelease/stray extraneous", "Application/web modified spec.source.helm.values", "HelmRelease/legacy modified spec.values.grafana.adminPassword"} {
					if !strings.Contains(got, want) {
						t.Errorf("%v: no %q in the report:\n%s", args, want, got)
					}
				}
			}
		}
	}

	t.Run("external diff", func(t *testing.T) {
		recording := externalDiffSetup(t, "1")
		r := runDrift(t, cp, "-f", dir)
		data, err := os.ReadFile(recording)
		if err != nil {
			t.Fatalf("external diff did not run (exit %d): %v\n%s", r.code, err, r.stderr)
		}
		leaks(t, "external diff files", string(data)+r.stdout+r.stderr)
		if !strings.Contains(string(data), "adminPassword: '*** (before)'") {
			t.Errorf("the live file does not show the masked password:\n%s", data)
		}
	})

	t.Run("show-secrets", func(t *testing.T) {
		r := runDrift(t, cp, "-f", dir, "-o", "json", "--show-secrets")
		for _, want := range []string{live.release, git.target, live.param} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("--show-secrets does not show %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("watch", func(t *testing.T) {
		run := startWatch(t, cp, dir, nil)
		eventually(t, "drift events recorded", func() string {
			if n := count(driftEvents(t, cp, ns), driftwatch.ReasonDriftDetected); n < 2 {
				return fmt.Sprintf("%d DriftDetected events\n%s", n, tail(run.errOut.String()))
			}
			return ""
		})
		run.stop(t)
		leaks(t, "watch logs", run.errOut.String())
		leaks(t, "events", kubectl(t, cp, "", "get", "events", "-n", ns, "-o", "json"))
	})

	t.Run("fix", func(t *testing.T) {
		r := runDrift(t, cp, "-f", dir, "--fix", "--prune", "--yes", "--force-conflicts", "-o", "markdown")
		if r.code != 0 {
			t.Errorf("--fix: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "applied helm.toolkit.fluxcd.io/v2 HelmRelease") {
			t.Errorf("--fix did not apply the HelmRelease:\n%s", r.stderr)
		}
		leaks(t, "--fix", r.stdout+r.stderr)
	})
}
