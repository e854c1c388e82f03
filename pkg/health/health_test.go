package health

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
)

type evalCase struct {
	name   string
	live   *unstructured.Unstructured
	target Target
	expect Expect
	want   Result
}

func runEval(t *testing.T, tests []evalCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &fakeReader{served: allServed(), live: []*unstructured.Unstructured{tt.live}}
			got, err := Evaluate(context.Background(), r, tt.target, tt.expect, now)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWorkload(t *testing.T) {
	t.Parallel()
	deploy := Target{Kind: Workload, WorkloadKind: Deployment, Namespace: "web-dev", Name: "web"}
	v142 := Expect{Version: "1.4.2", Image: "ghcr.io/acme/web"}
	const obj = "Deployment web-dev/web"
	runEval(t, []evalCase{
		{
			name: "rolled out at the version", live: deployment(), target: deploy, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t1, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:1.4.2, healthy for 50m0s"},
		},
		{
			name: "other tag", live: deployment(image("ghcr.io/acme/web:1.4.1")), target: deploy, expect: v142,
			want: Result{LiveVersion: "1.4.1", Object: obj, Reason: obj + ": runs ghcr.io/acme/web:1.4.1, want ghcr.io/acme/web:1.4.2"},
		},
		{
			name: "other tag without image repository", live: deployment(image("ghcr.io/acme/web:1.4.1")), target: deploy, expect: Expect{Version: "1.4.2"},
			want: Result{LiveVersion: "1.4.1", Object: obj, Reason: obj + ": runs ghcr.io/acme/web:1.4.1, want 1.4.2"},
		},
		{
			name: "same tag of another repository", live: deployment(image("ghcr.io/acme/api:1.4.2")), target: deploy, expect: v142,
			want: Result{Object: obj, Reason: obj + ": no container runs ghcr.io/acme/web (images: ghcr.io/acme/api:1.4.2)"},
		},
		{
			name: "partial rollout", live: deployment(set("status.updatedReplicas", 1)), target: deploy, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: obj, Reason: obj + ": 1/3 replicas updated"},
		},
		{
			name: "old replicas pending termination", live: deployment(set("status.replicas", 4)), target: deploy, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: obj, Reason: obj + ": 1 old replicas pending termination"},
		},
		{
			name: "updated replicas not available", live: deployment(set("status.availableReplicas", 2)), target: deploy, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: obj, Reason: obj + ": 2/3 updated replicas available"},
		},
		{
			name: "spec not observed", live: deployment(generation(2)), target: deploy, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: obj, Reason: obj + ": generation 2 not yet observed by its controller (observed 1)"},
		},
		{
			name: "progress deadline exceeded",
			live: deployment(set("status.updatedReplicas", 1), conditions(cond("Progressing", "False", "reason=ProgressDeadlineExceeded",
				`message=ReplicaSet "web-5d4f" has timed out progressing.`))),
			target: deploy, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: obj, Reason: obj + `: progress deadline exceeded: ReplicaSet "web-5d4f" has timed out progressing.`},
		},
		{
			name: "scaled to zero", live: deployment(set("spec.replicas", 0), set("status.replicas", 0), set("status.updatedReplicas", 0),
				set("status.availableReplicas", 0), conditions()), target: deploy, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Object: obj,
				Reason: obj + ": rolled out, 0/0 replicas updated and available, image ghcr.io/acme/web:1.4.2"},
		},
		{
			name: "tag and digest, tag wanted", live: deployment(image("ghcr.io/acme/web:1.4.2@" + dig)), target: deploy, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t1, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:1.4.2@" + dig + ", healthy for 50m0s"},
		},
		{
			name: "tag and digest, digest wanted", live: deployment(image("ghcr.io/acme/web:1.4.2@" + dig)), target: deploy,
			expect: Expect{Version: dig, Image: "ghcr.io/acme/web"},
			want: Result{Deployed: true, Healthy: true, LiveVersion: dig, Since: t1, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:1.4.2@" + dig + ", healthy for 50m0s"},
		},
		{
			name: "tag where a digest is wanted", live: deployment(image("ghcr.io/acme/web:1.4.2")), target: deploy,
			expect: Expect{Version: dig, Image: "ghcr.io/acme/web"},
			want:   Result{LiveVersion: "1.4.2", Object: obj, Reason: obj + ": runs ghcr.io/acme/web:1.4.2, want ghcr.io/acme/web@" + dig},
		},
		{
			name: "Docker Hub names", live: deployment(image("nginx:1.27")), target: deploy,
			expect: Expect{Version: "1.27", Image: "docker.io/library/nginx"},
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.27", Since: t1, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image nginx:1.27, healthy for 50m0s"},
		},
		{
			name: "any container matches", live: deployment(containers("containers", "proxy=envoyproxy/envoy:v1.31", "app=ghcr.io/acme/web:1.4.2")),
			target: deploy, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t1, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:1.4.2, healthy for 50m0s"},
		},
		{
			name: "init container matches", live: deployment(containers("initContainers", "migrate=ghcr.io/acme/web:1.4.2"), image("busybox:1")),
			target: deploy, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t1, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:1.4.2, healthy for 50m0s"},
		},
		{
			name: "several containers, version nowhere", live: deployment(containers("containers", "proxy=envoyproxy/envoy:v1.31", "app=ghcr.io/acme/web:1.4.1")),
			target: deploy, expect: Expect{Version: "1.4.2"},
			want: Result{Object: obj, Reason: obj + ": no container runs version 1.4.2 (images: envoyproxy/envoy:v1.31, ghcr.io/acme/web:1.4.1)"},
		},
		{
			name:   "named container at another version",
			live:   deployment(containers("containers", "app=ghcr.io/acme/web:1.4.2", "worker=ghcr.io/acme/web:1.4.1")),
			target: Target{Kind: Workload, WorkloadKind: Deployment, Namespace: "web-dev", Name: "web", Container: "worker"}, expect: v142,
			want: Result{LiveVersion: "1.4.1", Object: obj, Reason: obj + ": container worker runs ghcr.io/acme/web:1.4.1, want ghcr.io/acme/web:1.4.2"},
		},
		{
			name:   "named container missing",
			live:   deployment(),
			target: Target{Kind: Workload, WorkloadKind: Deployment, Namespace: "web-dev", Name: "web", Container: "api"}, expect: v142,
			want: Result{Object: obj, Reason: obj + `: no container "api" in the pod template`},
		},
		{
			name: "no version expected", live: deployment(image("ghcr.io/acme/web:whatever")), target: deploy,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "whatever", Since: t1, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:whatever, healthy for 50m0s"},
		},
		{
			name: "Since from Available alone", live: deployment(conditions(cond("Available", "True", "lastTransitionTime="+ts(t0)))),
			target: deploy, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t0, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:1.4.2, healthy for 1h0m0s"},
		},
		{
			name: "Since from the last status write", live: deployment(conditions(), statusWrite(t2)), target: deploy, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t2, Object: obj,
				Reason: obj + ": rolled out, 3/3 replicas updated and available, image ghcr.io/acme/web:1.4.2, healthy for 40m0s"},
		},
		{
			name: "not found", live: deployment(), target: Target{Kind: Workload, WorkloadKind: Deployment, Namespace: "web-dev", Name: "api"}, expect: v142,
			want: Result{Object: "Deployment web-dev/api", Reason: "Deployment web-dev/api not found"},
		},
	})
}

func TestStatefulSetAndDaemonSet(t *testing.T) {
	t.Parallel()
	sts := Target{Kind: Workload, WorkloadKind: StatefulSet, Namespace: "web-dev", Name: "db"}
	ds := Target{Kind: Workload, WorkloadKind: DaemonSet, Namespace: "web-dev", Name: "agent"}
	v142 := Expect{Version: "1.4.2", Image: "ghcr.io/acme/web"}
	const s, d = "StatefulSet web-dev/db", "DaemonSet web-dev/agent"
	runEval(t, []evalCase{
		{
			name: "statefulset rolled out", live: statefulSet(), target: sts, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t2, Object: s,
				Reason: s + ": rolled out, 3/3 replicas updated and ready, image ghcr.io/acme/web:1.4.2, healthy for 40m0s"},
		},
		{
			name: "statefulset never observed", live: statefulSet(set("status.observedGeneration", 0)), target: sts, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: s, Reason: s + ": spec not yet observed by its controller"},
		},
		{
			name: "statefulset spec not observed", live: statefulSet(generation(3)), target: sts, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: s, Reason: s + ": generation 3 not yet observed by its controller (observed 1)"},
		},
		{
			name: "statefulset pods not ready", live: statefulSet(set("status.readyReplicas", 2)), target: sts, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: s, Reason: s + ": 2/3 replicas ready"},
		},
		{
			name: "statefulset rolling update", live: statefulSet(set("status.updatedReplicas", 1)), target: sts, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: s, Reason: s + ": 1/3 replicas updated"},
		},
		{
			name: "statefulset partitioned", live: statefulSet(set("spec.updateStrategy.rollingUpdate.partition", 2), set("status.updatedReplicas", 1)),
			target: sts, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t2, Object: s,
				Reason: s + ": partitioned roll out complete, 1 replicas updated (partition 2), image ghcr.io/acme/web:1.4.2, healthy for 40m0s"},
		},
		{
			name: "statefulset OnDelete not updated", live: statefulSet(set("spec.updateStrategy.type", "OnDelete"), unset("spec.updateStrategy.rollingUpdate"),
				set("status.updatedReplicas", 2)), target: sts, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: s, Reason: s + ": 2/3 replicas updated (OnDelete)"},
		},
		{
			name: "daemonset rolled out", live: daemonSet(), target: ds, expect: v142,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t2, Object: d,
				Reason: d + ": rolled out, 2/2 pods updated and available, image ghcr.io/acme/web:1.4.2, healthy for 40m0s"},
		},
		{
			name: "daemonset updating", live: daemonSet(set("status.updatedNumberScheduled", 1)), target: ds, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: d, Reason: d + ": 1/2 pods updated"},
		},
		{
			name: "daemonset not available", live: daemonSet(set("status.numberAvailable", 1)), target: ds, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: d, Reason: d + ": 1/2 updated pods available"},
		},
		{
			name: "daemonset spec not observed", live: daemonSet(generation(2)), target: ds, expect: v142,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: d, Reason: d + ": generation 2 not yet observed by its controller (observed 1)"},
		},
	})
}

func TestArgoCDApplication(t *testing.T) {
	t.Parallel()
	app := Target{Kind: ArgoCDApplication, Namespace: "argocd", Name: "web-dev"}
	const obj = "Application argocd/web-dev"
	atA := Expect{Revision: shaA}
	runEval(t, []evalCase{
		{
			name: "synced and healthy at the revision", live: application(), target: app, expect: atA,
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaA, Since: t1, Object: obj,
				Reason: obj + ": Synced and Healthy at aaaaaaaaaaaa, healthy for 50m0s"},
		},
		{
			name: "abbreviated wanted revision", live: application(), target: app, expect: Expect{Revision: shaA[:7]},
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaA, Since: t1, Object: obj,
				Reason: obj + ": Synced and Healthy at aaaaaaaaaaaa, healthy for 50m0s"},
		},
		{
			name: "later revision without Contains", live: application(set("status.sync.revision", shaC)), target: app, expect: atA,
			want: Result{LiveVersion: shaC, Object: obj, Reason: obj + ": revision cccccccccccc does not contain aaaaaaaaaaaa (sync Synced, health Healthy)"},
		},
		{
			name: "later revision containing it", live: application(set("status.sync.revision", shaC)), target: app,
			expect: Expect{Revision: shaB, Contains: repo.contains},
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaC, Since: t1, Object: obj,
				Reason: obj + ": Synced and Healthy at cccccccccccc, healthy for 50m0s"},
		},
		{
			name: "older revision", live: application(set("status.sync.revision", shaA)), target: app,
			expect: Expect{Revision: shaB, Contains: repo.contains},
			want:   Result{LiveVersion: shaA, Object: obj, Reason: obj + ": revision aaaaaaaaaaaa does not contain bbbbbbbbbbbb (sync Synced, health Healthy)"},
		},
		{
			name: "multi-source revisions", live: application(unset("status.sync.revision"), set("status.sync.revisions", []any{shaB, "1.2.0"})), target: app,
			expect: Expect{Revision: shaA, Contains: repo.contains},
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaB, Since: t1, Object: obj,
				Reason: obj + ": Synced and Healthy at bbbbbbbbbbbb, healthy for 50m0s"},
		},
		{
			name: "no revision yet", live: application(unset("status.sync"), unset("status.health")), target: app, expect: atA,
			want: Result{Object: obj, Reason: obj + ": no synced revision yet (sync Unknown, health Unknown)"},
		},
		{
			name: "out of sync", live: application(set("status.sync.status", "OutOfSync"),
				conditions(cond("OrphanedResourceWarning", "", "message=1 orphaned"), cond("ComparisonError", "", "message=rpc error:\n  repository not found"))),
			target: app, expect: atA,
			want: Result{LiveVersion: shaA, Object: obj, Reason: obj + ": sync OutOfSync at aaaaaaaaaaaa: ComparisonError: rpc error: repository not found"},
		},
		{
			name: "degraded", live: application(set("status.health.status", "Degraded"), set("status.health.message", "Back-off pulling image")),
			target: app, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": health Degraded at aaaaaaaaaaaa: Back-off pulling image"},
		},
		{
			name: "progressing", live: application(set("status.health.status", "Progressing")), target: app, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": health Progressing at aaaaaaaaaaaa"},
		},
		{
			name: "missing", live: application(set("status.health.status", "Missing")), target: app, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": health Missing at aaaaaaaaaaaa"},
		},
		{
			name: "sync running", live: application(set("status.operationState.phase", "Running")), target: app, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": sync operation Running at aaaaaaaaaaaa"},
		},
		{
			name: "Since from the last sync", live: application(unset("status.health.lastTransitionTime")), target: app, expect: atA,
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaA, Since: t0, Object: obj,
				Reason: obj + ": Synced and Healthy at aaaaaaaaaaaa, healthy for 1h0m0s"},
		},
		{
			name: "Since from the last reconciliation", live: application(unset("status.health.lastTransitionTime"), unset("status.operationState")),
			target: app, expect: atA,
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaA, Since: t2, Object: obj,
				Reason: obj + ": Synced and Healthy at aaaaaaaaaaaa, healthy for 40m0s"},
		},
		{
			name: "no revision expected", live: application(), target: app,
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaA, Since: t1, Object: obj,
				Reason: obj + ": Synced and Healthy at aaaaaaaaaaaa, healthy for 50m0s"},
		},
		{
			name: "not found", live: application(), target: Target{Kind: ArgoCDApplication, Namespace: "argocd", Name: "web-prod"}, expect: atA,
			want: Result{Object: "Application argocd/web-prod", Reason: "Application argocd/web-prod not found"},
		},
	})
}

func TestFluxKustomization(t *testing.T) {
	t.Parallel()
	digest := strings.Repeat("d", 64)
	ks := Target{Kind: FluxKustomization, Namespace: "flux-system", Name: "web"}
	const obj = "Kustomization flux-system/web"
	atA := Expect{Revision: shaA}
	notReady := func(status, reason, msg string) mod {
		return conditions(cond("Ready", status, "reason="+reason, "message="+msg, "observedGeneration=2"))
	}
	runEval(t, []evalCase{
		{
			name: "ready at the revision", live: kustomization(), target: ks, expect: atA,
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaA, Since: t1, Object: obj,
				Reason: obj + ": Ready, applied main@sha1:aaaaaaaaaaaa, healthy for 50m0s"},
		},
		{
			name: "later revision containing it", live: kustomization(set("status.lastAppliedRevision", "main@sha1:"+shaC)), target: ks,
			expect: Expect{Revision: shaB, Contains: repo.contains},
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaC, Since: t1, Object: obj,
				Reason: obj + ": Ready, applied main@sha1:cccccccccccc, healthy for 50m0s"},
		},
		{
			name: "older revision", live: kustomization(), target: ks, expect: Expect{Revision: shaB, Contains: repo.contains},
			want: Result{LiveVersion: shaA, Object: obj, Reason: obj + ": applied revision main@sha1:aaaaaaaaaaaa does not contain bbbbbbbbbbbb"},
		},
		{
			name: "older revision, newer one failing",
			live: kustomization(set("status.lastAttemptedRevision", "main@sha1:"+shaB),
				notReady("False", "BuildFailed", "kustomize build failed: accumulating resources")),
			target: ks, expect: Expect{Revision: shaB, Contains: repo.contains},
			want: Result{LiveVersion: shaA, Object: obj,
				Reason: obj + ": applied revision main@sha1:aaaaaaaaaaaa does not contain bbbbbbbbbbbb (Ready=False (BuildFailed): kustomize build failed: accumulating resources)"},
		},
		{
			name: "legacy revision format", live: kustomization(set("status.lastAppliedRevision", "main/"+shaA)), target: ks, expect: atA,
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaA, Since: t1, Object: obj,
				Reason: obj + ": Ready, applied main/aaaaaaaaaaaa, healthy for 50m0s"},
		},
		{
			name: "bare commit revision", live: kustomization(set("status.lastAppliedRevision", "sha1:"+shaA)), target: ks, expect: atA,
			want: Result{Deployed: true, Healthy: true, LiveVersion: shaA, Since: t1, Object: obj,
				Reason: obj + ": Ready, applied sha1:aaaaaaaaaaaa, healthy for 50m0s"},
		},
		{
			name: "suspended", live: kustomization(set("spec.suspend", true)), target: ks, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": suspended, applied main@sha1:aaaaaaaaaaaa"},
		},
		{
			name: "generation not reconciled", live: kustomization(generation(3)), target: ks, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": generation 3 not yet reconciled (observed 2), applied main@sha1:aaaaaaaaaaaa"},
		},
		{
			name: "stale Ready condition", live: kustomization(conditions(cond("Ready", "True", "observedGeneration=1"))), target: ks, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": Ready condition is for generation 1, not 2, applied main@sha1:aaaaaaaaaaaa"},
		},
		{
			name: "not ready", live: kustomization(notReady("False", "HealthCheckFailed", "timeout waiting for: [Deployment/web-dev/web status: 'InProgress']")),
			target: ks, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj,
				Reason: obj + ": Ready=False (HealthCheckFailed): timeout waiting for: [Deployment/web-dev/web status: 'InProgress'], applied main@sha1:aaaaaaaaaaaa"},
		},
		{
			name: "reconciling", live: kustomization(notReady("Unknown", "Progressing", "Reconciliation in progress")), target: ks, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj,
				Reason: obj + ": Ready=Unknown (Progressing): Reconciliation in progress, applied main@sha1:aaaaaaaaaaaa"},
		},
		{
			name: "ready but stalled", live: kustomization(conditions(cond("Ready", "True"), cond("Stalled", "True", "reason=InvalidPath"))),
			target: ks, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": Stalled (InvalidPath), applied main@sha1:aaaaaaaaaaaa"},
		},
		{
			name: "no Ready condition", live: kustomization(conditions()), target: ks, expect: atA,
			want: Result{Deployed: true, LiveVersion: shaA, Object: obj, Reason: obj + ": no Ready condition yet, applied main@sha1:aaaaaaaaaaaa"},
		},
		// A Kustomization reading an OCIRepository's artifact: its revision
		// is the artifact's tag and digest, never a Git commit.
		{
			name: "OCI artifact at the promoted tag", live: kustomization(set("status.lastAppliedRevision", "v1.3.0@sha256:"+digest)), target: ks,
			expect: Expect{Version: "v1.3.0", Revision: shaA, Artifact: true, Contains: repo.contains},
			want: Result{Deployed: true, Healthy: true, LiveVersion: "v1.3.0", Since: t1, Object: obj,
				Reason: obj + ": Ready, applied v1.3.0@sha256:dddddddddddd, healthy for 50m0s"},
		},
		{
			name: "OCI artifact at another tag", live: kustomization(set("status.lastAppliedRevision", "v1.2.0@sha256:"+digest)), target: ks,
			expect: Expect{Version: "v1.3.0", Revision: shaA, Artifact: true, Contains: repo.contains},
			want:   Result{LiveVersion: "v1.2.0", Object: obj, Reason: obj + ": applied artifact v1.2.0@sha256:dddddddddddd, not tag v1.3.0"},
		},
		{
			name: "OCI artifact pinned by digest", live: kustomization(set("status.lastAppliedRevision", "sha256:"+digest)), target: ks,
			expect: Expect{Version: "sha256:" + digest, Revision: shaA, Artifact: true, Contains: repo.contains},
			want: Result{Deployed: true, Healthy: true, LiveVersion: "sha256:" + digest, Since: t1, Object: obj,
				Reason: obj + ": Ready, applied sha256:dddddddddddd, healthy for 50m0s"},
		},
		{
			name: "OCI artifact, another digest", live: kustomization(set("status.lastAppliedRevision", "latest@sha256:"+digest)), target: ks,
			expect: Expect{Version: "sha256:" + strings.Repeat("e", 64), Artifact: true},
			want:   Result{LiveVersion: "latest", Object: obj, Reason: obj + ": applied artifact latest@sha256:dddddddddddd, not digest sha256:eeeeeeeeeeee"},
		},
		{
			name: "OCI artifact, a Git commit wanted", live: kustomization(set("status.lastAppliedRevision", "latest@sha256:"+digest)), target: ks,
			expect: Expect{Revision: shaA, Contains: repo.contains},
			want:   Result{LiveVersion: "latest", Object: obj, Reason: obj + ": applied revision latest@sha256:dddddddddddd is an OCI artifact: it names no Git commit to compare with aaaaaaaaaaaa (promote the OCIRepository's ref to gate on its tag or digest)"},
		},
		{
			name: "nothing applied", live: kustomization(unset("status.lastAppliedRevision"), notReady("False", "ArtifactFailed", "Source artifact not found")),
			target: ks, expect: atA,
			want: Result{Object: obj, Reason: obj + ": no revision applied yet (Ready=False (ArtifactFailed): Source artifact not found)"},
		},
	})
}

func TestFluxHelmRelease(t *testing.T) {
	t.Parallel()
	hr := Target{Kind: FluxHelmRelease, Namespace: "web-dev", Name: "web"}
	const obj = "HelmRelease web-dev/web"
	chart := Expect{Version: "1.4.2", ChartVersion: true}
	runEval(t, []evalCase{
		{
			name: "ready at the chart version", live: helmRelease(), target: hr, expect: chart,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t1, Object: obj,
				Reason: obj + ": Ready, chart version 1.4.2, healthy for 50m0s"},
		},
		{
			name: "other chart version", live: helmRelease(history("1.4.1", "deployed")), target: hr, expect: chart,
			want: Result{LiveVersion: "1.4.1", Object: obj, Reason: obj + ": chart version 1.4.1, want 1.4.2"},
		},
		{
			name: "chart version with build metadata", live: helmRelease(history("1.4.2+"+shaB[:12], "deployed")), target: hr, expect: chart,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2+bbbbbbbbbbbb", Since: t1, Object: obj,
				Reason: obj + ": Ready, chart version 1.4.2+bbbbbbbbbbbb, healthy for 50m0s"},
		},
		{
			name: "v2beta2 lastAppliedRevision", live: helmRelease(unset("status.history"), unset("status.lastAttemptedRevision"), set("status.lastAppliedRevision", "1.4.2")),
			target: hr, expect: chart,
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2", Since: t1, Object: obj,
				Reason: obj + ": Ready, chart version 1.4.2, healthy for 50m0s"},
		},
		{
			name: "lastAttemptedRevision", live: helmRelease(unset("status.history"), set("status.lastAttemptedRevision", "1.4.1")),
			target: hr, expect: chart,
			want: Result{LiveVersion: "1.4.1", Object: obj, Reason: obj + ": chart version 1.4.1, want 1.4.2"},
		},
		{
			name: "chart built from a revision containing it", live: helmRelease(history("1.4.2+"+shaC[:12], "deployed")), target: hr,
			expect: Expect{Revision: shaB, Contains: func(ctx context.Context, applied, want string) (bool, error) {
				if applied != shaC[:12] {
					return false, errors.New("unexpected applied " + applied)
				}
				return repo.contains(ctx, shaC, want)
			}},
			want: Result{Deployed: true, Healthy: true, LiveVersion: "1.4.2+cccccccccccc", Since: t1, Object: obj,
				Reason: obj + ": Ready, chart version 1.4.2+cccccccccccc, healthy for 50m0s"},
		},
		{
			name: "chart built from an older revision", live: helmRelease(history("1.4.2+"+shaA[:12], "deployed")), target: hr,
			expect: Expect{Revision: shaB},
			want:   Result{LiveVersion: "1.4.2+aaaaaaaaaaaa", Object: obj, Reason: obj + ": chart version 1.4.2+aaaaaaaaaaaa is not built from a revision containing bbbbbbbbbbbb"},
		},
		{
			name: "chart without revision", live: helmRelease(), target: hr, expect: Expect{Revision: shaB},
			want: Result{LiveVersion: "1.4.2", Object: obj, Reason: obj + ": chart version 1.4.2 carries no Git revision to compare with bbbbbbbbbbbb"},
		},
		{
			name: "failed release", live: helmRelease(history("1.4.2", "failed")), target: hr, expect: chart,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: obj, Reason: obj + ": release web v3 is failed"},
		},
		{
			name: "not ready", live: helmRelease(conditions(cond("Ready", "False", "reason=UpgradeFailed", "message=context deadline exceeded"))),
			target: hr, expect: chart,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: obj, Reason: obj + ": Ready=False (UpgradeFailed): context deadline exceeded, chart version 1.4.2"},
		},
		{
			name: "suspended", live: helmRelease(set("spec.suspend", true)), target: hr, expect: chart,
			want: Result{Deployed: true, LiveVersion: "1.4.2", Object: obj, Reason: obj + ": suspended, chart version 1.4.2"},
		},
		{
			name: "nothing installed", live: helmRelease(unset("status.history"), unset("status.lastAttemptedRevision"),
				conditions(cond("Ready", "False", "reason=ArtifactFailed", "message=HelmChart 'flux-system/web-dev-web' is not ready"))),
			target: hr, expect: chart,
			want: Result{Object: obj, Reason: obj + ": no chart version applied yet (Ready=False (ArtifactFailed): HelmChart 'flux-system/web-dev-web' is not ready)"},
		},
	})
}

func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	failing := func(context.Context, string, string) (bool, error) { return false, errors.New("git: bad object") }
	onlyV2beta2 := map[schema.GroupVersionKind]string{{Group: "helm.toolkit.fluxcd.io", Version: "v2beta2", Kind: "HelmRelease"}: "helmreleases"}
	tests := []struct {
		name     string
		served   map[schema.GroupVersionKind]string
		getErr   error
		target   Target
		expect   Expect
		wantErr  string
		notServe bool
	}{
		{
			name: "Argo CD not installed", served: map[schema.GroupVersionKind]string{},
			target:  Target{Kind: ArgoCDApplication, Namespace: "argocd", Name: "web"},
			wantErr: "checking health of Application argocd/web: kind not served by the API server: argoproj.io/v1alpha1, Kind=Application (is Argo CD installed in this cluster? its Application CRD is missing)", notServe: true,
		},
		{
			name: "Flux not installed", served: map[schema.GroupVersionKind]string{},
			target:  Target{Kind: FluxKustomization, Namespace: "flux-system", Name: "web"},
			wantErr: "is Flux installed in this cluster? the kustomize-controller's Kustomization CRD is missing", notServe: true,
		},
		{
			name: "helm-controller not installed", served: map[schema.GroupVersionKind]string{},
			target:  Target{Kind: FluxHelmRelease, Namespace: "web-dev", Name: "web"},
			wantErr: "helm-controller's HelmRelease CRD is missing", notServe: true,
		},
		{
			name: "older HelmRelease version served", served: onlyV2beta2,
			target: Target{Kind: FluxHelmRelease, Namespace: "web-dev", Name: "other"},
		},
		{
			name: "read denied", getErr: apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("RBAC")),
			target:  Target{Kind: Workload, WorkloadKind: Deployment, Namespace: "web-dev", Name: "web"},
			wantErr: "reading Deployment web-dev/web: deployments.apps \"web\" is forbidden: RBAC",
		},
		{
			name: "Contains fails", target: Target{Kind: ArgoCDApplication, Namespace: "argocd", Name: "web-dev"},
			expect:  Expect{Revision: shaB, Contains: failing},
			wantErr: "checking health of Application argocd/web-dev: checking whether aaaaaaaaaaaa contains bbbbbbbbbbbb: git: bad object",
		},
		{
			name: "unknown target kind", target: Target{Kind: "Rollout", Namespace: "web-dev", Name: "web"},
			wantErr: `checking health: unsupported target kind "Rollout"`,
		},
		{
			name: "unknown workload kind", target: Target{Kind: Workload, WorkloadKind: "ReplicaSet", Namespace: "web-dev", Name: "web"},
			wantErr: `checking health: unsupported workload kind "ReplicaSet" (want Deployment, StatefulSet or DaemonSet)`,
		},
		{
			name: "no namespace", target: Target{Kind: FluxKustomization, Name: "web"},
			wantErr: "checking health of Kustomization /web: namespace and name are required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			served := tt.served
			if served == nil {
				served = allServed()
			}
			r := &fakeReader{served: served, err: tt.getErr, live: []*unstructured.Unstructured{application()}}
			got, err := Evaluate(context.Background(), r, tt.target, tt.expect, now)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Evaluate: %v", err)
				}
				if got.Deployed || !strings.HasSuffix(got.Reason, " not found") {
					t.Errorf("Evaluate = %+v, want not found", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Evaluate error = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := errors.Is(err, cluster.ErrKindNotServed); got != tt.notServe {
				t.Errorf("errors.Is(err, ErrKindNotServed) = %v, want %v", got, tt.notServe)
			}
		})
	}
}

// TestContainsNotCalledWhenEqual: equal revisions need no Git.
func TestContainsNotCalledWhenEqual(t *testing.T) {
	t.Parallel()
	called := false
	e := Expect{Revision: shaA, Contains: func(context.Context, string, string) (bool, error) { called = true; return false, nil }}
	r := &fakeReader{served: allServed(), live: []*unstructured.Unstructured{application(), kustomization()}}
	for _, tg := range []Target{
		{Kind: ArgoCDApplication, Namespace: "argocd", Name: "web-dev"},
		{Kind: FluxKustomization, Namespace: "flux-system", Name: "web"},
	} {
		got, err := Evaluate(context.Background(), r, tg, e, now)
		if err != nil || !got.Healthy {
			t.Errorf("Evaluate(%s) = %+v, %v; want healthy", tg.Kind, got, err)
		}
	}
	if called {
		t.Error("Contains was called for equal revisions")
	}
}

func TestSoaked(t *testing.T) {
	t.Parallel()
	healthy := Result{Healthy: true, Since: t0}
	tests := []struct {
		name string
		r    Result
		d    time.Duration
		want bool
	}{
		{"not healthy", Result{Deployed: true, Since: t0}, 0, false},
		{"no soak asked", Result{Healthy: true}, 0, true},
		{"unknown since", Result{Healthy: true}, time.Minute, false},
		{"long enough", healthy, time.Hour, true},
		{"not long enough", healthy, time.Hour + time.Second, false},
		{"since in the future", Result{Healthy: true, Since: now.Add(time.Minute)}, time.Second, false},
	}
	for _, tt := range tests {
		if got := tt.r.Soaked(tt.d, now); got != tt.want {
			t.Errorf("%s: Soaked(%v) = %v, want %v", tt.name, tt.d, got, tt.want)
		}
	}
}
