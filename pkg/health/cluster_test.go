package health

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// No controller-manager: status written through the /status subresource
// stays as written, so the tests play the controllers.
func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, controlplane.Options{CRDs: true}))
}

// live is a test's handle on the real API server.
type live struct {
	t      *testing.T
	reader *cluster.Client
	dyn    dynamic.Interface
}

func newLive(t *testing.T, namespaces ...string) *live {
	t.Helper()
	cp := controlplane.ForTest(t)
	cfg := cp.RESTConfig()
	c, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := &live{t: t, reader: c, dyn: dyn}
	for _, ns := range namespaces {
		l.apply(object("v1", "Namespace", "", ns, unset("metadata.generation")), false)
	}
	return l
}

var resources = map[string]schema.GroupVersionResource{
	"Namespace":     {Version: "v1", Resource: "namespaces"},
	"Deployment":    {Group: "apps", Version: "v1", Resource: "deployments"},
	"StatefulSet":   {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"Application":   {Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"},
	"Kustomization": {Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"},
	"HelmRelease":   {Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"},
}

// apply server-side applies obj; with status, only its status, through the
// status subresource (as a controller does).
func (l *live) apply(obj *unstructured.Unstructured, status bool) *unstructured.Unstructured {
	l.t.Helper()
	ctx := context.Background()
	ri := l.dyn.Resource(resources[obj.GetKind()])
	var r dynamic.ResourceInterface = ri
	if obj.GetNamespace() != "" {
		r = ri.Namespace(obj.GetNamespace())
	}
	opts := metav1.ApplyOptions{FieldManager: "health-test", Force: true}
	var got *unstructured.Unstructured
	var err error
	if status {
		got, err = r.ApplyStatus(ctx, obj.GetName(), obj, opts)
	} else {
		got, err = r.Apply(ctx, obj.GetName(), obj, opts)
	}
	if err != nil {
		l.t.Fatalf("applying %s %s/%s (status %v): %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), status, err)
	}
	return got
}

// applyWithStatus applies obj's spec, then its status through /status.
func (l *live) applyWithStatus(obj *unstructured.Unstructured) {
	l.t.Helper()
	spec := obj.DeepCopy()
	unstructured.RemoveNestedField(spec.Object, "status")
	unstructured.RemoveNestedField(spec.Object, "metadata", "generation")
	got := l.apply(spec, false)
	st := object(obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName(), unset("metadata.generation"))
	st.Object["status"] = obj.Object["status"]
	if g := obj.GetGeneration(); got.GetGeneration() != g {
		l.t.Fatalf("%s %s has generation %d, the fixture expects %d", obj.GetKind(), obj.GetName(), got.GetGeneration(), g)
	}
	l.apply(st, true)
}

func (l *live) evaluate(tg Target, e Expect) Result {
	l.t.Helper()
	got, err := Evaluate(context.Background(), l.reader, tg, e, now)
	if err != nil {
		l.t.Fatalf("Evaluate: %v", err)
	}
	return got
}

// podTemplate makes a fixture a valid workload for the API server.
func podTemplate(u *unstructured.Unstructured) {
	set("spec.selector.matchLabels.app", "web")(u)
	set("spec.template.metadata.labels.app", "web")(u)
}

func TestLiveDeployment(t *testing.T) {
	l := newLive(t, "live-deploy")
	tg := Target{Kind: Workload, WorkloadKind: Deployment, Namespace: "live-deploy", Name: "web"}
	const obj = "Deployment live-deploy/web"
	v142 := Expect{Version: "1.4.2", Image: "ghcr.io/acme/web"}
	at := func(mods ...mod) *unstructured.Unstructured {
		return deployment(append([]mod{podTemplate, set("metadata.namespace", "live-deploy")}, mods...)...)
	}

	if diff := cmp.Diff(Result{Object: obj, Reason: obj + " not found"}, l.evaluate(tg, v142)); diff != "" {
		t.Errorf("before creation (-want +got):\n%s", diff)
	}

	l.applyWithStatus(at())
	healthy := Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t1, Object: obj,
		Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:1.4.2, healthy for 50m0s"}
	if diff := cmp.Diff(healthy, l.evaluate(tg, v142)); diff != "" {
		t.Errorf("rolled out (-want +got):\n%s", diff)
	}
	wrong := Result{LiveVersion: "1.4.2", Object: obj, Reason: obj + ": runs ghcr.io/acme/web:1.4.2, want ghcr.io/acme/web:1.4.3"}
	if diff := cmp.Diff(wrong, l.evaluate(tg, Expect{Version: "1.4.3", Image: "ghcr.io/acme/web"})); diff != "" {
		t.Errorf("other version wanted (-want +got):\n%s", diff)
	}

	// The new version is applied; its controller has not seen it yet.
	l.apply(at(image("ghcr.io/acme/web:1.4.3"), unset("status"), unset("metadata.generation")), false)
	v143 := Expect{Version: "1.4.3", Image: "ghcr.io/acme/web"}
	unobserved := Result{Deployed: true, LiveVersion: "1.4.3", Object: obj, Reason: obj + ": generation 2 not yet observed by its controller (observed 1)"}
	if diff := cmp.Diff(unobserved, l.evaluate(tg, v143)); diff != "" {
		t.Errorf("spec not observed (-want +got):\n%s", diff)
	}

	// It rolls out one replica of three.
	l.applyWithStatus(at(generation(2), image("ghcr.io/acme/web:1.4.3"), set("status.observedGeneration", 2), set("status.updatedReplicas", 1),
		conditions(cond("Available", "True", "reason=MinimumReplicasAvailable", "lastTransitionTime="+ts(t0), "lastUpdateTime="+ts(t0)),
			cond("Progressing", "True", "reason=ReplicaSetUpdated", "lastTransitionTime="+ts(t0), "lastUpdateTime="+ts(t2)))))
	partial := Result{Deployed: true, LiveVersion: "1.4.3", Object: obj, Reason: obj + ": 1/3 replicas updated"}
	if diff := cmp.Diff(partial, l.evaluate(tg, v143)); diff != "" {
		t.Errorf("partial rollout (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Result{LiveVersion: "1.4.3", Object: obj, Reason: obj + ": runs ghcr.io/acme/web:1.4.3, want ghcr.io/acme/web:1.4.2"}, l.evaluate(tg, v142)); diff != "" {
		t.Errorf("old version during the rollout (-want +got):\n%s", diff)
	}
}

func TestLiveStatefulSet(t *testing.T) {
	l := newLive(t, "live-sts")
	l.applyWithStatus(statefulSet(podTemplate, set("metadata.namespace", "live-sts"), set("status.availableReplicas", 3), func(u *unstructured.Unstructured) {
		u.SetManagedFields(nil)
	}))
	got := l.evaluate(Target{Kind: Workload, WorkloadKind: StatefulSet, Namespace: "live-sts", Name: "db"}, Expect{Version: "1.4.2"})
	// Since is when the test wrote the status (the server's clock).
	if !got.Healthy || got.LiveVersion != "1.4.2" || got.Since.IsZero() || !got.Soaked(0, now) {
		t.Errorf("Evaluate = %+v, want healthy at 1.4.2 with the status write time as Since", got)
	}
}

// gitRepo makes a repository with three commits on main and returns them
// (oldest first) with a Contains func asking `git merge-base --is-ancestor`.
func gitRepo(t *testing.T) ([]string, func(ctx context.Context, applied, want string) (bool, error)) {
	t.Helper()
	dir := t.TempDir()
	git := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir, "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
			"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	ctx := context.Background()
	if _, err := git(ctx, "init", "-q"); err != nil {
		t.Fatalf("git init: %v", err)
	}
	var commits []string
	for _, v := range []string{"1.4.1", "1.4.2", "1.4.3"} {
		if err := os.WriteFile(filepath.Join(dir, "version"), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := git(ctx, "add", "version"); err != nil {
			t.Fatal(err)
		}
		if _, err := git(ctx, "commit", "-q", "-m", "web "+v); err != nil {
			t.Fatalf("git commit: %v", err)
		}
		sha, err := git(ctx, "rev-parse", "HEAD")
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, sha)
	}
	contains := func(ctx context.Context, applied, want string) (bool, error) {
		_, err := git(ctx, "merge-base", "--is-ancestor", want, applied)
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return false, nil
		}
		return err == nil, err
	}
	return commits, contains
}

func TestLiveArgoCDApplication(t *testing.T) {
	l := newLive(t, "live-argocd")
	commits, contains := gitRepo(t)
	l.apply(application(set("metadata.namespace", "live-argocd"), unset("metadata.generation"),
		set("spec.destination.server", "https://kubernetes.default.svc"), set("spec.destination.namespace", "web-dev"),
		set("spec.source.repoURL", "https://git.example.com/acme/gitops.git"), set("spec.source.path", "envs/dev"),
		set("status.sync.revision", commits[1])), false)
	tg := Target{Kind: ArgoCDApplication, Namespace: "live-argocd", Name: "web-dev"}
	const obj = "Application live-argocd/web-dev"

	healthy := Result{Deployed: true, Healthy: true, LiveVersion: commits[1], Since: t1, Object: obj,
		Reason: obj + ": Synced and Healthy at " + commits[1][:12] + ", healthy for 50m0s"}
	if diff := cmp.Diff(healthy, l.evaluate(tg, Expect{Revision: commits[0], Contains: contains})); diff != "" {
		t.Errorf("synced past the wanted commit (-want +got):\n%s", diff)
	}
	behind := Result{LiveVersion: commits[1], Object: obj,
		Reason: obj + ": revision " + commits[1][:12] + " does not contain " + commits[2][:12] + " (sync Synced, health Healthy)"}
	if diff := cmp.Diff(behind, l.evaluate(tg, Expect{Revision: commits[2], Contains: contains})); diff != "" {
		t.Errorf("synced before the wanted commit (-want +got):\n%s", diff)
	}
}

func TestLiveFluxKustomization(t *testing.T) {
	l := newLive(t, "live-flux")
	commits, contains := gitRepo(t)
	ks := func(mods ...mod) *unstructured.Unstructured {
		base := []mod{
			set("metadata.namespace", "live-flux"), generation(1), set("spec.prune", true), set("spec.path", "./envs/dev"),
			set("spec.sourceRef.kind", "GitRepository"), set("spec.sourceRef.name", "gitops"),
			set("status.observedGeneration", 1), set("status.lastAppliedRevision", "main@sha1:"+commits[2]),
			conditions(cond("Ready", "True", "reason=ReconciliationSucceeded", "message=Applied revision: main@sha1:"+commits[2],
				"lastTransitionTime="+ts(t1), "observedGeneration=1")),
		}
		return kustomization(append(base, mods...)...)
	}
	l.applyWithStatus(ks())
	tg := Target{Kind: FluxKustomization, Namespace: "live-flux", Name: "web"}
	const obj = "Kustomization live-flux/web"
	want := Expect{Revision: commits[1], Contains: contains}
	healthy := Result{Deployed: true, Healthy: true, LiveVersion: commits[2], Since: t1, Object: obj,
		Reason: obj + ": Ready, applied main@sha1:" + commits[2][:12] + ", healthy for 50m0s"}
	if diff := cmp.Diff(healthy, l.evaluate(tg, want)); diff != "" {
		t.Errorf("ready (-want +got):\n%s", diff)
	}

	l.apply(ks(set("spec.suspend", true), unset("status"), unset("metadata.generation")), false)
	suspended := Result{Deployed: true, LiveVersion: commits[2], Object: obj, Reason: obj + ": suspended, applied main@sha1:" + commits[2][:12]}
	if diff := cmp.Diff(suspended, l.evaluate(tg, want)); diff != "" {
		t.Errorf("suspended (-want +got):\n%s", diff)
	}
}

func TestLiveFluxHelmRelease(t *testing.T) {
	l := newLive(t, "live-helm")
	l.applyWithStatus(helmRelease(set("metadata.namespace", "live-helm"), set("spec.chart.spec.chart", "web"),
		set("spec.chart.spec.sourceRef.kind", "HelmRepository"), set("spec.chart.spec.sourceRef.name", "acme")))
	const obj = "HelmRelease live-helm/web"
	want := Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t1, Object: obj, Reason: obj + ": Ready, chart version 1.4.2, healthy for 50m0s"}
	got := l.evaluate(Target{Kind: FluxHelmRelease, Namespace: "live-helm", Name: "web"}, Expect{Version: "1.4.2", ChartVersion: true})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ready (-want +got):\n%s", diff)
	}
}
