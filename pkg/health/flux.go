package health

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// evalKustomization judges a Flux Kustomization: deployed when its
// status.lastAppliedRevision contains the wanted commit, healthy when it is
// Ready for its current generation and not suspended.
func evalKustomization(ctx context.Context, u *unstructured.Unstructured, e Expect) (verdict, error) {
	var v verdict
	applied := str(u.Object, "status", "lastAppliedRevision")
	if applied != "" {
		v.live = fluxRevisionSHA(applied)
		if isArtifactRevision(applied) {
			// The artifact's tag, or its digest when it has none.
			if tag, _, ok := strings.Cut(applied, "@"); ok {
				v.live = tag
			} else {
				v.live = applied
			}
		}
	}
	ready, msg, since := fluxReady(u)
	switch {
	case applied == "":
		v.reason = "no revision applied yet" + unless(ready, msg)
		return v, nil
	case isArtifactRevision(applied):
		// An OCI artifact: tag and digest, no Git commit.
		if reason := artifactMismatch(applied, e); reason != "" {
			v.reason = reason + unless(ready, msg)
			return v, nil
		}
	case e.Revision != "":
		ok, err := containsRevision(ctx, e, v.live)
		if err != nil {
			return v, err
		}
		if !ok {
			v.reason = fmt.Sprintf("applied revision %s does not contain %s", shortFlux(applied), short(e.Revision)) + unless(ready, msg)
			return v, nil
		}
	}
	v.deployed = true
	if !ready {
		v.reason = msg + ", applied " + shortFlux(applied)
		return v, nil
	}
	v.healthy, v.since = true, since
	v.reason = "Ready, applied " + shortFlux(applied)
	return v, nil
}

// evalHelmRelease judges a Flux HelmRelease: deployed when its applied
// chart version is Version (Expect.ChartVersion) or carries a commit
// containing Revision (charts built from Git with reconcileStrategy
// Revision are versioned "<version>+<sha>"), healthy when its latest
// release is deployed and it is Ready for its current generation and not
// suspended.
func evalHelmRelease(ctx context.Context, u *unstructured.Unstructured, e Expect) (verdict, error) {
	var v verdict
	obj := u.Object
	var latest map[string]any
	if h, _, _ := unstructured.NestedSlice(obj, "status", "history"); len(h) > 0 {
		latest, _ = h[0].(map[string]any)
	}
	applied := str(latest, "chartVersion")
	for _, f := range []string{"lastAppliedRevision", "lastAttemptedRevision"} {
		if applied == "" {
			applied = str(obj, "status", f)
		}
	}
	v.live = applied
	ready, msg, since := fluxReady(u)
	switch {
	case applied == "":
		v.reason = "no chart version applied yet" + unless(ready, msg)
		return v, nil
	case e.ChartVersion && e.Version != "":
		if !chartVersionIs(applied, e.Version) {
			v.reason = fmt.Sprintf("chart version %s, want %s", applied, e.Version) + unless(ready, msg)
			return v, nil
		}
	case !e.ChartVersion && e.Revision != "":
		_, build, _ := strings.Cut(applied, "+")
		if !isCommit(build) {
			v.reason = fmt.Sprintf("chart version %s carries no Git revision to compare with %s", applied, short(e.Revision))
			return v, nil
		}
		ok, err := containsRevision(ctx, e, build)
		if err != nil {
			return v, err
		}
		if !ok {
			v.reason = fmt.Sprintf("chart version %s is not built from a revision containing %s", applied, short(e.Revision)) + unless(ready, msg)
			return v, nil
		}
	}
	v.deployed = true
	if st := str(latest, "status"); st != "" && st != "deployed" {
		v.reason = fmt.Sprintf("release %s v%d is %s", str(latest, "name"), num(latest, "version"), st)
		return v, nil
	}
	if !ready {
		v.reason = msg + ", chart version " + applied
		return v, nil
	}
	v.healthy, v.since = true, since
	v.reason = "Ready, chart version " + applied
	return v, nil
}

// fluxReady reads a Flux object's readiness the way kstatus does: not
// suspended, its current generation observed, Ready=True for it, and not
// Stalled or Reconciling. It returns why not, and when Ready last turned.
func fluxReady(u *unstructured.Unstructured) (bool, string, time.Time) {
	obj := u.Object
	if boolean(obj, "spec", "suspend") {
		return false, "suspended", time.Time{}
	}
	gen := u.GetGeneration()
	if seen := num(obj, "status", "observedGeneration"); seen < gen {
		return false, fmt.Sprintf("generation %d not yet reconciled (observed %d)", gen, seen), time.Time{}
	}
	ready := condition(obj, "Ready")
	if ready == nil {
		return false, "no Ready condition yet", time.Time{}
	}
	if seen, ok := integer(ready, "observedGeneration"); ok && seen != gen {
		return false, fmt.Sprintf("Ready condition is for generation %d, not %d", seen, gen), time.Time{}
	}
	if st := str(ready, "status"); st != "True" {
		return false, "Ready=" + orUnknown(st) + describe(ready), time.Time{}
	}
	for _, typ := range []string{"Stalled", "Reconciling"} {
		if c := condition(obj, typ); c != nil && c["status"] == "True" {
			return false, typ + describe(c), time.Time{}
		}
	}
	return true, "Ready", timestamp(ready, "lastTransitionTime")
}

// describe renders a condition's reason and message: " (Reason): message".
func describe(c map[string]any) string {
	var s string
	if r := str(c, "reason"); r != "" {
		s = " (" + r + ")"
	}
	if m := str(c, "message"); m != "" {
		s += ": " + oneLine(m)
	}
	return s
}

// unless returns " (msg)" when not ok, to say why a target is also not ready.
func unless(ok bool, msg string) string {
	if ok {
		return ""
	}
	return " (" + msg + ")"
}

// chartVersionIs compares an applied chart version with a wanted one; build
// metadata ("1.2.3+abc") is ignored unless wanted.
func chartVersionIs(applied, want string) bool {
	if applied == want {
		return true
	}
	base, _, _ := strings.Cut(applied, "+")
	return !strings.Contains(want, "+") && base == want
}

// shortFlux abbreviates the commit of a Flux revision for messages:
// "main@sha1:0123456789ab".
func shortFlux(rev string) string {
	sha := fluxRevisionSHA(rev)
	if sha == rev {
		return short(rev)
	}
	return strings.TrimSuffix(rev, sha) + short(sha)
}

// isArtifactRevision reports whether a Flux source revision is an OCI
// artifact's ("v1.2.3@sha256:<hex>", "latest@sha256:<hex>" or
// "sha256:<hex>"), not a Git revision ("main@sha1:<hex>").
func isArtifactRevision(rev string) bool {
	return strings.HasPrefix(rev, "sha256:") || strings.Contains(rev, "@sha256:")
}

// artifactMismatch returns why the OCI artifact revision applied is not
// what e expects, or "": with e.Artifact, the digest when e.Version is one,
// else the tag; without it, a Git commit wanted (e.Revision) cannot be
// found in an artifact, so it is never deployed.
func artifactMismatch(applied string, e Expect) string {
	tag, digest, ok := strings.Cut(applied, "@")
	if !ok {
		tag, digest = "", applied
	}
	switch {
	case e.Artifact && strings.HasPrefix(e.Version, "sha256:"):
		if !strings.EqualFold(digest, e.Version) {
			return fmt.Sprintf("applied artifact %s, not digest %s", shortFlux(applied), shortDigest(e.Version))
		}
	case e.Artifact && e.Version != "":
		if tag != e.Version {
			return fmt.Sprintf("applied artifact %s, not tag %s", shortFlux(applied), e.Version)
		}
	case e.Revision != "":
		return fmt.Sprintf("applied revision %s is an OCI artifact: it names no Git commit to compare with %s (promote the OCIRepository's ref to gate on its tag or digest)", shortFlux(applied), short(e.Revision))
	}
	return ""
}

// shortDigest abbreviates "sha256:<hex>" for messages.
func shortDigest(d string) string {
	if algo, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return algo + ":" + hex[:12]
	}
	return d
}
