package health

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/kubectl/pkg/polymorphichelpers"
)

// workload.go ports kubectl's rollout StatusViewers (k8s.io/kubectl
// v0.37.2, pkg/polymorphichelpers/rollout_status.go) instead of importing
// them: that package links kubectl's describe, scheme and the pod
// helpers into promote (docs/architecture.md gives the size). These tests
// keep the port honest: over every combination of a small grid of
// generations, replica counts, conditions and partitions, as the API
// server serves the objects (spec.replicas and the rolling update's
// partition defaulted), our verdict "rolled out" must be the real
// viewer's (done without error). Only the verdict is compared: the
// messages are ours.
//
// One divergence is deliberate and left out of the grid: kubectl refuses
// to judge a StatefulSet or DaemonSet whose update strategy is OnDelete
// ("rollout status is only available for RollingUpdate strategy type");
// the gate judges it by its updated replicas (TestEvaluate's "statefulset
// OnDelete" cases).

// kubectlRolledOut asks kubectl's StatusViewer for obj's verdict.
func kubectlRolledOut(t *testing.T, obj runtime.Object) (bool, string) {
	t.Helper()
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: content}
	viewer, err := polymorphichelpers.StatusViewerFor(obj.GetObjectKind().GroupVersionKind().GroupKind())
	if err != nil {
		t.Fatal(err)
	}
	msg, done, err := viewer.Status(u, 0)
	if err != nil {
		return false, err.Error()
	}
	return done, msg
}

// unstructuredOf is obj as the gate reads it.
func unstructuredOf(t *testing.T, obj runtime.Object) map[string]any {
	t.Helper()
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return content
}

// generations are (metadata.generation, status.observedGeneration) pairs:
// observed, not yet observed, never observed.
var generations = [][2]int64{{1, 1}, {3, 3}, {2, 1}, {1, 0}}

func TestDeploymentRolledOutAsKubectl(t *testing.T) {
	conditions := map[string][]appsv1.DeploymentCondition{
		"none":                       nil,
		"new replica set available":  {{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"}},
		"progress deadline exceeded": {{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet web-1 has timed out progressing."}},
		"available":                  {{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}},
	}
	n := 0
	for _, g := range generations {
		for condName, conds := range conditions {
			for want := int32(0); want <= 3; want++ {
				for current := int32(0); current <= 4; current++ {
					for updated := int32(0); updated <= 3; updated++ {
						for available := int32(0); available <= 3; available++ {
							d := &appsv1.Deployment{
								TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
								ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: g[0]},
								Spec:       appsv1.DeploymentSpec{Replicas: &want},
								Status: appsv1.DeploymentStatus{ObservedGeneration: g[1], Replicas: current,
									UpdatedReplicas: updated, AvailableReplicas: available, Conditions: conds},
							}
							kDone, kMsg := kubectlRolledOut(t, d)
							done, msg := deploymentRolledOut(unstructuredOf(t, d))
							n++
							if done != kDone {
								t.Errorf("generation %d/%d, %s, replicas %d, status %d/%d/%d (current/updated/available): rolled out %v (%s), kubectl says %v (%q)",
									g[0], g[1], condName, want, current, updated, available, done, msg, kDone, kMsg)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d deployment states compared", n)
}

func TestStatefulSetRolledOutAsKubectl(t *testing.T) {
	n := 0
	for _, g := range generations {
		for want := int32(0); want <= 3; want++ {
			for ready := int32(0); ready <= 3; ready++ {
				for updated := int32(0); updated <= 3; updated++ {
					for partition := int32(0); partition <= 4; partition++ {
						s := &appsv1.StatefulSet{
							TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
							ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop", Generation: g[0]},
							Spec: appsv1.StatefulSetSpec{Replicas: &want, UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
								Type:          appsv1.RollingUpdateStatefulSetStrategyType,
								RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: &partition},
							}},
							Status: appsv1.StatefulSetStatus{ObservedGeneration: g[1], Replicas: want,
								ReadyReplicas: ready, UpdatedReplicas: updated, CurrentRevision: "db-1", UpdateRevision: "db-2"},
						}
						kDone, kMsg := kubectlRolledOut(t, s)
						done, msg := statefulSetRolledOut(unstructuredOf(t, s))
						n++
						if done != kDone {
							t.Errorf("generation %d/%d, replicas %d, ready %d, updated %d, partition %d: rolled out %v (%s), kubectl says %v (%q)",
								g[0], g[1], want, ready, updated, partition, done, msg, kDone, kMsg)
						}
					}
				}
			}
		}
	}
	t.Logf("%d statefulset states compared", n)
}

func TestDaemonSetRolledOutAsKubectl(t *testing.T) {
	n := 0
	for _, g := range generations {
		for desired := int32(0); desired <= 3; desired++ {
			for updated := int32(0); updated <= 3; updated++ {
				for available := int32(0); available <= 3; available++ {
					d := &appsv1.DaemonSet{
						TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
						ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "shop", Generation: g[0]},
						Spec:       appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
						Status: appsv1.DaemonSetStatus{ObservedGeneration: g[1], DesiredNumberScheduled: desired,
							UpdatedNumberScheduled: updated, NumberAvailable: available},
					}
					kDone, kMsg := kubectlRolledOut(t, d)
					done, msg := daemonSetRolledOut(unstructuredOf(t, d))
					n++
					if done != kDone {
						t.Errorf("generation %d/%d, desired %d, updated %d, available %d: rolled out %v (%s), kubectl says %v (%q)",
							g[0], g[1], desired, updated, available, done, msg, kDone, kMsg)
					}
				}
			}
		}
	}
	t.Logf("%d daemonset states compared", n)
}
