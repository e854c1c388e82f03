package gitopsapi

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const postBuildCanary = "canary-s3cr3t-7f3a"

// clusterVars are the variables testdata/postbuild/cluster/vars.yaml holds,
// merged as kustomize-controller merges its substituteFrom list
// (cluster-vars, then cluster-vars-override, then cluster-secrets).
func clusterVars() map[string]string {
	return map[string]string{
		"cluster_name": "prod-eu", "cluster_domain": "prod.example.org", "replicas": "3", "db_password": postBuildCanary,
	}
}

// postBuildFields renders testdata/postbuild/repo at path with p and picks
// the fields holding variables.
func postBuildFields(t *testing.T, path string, p *PostBuild) (map[string]any, error) {
	t.Helper()
	src := &Source{Operator: Flux, Kind: "Kustomization", Namespace: "flux-system", Name: "apps", Path: path, Kustomize: true, PostBuild: p}
	set, err := Render(t.Context(), src, "testdata/postbuild/repo")
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, o := range set.Objects {
		u := o.Obj.Object
		switch o.Obj.GetKind() {
		case "Deployment":
			out["cluster label"] = o.Obj.GetLabels()["cluster"]
			out["replicas"], _, _ = unstructured.NestedFieldNoCopy(u, "spec", "replicas")
			cs, _, _ := unstructured.NestedSlice(u, "spec", "template", "spec", "containers")
			c := cs[0].(map[string]any)
			out["image"] = c["image"]
			for _, e := range c["env"].([]any) {
				em := e.(map[string]any)
				out["env "+em["name"].(string)] = em["value"]
			}
		case "Ingress":
			rules, _, _ := unstructured.NestedSlice(u, "spec", "rules")
			out["host"] = rules[0].(map[string]any)["host"]
		case "ConfigMap":
			out["script"], _, _ = unstructured.NestedString(u, "data", "run.sh")
		}
	}
	return out, nil
}

func TestPostBuildSubstitute(t *testing.T) {
	// As built, before any substitution. An empty value unquoted in YAML
	// becomes null, as it does for kustomize-controller.
	asBuilt := map[string]any{
		"cluster label": "${cluster_name}", "replicas": "${replicas:=2}", "image": "registry.${cluster_domain}/web:1.0",
		"env DB_PASSWORD": "${db_password}", "env ESCAPED": "$${not_a_var}", "env PLAIN_DOLLAR": "$HOME",
		"host": "web.${cluster_domain}", "script": "echo \"${HOME} ${cluster_domain}\"\n",
	}
	substituted := map[string]any{
		"cluster label": "prod-eu-1", "replicas": int64(3), "image": "registry.prod.example.org/web:1.0",
		"env DB_PASSWORD": postBuildCanary, "env ESCAPED": "${not_a_var}", "env PLAIN_DOLLAR": "$HOME",
		"host": "web.prod.example.org",
		// Annotated kustomize.toolkit.fluxcd.io/substitute: disabled.
		"script": "echo \"${HOME} ${cluster_domain}\"\n",
	}
	with := func(base map[string]any, kv ...any) map[string]any {
		out := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	without := func(keys ...string) map[string]string {
		v := clusterVars()
		for _, k := range keys {
			delete(v, k)
		}
		return v
	}
	tests := []struct {
		name    string
		pb      *PostBuild
		want    map[string]any
		wantErr string
	}{
		{"cluster vars; inline wins", &PostBuild{Substitute: map[string]string{"cluster_name": "prod-eu-1"}, vars: clusterVars()}, substituted, ""},
		{"default when unset", &PostBuild{vars: without("replicas")},
			with(substituted, "replicas", int64(2), "cluster label", "prod-eu"), ""},
		{"strict: an undefined variable is an error", &PostBuild{vars: without("db_password")}, nil, "db_password"},
		{"lenient: an undefined variable is empty", &PostBuild{Lenient: true, vars: without("db_password", "cluster_name")},
			with(substituted, "env DB_PASSWORD", nil, "cluster label", ""), ""},
		{"no variable: left as built", &PostBuild{}, asBuilt, ""},
		{"no variable, strategy Always: defaults apply", &PostBuild{Always: true, Lenient: true},
			with(asBuilt, "replicas", int64(2), "cluster label", "", "image", "registry./web:1.0", "env DB_PASSWORD", nil,
				"env ESCAPED", "${not_a_var}", "host", "web."), ""},
		{"an invalid variable name is an error", &PostBuild{Substitute: map[string]string{"cluster-name": "x"}}, nil, "'cluster-name' var name is invalid"},
		{"an unreadable source is an error", &PostBuild{SubstituteFrom: []SubstituteRef{{Kind: "ConfigMap", Name: "cluster-vars"}},
			loaded: true, loadErr: fmt.Errorf("substitute from 'ConfigMap/cluster-vars' error: %w", errNotFoundForTest)}, nil,
			"post build failed for 'Deployment.v1.apps/web': substitute from 'ConfigMap/cluster-vars' error: not found"},
		{"variables never read are an error", &PostBuild{SubstituteFrom: []SubstituteRef{{Kind: "Secret", Name: "cluster-secrets"}}}, nil,
			"were not read from the cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pb.vars != nil {
				tt.pb.loaded = true
			}
			got, err := postBuildFields(t, "apps/web", tt.pb)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("an unreadable source does not matter when every object disables substitution", func(t *testing.T) {
		pb := &PostBuild{loaded: true, loadErr: errNotFoundForTest}
		got, err := postBuildFields(t, "apps/scripts-only", pb)
		if err != nil || got["script"] != asBuilt["script"] {
			t.Errorf("got %v, %v", got, err)
		}
	})
}

var errNotFoundForTest = fmt.Errorf("not found")

// TestPostBuildErrorsMaskSecrets: a Secret's value quoted in a build error
// is masked.
func TestPostBuildErrorsMaskSecrets(t *testing.T) {
	pb := &PostBuild{loaded: true, vars: clusterVars(), secrets: []string{postBuildCanary},
		loadErr: fmt.Errorf("substitute from 'ConfigMap/x' error: admission refused %q", postBuildCanary)}
	_, err := postBuildFields(t, "apps/web", pb)
	if err == nil || strings.Contains(err.Error(), postBuildCanary) || !strings.Contains(err.Error(), "***") {
		t.Errorf("error %v: want the canary masked", err)
	}
}

func TestFluxPostBuild(t *testing.T) {
	ks := obj(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  path: ./apps/web
  sourceRef: {kind: GitRepository, name: fleet}
  postBuild:
    substituteStrategy: Always
    substitute: {cluster_name: prod-eu-1}
    substituteFrom:
      - {kind: ConfigMap, name: cluster-vars}
      - {kind: Secret, name: cluster-secrets, optional: true}
`)
	s := FluxSource(ks, obj(t, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: fleet, namespace: flux-system}\nspec: {url: https://example.org/fleet.git}\n"))
	want := &PostBuild{Substitute: map[string]string{"cluster_name": "prod-eu-1"}, Always: true,
		SubstituteFrom: []SubstituteRef{{Kind: "ConfigMap", Name: "cluster-vars"}, {Kind: "Secret", Name: "cluster-secrets", Optional: true}}}
	if diff := cmp.Diff(want, s.PostBuild, cmp.AllowUnexported(PostBuild{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s.Skip() != "" {
		t.Errorf("skipped: %s", s.Skip())
	}
	if FluxSource(obj(t, "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a, namespace: b}\nspec: {sourceRef: {kind: GitRepository, name: r}}\n"), nil).PostBuild != nil {
		t.Error("post build without spec.postBuild")
	}
}
