package controlplane

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/test/childproc"
)

const helperEnv = "KUBECTL_GITOPS_CP_HELPER"

func TestMain(m *testing.M) {
	os.Exit(RunTests(m, Options{ControllerManager: true, CRDs: true}))
}

func clients(t *testing.T) (*kubernetes.Clientset, *dynamic.DynamicClient) {
	t.Helper()
	cp := ForTest(t)
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return cs, dyn
}

func applyYAML(ctx context.Context, t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, manifest string) (*unstructured.Unstructured, error) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatalf("bad fixture: %v", err)
	}
	data, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return dyn.Resource(gvr).Namespace(u.GetNamespace()).Patch(ctx, u.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "kubectl-gitops-test"})
}

func TestServerSideApplyRecordsManagedFields(t *testing.T) {
	cs, dyn := clients(t)
	ctx := t.Context()
	if _, err := applyYAML(ctx, t, dyn, schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, `
apiVersion: v1
kind: Namespace
metadata: {name: ssa-test}
`); err != nil {
		t.Fatal(err)
	}
	got, err := applyYAML(ctx, t, dyn, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ssa-test}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
`)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetUID() == "" {
		t.Fatal("applied Deployment has no uid")
	}
	dep, err := cs.AppsV1().Deployments("ssa-test").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var found *metav1.ManagedFieldsEntry
	for i, mf := range dep.ManagedFields {
		if mf.Manager == "kubectl-gitops-test" && mf.Operation == metav1.ManagedFieldsOperationApply {
			found = &dep.ManagedFields[i]
		}
	}
	if found == nil {
		t.Fatalf("no Apply managedFields entry for kubectl-gitops-test: %+v", dep.ManagedFields)
	}
	if !strings.Contains(found.FieldsV1.GetRawString(), `"f:replicas"`) {
		t.Errorf("managedFields of the applier do not own spec.replicas: %s", found.FieldsV1.GetRawString())
	}
	// Defaulting happened on the server, and nobody owns the defaulted field.
	if dep.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("strategy not defaulted by the server: %q", dep.Spec.Strategy.Type)
	}
	if strings.Contains(found.FieldsV1.GetRawString(), `"f:strategy"`) {
		t.Errorf("the applier must not own the defaulted strategy: %s", found.FieldsV1.GetRawString())
	}
}

func TestSubjectAccessReviewFollowsRBAC(t *testing.T) {
	cs, _ := clients(t)
	ctx := t.Context()
	ns := "rbac-test"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	review := func() *authorizationv1.SubjectAccessReview {
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:               "alice",
				Groups:             []string{"team-a"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "apps", Resource: "deployments"},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sar
	}
	if sar := review(); sar.Status.Allowed {
		t.Fatalf("alice may create deployments before any binding: %+v", sar.Status)
	}
	// The built-in "edit" ClusterRole only has rules once the
	// clusterrole-aggregation controller ran: this also proves it did.
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a-edit", Namespace: ns},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-a"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The authorizer's RBAC cache follows the binding through a watch.
	err := poll(ctx, 10*time.Second, func() (bool, error) { return review().Status.Allowed, nil })
	if err != nil {
		t.Fatalf("alice still denied after the RoleBinding: %v", err)
	}
}

func TestNamespaceDeletionFinishes(t *testing.T) {
	cs, _ := clients(t)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("doomed").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err := poll(ctx, 30*time.Second, func() (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("namespace not finalized (is the namespace controller running?): %v", err)
	}
}

func TestRealCRDsValidate(t *testing.T) {
	_, dyn := clients(t)
	application := schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	kustomization := schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	tests := []struct {
		name     string
		gvr      schema.GroupVersionResource
		manifest string
		// wantInvalid names a field the CRD's validation must reject.
		wantInvalid string
	}{
		{"argocd application", application, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: default}
spec:
  project: default
  source: {repoURL: "https://example.com/repo.git", path: guestbook, targetRevision: HEAD}
  destination: {server: "https://kubernetes.default.svc", namespace: guestbook}
`, ""},
		{"argocd application without destination", application, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: broken, namespace: default}
spec:
  project: default
  source: {repoURL: "https://example.com/repo.git", path: guestbook}
`, "spec.destination"},
		{"flux kustomization", kustomization, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: default}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`, ""},
		{"flux kustomization with a bad sourceRef kind", kustomization, `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: broken, namespace: default}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: Deployment, name: flux-system}
`, "spec.sourceRef.kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := applyYAML(t.Context(), t, dyn, tt.gvr, tt.manifest)
			if tt.wantInvalid == "" {
				if err != nil {
					t.Fatalf("the real CRD rejected a valid object: %v", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error from the CRD's validation, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantInvalid) {
				t.Errorf("error does not name %s: %v", tt.wantInvalid, err)
			}
		})
	}
}

func TestCRDsInstalled(t *testing.T) {
	_, dyn := clients(t)
	for _, name := range []string{
		"applications.argoproj.io", "appprojects.argoproj.io",
		"kustomizations.kustomize.toolkit.fluxcd.io", "gitrepositories.source.toolkit.fluxcd.io", "externalartifacts.source.toolkit.fluxcd.io",
		"helmreleases.helm.toolkit.fluxcd.io", "sealedsecrets.bitnami.com", "ocirepositories.source.toolkit.fluxcd.io",
		"helmrepositories.source.toolkit.fluxcd.io", "helmcharts.source.toolkit.fluxcd.io",
	} {
		if _, err := dyn.Resource(crdGVR).Get(t.Context(), name, metav1.GetOptions{}); err != nil {
			t.Errorf("CRD %s: %v", name, err)
		}
	}
}

// helperState is what the helper process prints once its control plane runs.
type helperState struct {
	Dir  string `json:"dir"`
	PIDs []int  `json:"pids"`
}

// TestHelperProcess is not a test: run with KUBECTL_GITOPS_CP_HELPER=1 it
// prints the shared control plane's state and blocks, so the tests below can
// kill a real test process holding a real control plane.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestKilledTestProcessLeavesNothing")
	}
	cp := ForTest(t)
	data, _ := json.Marshal(helperState{Dir: cp.Dir, PIDs: cp.PIDs()})
	fmt.Println(string(data))
	select {}
}

func TestKilledTestProcessLeavesNothing(t *testing.T) {
	ForTest(t) // skip like the others when the binaries are missing
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("helper printed no state: %v\n%s", err, stderr.String())
			}
			var st helperState
			if err := json.Unmarshal([]byte(line), &st); err != nil {
				t.Fatalf("helper state %q: %v", line, err)
			}
			if len(st.PIDs) != 3 {
				t.Fatalf("want etcd, kube-apiserver and kube-controller-manager, got pids %v", st.PIDs)
			}
			for _, pid := range st.PIDs {
				if !running(pid) {
					t.Fatalf("pid %d not running before the kill", pid)
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if err := poll(t.Context(), 15*time.Second, func() (bool, error) {
				for _, pid := range st.PIDs {
					if running(pid) {
						return false, nil
					}
				}
				return true, nil
			}); err != nil {
				t.Fatalf("control-plane processes %v still running after %v of the test process", st.PIDs, sig)
			}
			if sig == syscall.SIGKILL {
				// Nothing can clean up after SIGKILL; the next Start sweeps.
				childproc.SweepStale(filepath.Dir(st.Dir), dirPrefix)
			}
			if _, err := os.Stat(st.Dir); !os.IsNotExist(err) {
				t.Errorf("control-plane directory %s left behind after %v (stat: %v)", st.Dir, sig, err)
			}
		})
	}
}

// running reports whether pid is a live process (zombies count as dead).
func running(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...; comm may hold spaces, so cut at the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// TestNamespaceTwice: a test using Namespace can run twice on one control
// plane (go test -count=2): the second run gets the same namespace, created
// anew and empty, because the first run's cleanup waited until it was gone.
func TestNamespaceTwice(t *testing.T) {
	cs, _ := clients(t)
	cp := ForTest(t)
	for run := range 2 {
		t.Run("run", func(t *testing.T) {
			ns := cp.Namespace(t, "twice")
			if ns != "twice" {
				t.Errorf("run %d: namespace %q, want twice", run, ns)
			}
			cms, err := cs.CoreV1().ConfigMaps(ns).List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, cm := range cms.Items {
				if cm.Name == "left" {
					t.Errorf("run %d: the first run's ConfigMap is still there", run)
				}
			}
			if _, err := cs.CoreV1().ConfigMaps(ns).Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "left"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
