package helmrender

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/action"
	ci "helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// installAction renders as Render did before it stopped linking the Helm
// SDK's action package: the install action in client-only dry-run (as
// `helm template` and helm-controller's install). Tests only: the action
// is the reference renderChart must match byte for byte.
func installAction(ctx context.Context, chartPath, name, namespace string, caps Capabilities, vals map[string]any) (string, []*release.Hook, error) {
	ch, err := loader.Load(chartPath)
	if err != nil {
		return "", nil, err
	}
	inst := action.NewInstall(action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler)))
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName, inst.Namespace = name, namespace
	inst.Replace = true
	if caps.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(caps.KubeVersion)
		if err != nil {
			return "", nil, err
		}
		inst.KubeVersion = kv
	}
	inst.APIVersions = common.VersionSet(caps.APIVersions)
	ri, err := inst.RunWithContext(ctx, ch, vals)
	if err != nil {
		return "", nil, err
	}
	r := ri.(*release.Release)
	return r.Manifest, r.Hooks, nil
}

// TestSameAsInstallAction is the differential test of renderChart against
// the Helm SDK's install action it replaces: for fixture charts (hooks with
// weights, NOTES.txt in a chart and a subchart, subcharts on and off by
// condition, global values, lookup, .Capabilities, .Release, a List, empty
// documents, a values schema) and the sealed-secrets chart, the release
// manifest is the same to the byte, the hooks are the same, and failures
// (schema, template, kubeVersion, release name) fail with the same message.
func TestSameAsInstallAction(t *testing.T) {
	t.Parallel()
	type tc struct {
		chart, name string
		caps        Capabilities
		values      map[string]any
		wantErr     bool
	}
	cases := map[string]tc{
		"webapp":             {"testdata/webapp", "web", testCaps, map[string]any{"replicaCount": 3, "config": map[string]any{"smtp": map[string]any{"pass": "p"}}}, false},
		"umbrella-no-caps":   {"testdata/umbrella", "um", Capabilities{}, nil, false},
		"webapp-no-hook":     {"testdata/webapp", "web", testCaps, map[string]any{"migration": map[string]any{"enabled": false}}, false},
		"umbrella":           {"testdata/umbrella", "um", Capabilities{KubeVersion: "v1.31.4", APIVersions: []string{"example.org/v1/Widget", "example.org/v1"}}, nil, false},
		"umbrella-values":    {"testdata/umbrella", "um", testCaps, map[string]any{"child": map[string]any{"replicas": 4}, "off": map[string]any{"enabled": true}, "global": map[string]any{"env": "dev"}}, false},
		"umbrella-child-off": {"testdata/umbrella", "um", testCaps, map[string]any{"child": map[string]any{"enabled": false}}, false},
		"schema":             {"testdata/webapp", "web", testCaps, map[string]any{"replicaCount": "three"}, true},
		"template":           {"testdata/webapp", "web", testCaps, map[string]any{"config": "flat"}, true},
		"kube-version":       {"testdata/webapp", "web", Capabilities{KubeVersion: "v1.20.0"}, nil, true},
		"release-name":       {"testdata/webapp", "Not_A_Name", testCaps, nil, true},
		"release-name-long":  {"testdata/webapp", strings.Repeat("a", 54), testCaps, nil, true},
	}
	if _, err := exec.LookPath("go"); err == nil {
		cases["sealed-secrets"] = tc{sealedSecretsChart(t), "sealed-secrets", testCaps, map[string]any{"fullnameOverride": "sealed-secrets-controller"}, false}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			vals := func() map[string]any {
				if c.values == nil {
					return map[string]any{}
				}
				return c.values
			}
			wantManifest, wantHooks, wantErr := installAction(ctx, c.chart, c.name, "apps", c.caps, vals())
			ch, err := loader.Load(c.chart)
			if err != nil {
				t.Fatal(err)
			}
			var kv *common.KubeVersion
			if c.caps.KubeVersion != "" {
				if kv, err = common.ParseKubeVersion(c.caps.KubeVersion); err != nil {
					t.Fatal(err)
				}
			}
			gotManifest, gotHooks, gotErr := renderChart(ctx, ch, c.name, "apps", kv, c.caps.APIVersions, vals(), false)
			if (wantErr != nil) != c.wantErr {
				t.Fatalf("install action: err = %v, want error %v", wantErr, c.wantErr)
			}
			if wantErr != nil || gotErr != nil {
				if gotErr == nil || wantErr == nil || gotErr.Error() != wantErr.Error() {
					t.Fatalf("error differs from the install action's:\n action: %v\n    ours: %v", wantErr, gotErr)
				}
				return
			}
			if !strings.Contains(wantManifest, "# Source: ") {
				t.Fatalf("install action rendered no manifest: the comparison would prove little")
			}
			if diff := cmp.Diff(wantManifest, gotManifest); diff != "" {
				t.Errorf("manifest differs from the install action's (-action +ours):\n%s", diff)
			}
			if diff := cmp.Diff(wantHooks, gotHooks); diff != "" {
				t.Errorf("hooks differ from the install action's (-action +ours):\n%s", diff)
			}
		})
	}
}

// TestCheckDependenciesAsAction: a dependency of Chart.yaml missing from
// charts/ fails as the Helm SDK's action.CheckDependencies fails.
func TestCheckDependenciesAsAction(t *testing.T) {
	t.Parallel()
	for name, keep := range map[string]int{"all": 2, "one-missing": 1, "none": 0} {
		ch, err := loader.Load("testdata/umbrella")
		if err != nil {
			t.Fatal(err)
		}
		ch.SetDependencies(ch.Dependencies()[:keep]...)
		req := make([]ci.Dependency, 0, len(ch.Metadata.Dependencies))
		for _, d := range ch.Metadata.Dependencies {
			req = append(req, d)
		}
		want, got := action.CheckDependencies(ch, req), checkDependencies(ch)
		if (want == nil) != (keep == 2) {
			t.Fatalf("%s: action.CheckDependencies = %v", name, want)
		}
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%s: checkDependencies = %v, want %v", name, got, want)
		}
	}
}

// TestLinksNoInstallAction: helmrender renders through the packages
// beneath the Helm SDK's install action, so the binaries linking it (drift)
// do not link or initialise the action's Kubernetes client, kubectl, the
// registry client (oras), storage drivers and getters.
func TestLinksNoInstallAction(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"helm.sh/helm/v4/pkg/action", "helm.sh/helm/v4/pkg/kube", "helm.sh/helm/v4/pkg/registry",
			"helm.sh/helm/v4/pkg/storage", "helm.sh/helm/v4/pkg/getter", "oras.land/", "k8s.io/kubectl/"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") || strings.HasSuffix(banned, "/") && strings.HasPrefix(dep, banned) {
				t.Errorf("helmrender links %s", dep)
			}
		}
	}
}
