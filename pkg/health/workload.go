package health

// The rollout verdicts below port kubectl's StatusViewers (k8s.io/kubectl
// v0.37.2 pkg/polymorphichelpers/rollout_status.go, Apache-2.0, The
// Kubernetes Authors) to unstructured objects, with our own messages; one
// deliberate difference: a StatefulSet or DaemonSet updated OnDelete is
// judged by its updated replicas where kubectl refuses to judge it.
// Ported rather than imported: polymorphichelpers links kubectl's describe
// and pod helpers (+1.2 MB to promote). rollout_oracle_test.go holds the
// port to the real viewers.

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// evalWorkload judges a Deployment, StatefulSet or DaemonSet: deployed when
// its pod template runs the expected image, healthy when rolled out as
// `kubectl rollout status` says.
func evalWorkload(u *unstructured.Unstructured, t Target, e Expect) verdict {
	var v verdict
	img, ok, why := pickImage(u.Object, t.Container, e)
	if img != nil {
		v.live = img.version(e.Version)
	}
	if !ok {
		v.reason = why
		return v
	}
	v.deployed = true

	var done bool
	var msg string
	switch u.GetKind() {
	case Deployment:
		done, msg = deploymentRolledOut(u.Object)
	case StatefulSet:
		done, msg = statefulSetRolledOut(u.Object)
	case DaemonSet:
		done, msg = daemonSetRolledOut(u.Object)
	default:
		msg = "unsupported kind " + u.GetKind()
	}
	if !done {
		v.reason = msg
		return v
	}
	v.healthy = true
	v.reason = msg + ", image " + img.raw
	v.since = workloadSince(u)
	return v
}

// pickImage finds the container image to compare: the named container's, or
// the first that matches e (containers before init containers). When none
// matches it returns the image it compared (if one stands out) and why.
func pickImage(obj map[string]any, container string, e Expect) (*imageRef, bool, string) {
	type named struct {
		name string
		img  imageRef
	}
	var all []named
	for _, field := range []string{"containers", "initContainers"} {
		cs, _, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", field)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			all = append(all, named{name: str(m, "name"), img: parseImage(str(m, "image"))})
		}
	}
	if container != "" {
		for _, c := range all {
			if c.name == container {
				if c.img.matches(e.Image, e.Version) {
					return &c.img, true, ""
				}
				return &c.img, false, fmt.Sprintf("container %s runs %s, want %s", c.name, c.img.raw, want(e))
			}
		}
		return nil, false, fmt.Sprintf("no container %q in the pod template", container)
	}
	if len(all) == 0 {
		return nil, false, "no container in the pod template"
	}
	for _, c := range all {
		if c.img.matches(e.Image, e.Version) {
			return &c.img, true, ""
		}
	}
	images := make([]string, len(all))
	var sameRepo []imageRef
	for i, c := range all {
		images[i] = c.img.raw
		if e.Image != "" && c.img.matches(e.Image, "") {
			sameRepo = append(sameRepo, c.img)
		}
	}
	switch {
	case len(sameRepo) > 0:
		return &sameRepo[0], false, fmt.Sprintf("runs %s, want %s", sameRepo[0].raw, want(e))
	case e.Image != "":
		return nil, false, fmt.Sprintf("no container runs %s (images: %s)", e.Image, strings.Join(images, ", "))
	case len(all) == 1:
		return &all[0].img, false, fmt.Sprintf("runs %s, want %s", all[0].img.raw, want(e))
	}
	return nil, false, fmt.Sprintf("no container runs version %s (images: %s)", e.Version, strings.Join(images, ", "))
}

// want describes the expected image.
func want(e Expect) string {
	switch {
	case e.Image == "":
		return e.Version
	case isDigest(e.Version):
		return e.Image + "@" + e.Version
	}
	return e.Image + ":" + e.Version
}

// replicas returns spec.replicas, defaulted to 1 as the API server does.
func replicas(obj map[string]any) int64 {
	if n, ok := integer(obj, "spec", "replicas"); ok {
		return n
	}
	return 1
}

// observed says whether the controller has seen the latest spec.
func observed(obj map[string]any) (bool, string) {
	gen, _ := integer(obj, "metadata", "generation")
	seen := num(obj, "status", "observedGeneration")
	if gen > seen {
		return false, fmt.Sprintf("generation %d not yet observed by its controller (observed %d)", gen, seen)
	}
	return true, ""
}

// deploymentRolledOut follows kubectl's DeploymentStatusViewer.
func deploymentRolledOut(obj map[string]any) (bool, string) {
	if ok, msg := observed(obj); !ok {
		return false, msg
	}
	if c := condition(obj, "Progressing"); c != nil && c["reason"] == "ProgressDeadlineExceeded" {
		return false, "progress deadline exceeded: " + str(c, "message")
	}
	want := replicas(obj)
	updated := num(obj, "status", "updatedReplicas")
	current := num(obj, "status", "replicas")
	available := num(obj, "status", "availableReplicas")
	switch {
	case updated < want:
		return false, fmt.Sprintf("%d/%d replicas updated", updated, want)
	case current > updated:
		return false, fmt.Sprintf("%d old replicas pending termination", current-updated)
	case available < updated:
		return false, fmt.Sprintf("%d/%d updated replicas available", available, updated)
	}
	return true, fmt.Sprintf("rolled out, %d/%d replicas updated and available", available, want)
}

// statefulSetRolledOut follows kubectl's StatefulSetStatusViewer; without a
// rolling update (OnDelete) every replica must run the update revision.
func statefulSetRolledOut(obj map[string]any) (bool, string) {
	if num(obj, "status", "observedGeneration") == 0 {
		return false, "spec not yet observed by its controller"
	}
	if ok, msg := observed(obj); !ok {
		return false, msg
	}
	want := replicas(obj)
	ready := num(obj, "status", "readyReplicas")
	updated := num(obj, "status", "updatedReplicas")
	if ready < want {
		return false, fmt.Sprintf("%d/%d replicas ready", ready, want)
	}
	strategy := str(obj, "spec", "updateStrategy", "type")
	if strategy == "" || strategy == "RollingUpdate" {
		partition := num(obj, "spec", "updateStrategy", "rollingUpdate", "partition")
		if updated < want-partition {
			return false, fmt.Sprintf("%d/%d replicas updated", updated, want-partition)
		}
		if partition > 0 {
			return true, fmt.Sprintf("partitioned roll out complete, %d replicas updated (partition %d)", updated, partition)
		}
		return true, fmt.Sprintf("rolled out, %d/%d replicas updated and ready", updated, want)
	}
	if updated < want {
		return false, fmt.Sprintf("%d/%d replicas updated (%s)", updated, want, strategy)
	}
	return true, fmt.Sprintf("rolled out, %d/%d replicas updated and ready", updated, want)
}

// daemonSetRolledOut follows kubectl's DaemonSetStatusViewer (for OnDelete
// too: the new image is live only on updated pods).
func daemonSetRolledOut(obj map[string]any) (bool, string) {
	if ok, msg := observed(obj); !ok {
		return false, msg
	}
	desired := num(obj, "status", "desiredNumberScheduled")
	updated := num(obj, "status", "updatedNumberScheduled")
	available := num(obj, "status", "numberAvailable")
	switch {
	case updated < desired:
		return false, fmt.Sprintf("%d/%d pods updated", updated, desired)
	case available < desired:
		return false, fmt.Sprintf("%d/%d updated pods available", available, desired)
	}
	return true, fmt.Sprintf("rolled out, %d/%d pods updated and available", available, desired)
}

// workloadSince estimates when the workload became healthy. For a
// Deployment it is the later of the Available condition's transition and
// the time the new ReplicaSet became available (the Progressing condition's
// lastUpdateTime with reason NewReplicaSetAvailable: Available may have
// stayed True through the whole rollout). Otherwise, and when those are
// missing, it is the last write of the status subresource.
func workloadSince(u *unstructured.Unstructured) time.Time {
	var since time.Time
	if u.GetKind() == Deployment {
		if c := condition(u.Object, "Available"); c != nil && c["status"] == "True" {
			since = timestamp(c, "lastTransitionTime")
		}
		if c := condition(u.Object, "Progressing"); c != nil && c["status"] == "True" && c["reason"] == "NewReplicaSetAvailable" {
			since = later(since, timestamp(c, "lastUpdateTime"))
		}
	}
	if since.IsZero() {
		since = statusWritten(u)
	}
	return since
}
