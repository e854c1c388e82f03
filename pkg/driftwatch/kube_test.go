package driftwatch

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

func TestMain(m *testing.M) {
	os.Exit(controlplane.RunTests(m, controlplane.Options{}))
}

// TestWatchKubeEvents records events through pkg/cluster on the real API
// server: about a namespaced object (with its uid, so kubectl describe
// lists it), a cluster-scoped one (in "default"), one whose name is no DNS
// name, and one in a namespace that does not exist (a final error).
func TestWatchKubeEvents(t *testing.T) {
	cp := controlplane.ForTest(t)
	ctx := t.Context()
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	client, err := cluster.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := "kube-events"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &KubeEvents{Client: client, Reader: client, Instance: "watch-0"}

	tests := []struct {
		name      string
		ev        Event
		eventNS   string
		wantUID   string
		namePrefx string
	}{
		{"namespaced", Event{Type: corev1.EventTypeWarning, Reason: ReasonDriftDetected, Message: "Differs from Git: data.a changed by kubectl-edit (human)",
			Object: ObjectRef{"v1", "ConfigMap", ns, "app"}}, ns, string(cm.UID), "app."},
		{"cluster-scoped", Event{Type: corev1.EventTypeNormal, Reason: ReasonDriftResolved, Message: "Matches Git again",
			Object: ObjectRef{"v1", "Namespace", "", ns}}, "default", "", "kube-events."},
		{"name with colons, object gone", Event{Type: corev1.EventTypeWarning, Reason: ReasonDriftDetected, Message: "Missing from the cluster",
			Object: ObjectRef{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:drift:reader"}}, "default", "", "system-drift-reader."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := rec.Record(ctx, tt.ev); err != nil {
				t.Fatalf("Record: %v", err)
			}
			list, err := cs.CoreV1().Events(tt.eventNS).List(ctx, metav1.ListOptions{
				FieldSelector: fields.Set{"involvedObject.name": tt.ev.Object.Name, "involvedObject.kind": tt.ev.Object.Kind}.String()})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Items) != 1 {
				t.Fatalf("%d events, want 1", len(list.Items))
			}
			e := list.Items[0]
			if e.Type != tt.ev.Type || e.Reason != tt.ev.Reason || e.Message != tt.ev.Message || e.Count != 1 ||
				e.ReportingController != ReportingController || e.ReportingInstance != "watch-0" || e.Source.Component != ReportingController ||
				e.InvolvedObject.APIVersion != tt.ev.Object.APIVersion || e.InvolvedObject.Namespace != tt.ev.Object.Namespace ||
				e.LastTimestamp.IsZero() || !strings.HasPrefix(e.Name, tt.namePrefx) {
				t.Errorf("event %+v", e)
			}
			if tt.wantUID != "" && string(e.InvolvedObject.UID) != tt.wantUID {
				t.Errorf("involvedObject.uid = %q, want %q", e.InvolvedObject.UID, tt.wantUID)
			}
		})
	}

	out, err := cp.Kubectl(ctx, "describe", "-n", ns, "configmap/app").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DriftDetected") || !strings.Contains(string(out), "kubectl-edit (human)") {
		t.Errorf("kubectl describe does not show the event (%v):\n%s", err, out)
	}

	err = rec.Record(ctx, Event{Type: corev1.EventTypeWarning, Reason: ReasonDriftDetected, Message: "Missing",
		Object: ObjectRef{"v1", "ConfigMap", "no-such-namespace", "app"}})
	if !apierrors.IsNotFound(err) {
		t.Errorf("event in a missing namespace: %v, want NotFound (taken as final)", err)
	}

	long := strings.Repeat("x", 5000)
	if err := rec.Record(context.Background(), Event{Type: corev1.EventTypeWarning, Reason: ReasonDriftDetected, Message: long,
		Object: ObjectRef{"v1", "ConfigMap", ns, "long"}}); err != nil {
		t.Fatalf("long message: %v", err)
	}
	list, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=long"})
	if err != nil || len(list.Items) != 1 || len(list.Items[0].Message) > maxMessage {
		t.Errorf("long message not cut to %d bytes: %v %v", maxMessage, err, list)
	}
}
