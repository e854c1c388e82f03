package gitopsapi

import (
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
)

// Operator names a GitOps operator.
type Operator string

// Operators.
const (
	ArgoCD Operator = "argocd"
	Flux   Operator = "flux"
)

// Tracking metadata the operators write on the objects they apply.
const (
	ArgoTrackingID             = "argocd.argoproj.io/tracking-id"
	ArgoInstallationID         = "argocd.argoproj.io/installation-id"
	ArgoDefaultLabelKey        = "app.kubernetes.io/instance"
	FluxNameLabel              = "kustomize.toolkit.fluxcd.io/name"
	FluxNamespaceLabel         = "kustomize.toolkit.fluxcd.io/namespace"
	FluxReconcile              = "kustomize.toolkit.fluxcd.io/reconcile"
	TrackingAnnotation         = "annotation"
	TrackingLabel              = "label"
	TrackingAnnotationAndLabel = "annotation+label"
)

// Source is one desired state an operator's object describes.
type Source struct {
	Operator Operator
	// Kind, Namespace and Name identify the operator's object
	// (Application or Kustomization).
	Kind      string
	Namespace string
	Name      string

	// RepoURL, Revision and Path say where the manifests are. Revision is
	// a branch, tag, full ref name or commit ("" is the remote's default
	// branch); when Semver is set, the highest tag matching that range
	// (Flux spec.ref.semver) is the revision.
	RepoURL  string
	Revision string
	Semver   string
	Path     string
	// OCI, for a Flux OCIRepository source, says which artifact to pull
	// (RepoURL is then its oci:// URL, Revision and Semver unset); nil
	// for Git sources.
	OCI *OCISource

	// Git is the Flux GitRepository the manifests come from (RepoURL,
	// Revision and Semver are its own), with its includes and ignore
	// rules; nil for other sources.
	Git *GitRepository
	// Artifact is the Flux ExternalArtifact the manifests come from,
	// built by an ArtifactGenerator; RepoURL and Revision are then unset.
	Artifact *ExternalArtifact

	// Directory: how a path without a kustomization file is read (Argo CD
	// directory sources).
	Directory Directory
	// BuildEnv is Argo CD's build environment (ARGOCD_APP_NAME…), which
	// jsonnet options may name.
	BuildEnv map[string]string
	// Parts are the sources of an Argo CD multi-source application
	// (spec.sources) that give manifests, each with its own repository,
	// revision, path and options; RepoURL, Revision and Path are then the
	// first part's. nil for a single source.
	Parts []*Source
	// Kustomize: always build with kustomize, generating a kustomization
	// that lists the path's manifests when it has none (Flux). Otherwise a
	// kustomization file in the path means kustomize, and its absence a
	// plain directory (Argo CD).
	Kustomize bool
	// Overlay holds a Flux Kustomization's own kustomize options, written
	// into the path's kustomization (commonMetadata: set after the build);
	// nil when there are none.
	Overlay *Overlay
	// ArgoKustomize holds an Argo CD source's spec.source.kustomize, run as
	// Argo CD runs it: kustomize edits of the path's kustomization; nil
	// when there are none.
	ArgoKustomize *ArgoKustomize
	// DefaultNamespace is the namespace of namespaced objects that declare
	// none (Argo CD spec.destination.namespace).
	DefaultNamespace string
	// PostBuild holds the variables substituted after the build (Flux
	// spec.postBuild); nil when there are none.
	PostBuild *PostBuild
	// Helm is the release a Flux HelmRelease asks for (Kind HelmRelease):
	// its objects are rendered from the chart at Path of the repository,
	// not read from a directory. nil for other sources.
	Helm *HelmRelease
	// ArgoHelm holds an Argo CD source's spec.source.helm options; nil when
	// it has none (a chart path is then rendered with Argo CD's defaults:
	// see ArgoHelmChart and ArgoHelmTemplate).
	ArgoHelm *ArgoHelm
	// ArgoChart is an Argo CD source's chart from a Helm repository
	// (spec.source.chart): fetched, not read from a checkout.
	ArgoChart *ArgoChart
	// ArgoRefs are the sources of a multi-source Argo CD application that
	// have a ref, by "$<ref>": their repositories lend files to the Helm
	// value files and file parameters "$<ref>/…" of the parts. Set (maybe
	// empty) on every part of a multi-source application, nil otherwise.
	ArgoRefs map[string]*ArgoRef
	// RefRoots are the checkouts of the ArgoRefs a part's Helm files name,
	// by "$<ref>": set by whoever fetched them before ArgoHelmTemplate.
	RefRoots map[string]string

	// Ignore holds the source's own ignore rules (Application
	// spec.ignoreDifferences, Kustomization spec.ignore); nil when none.
	Ignore *ignore.Set
	// Tracking is how the operator marks the objects it applies.
	Tracking Tracking
	// Inventory lists the objects the operator last applied (Flux
	// status.inventory); nil when the operator keeps none.
	Inventory []ObjectRef

	// Disabled, when set, says why the operator does not reconcile this
	// source (Flux reconcile: disabled): not compared, not an error.
	Disabled string
	// Unsupported, when set, says what this source uses that is not
	// supported (Helm, plugins, multiple sources, another cluster…).
	Unsupported string
	// Problem, when set, says why the source cannot be compared because of
	// an error in the operator's objects (a missing GitRepository, invalid
	// ignore rules…).
	Problem string
	// Suspended: the operator is paused (Flux spec.suspend); the source is
	// compared anyway.
	Suspended bool
	// Warnings are things the comparison may get wrong for this source.
	Warnings []string

	// Status is the operator's own view.
	Status OperatorStatus
}

// Directory says how a plain directory is read (Argo CD
// spec.source.directory).
type Directory struct {
	Recurse bool
	// Include and Exclude are glob patterns ("*" also matches "/", "{a,b}"
	// alternatives) matched against file paths relative to the source path.
	Include string
	Exclude string
	// Jsonnet holds the options of the .jsonnet files; nil when none.
	Jsonnet *Jsonnet
}

// Overlay is what a Flux Kustomization adds to the path's kustomize build:
// fields merged into the path's kustomization (see mergeFluxOverlay), and
// common metadata set on the objects after the build.
type Overlay struct {
	Namespace  string
	NamePrefix string
	NameSuffix string
	// Labels and Annotations are set on every object's metadata only (Flux
	// spec.commonMetadata).
	Labels      map[string]string
	Annotations map[string]string
	// Kustomization holds further kustomization fields (images, patches,
	// replicas, commonLabels, commonAnnotations, labels), as kustomize
	// reads them.
	Kustomization map[string]any
	// Components are component directories relative to the source path.
	Components []string
	// IgnoreMissingComponents leaves out components whose directory does
	// not exist (Flux spec.ignoreMissingComponents).
	IgnoreMissingComponents bool
}

// Tracking is how an operator marks the objects it applies.
type Tracking struct {
	// Method is Argo CD's resource tracking method (annotation, label or
	// annotation+label), or "labels" for Flux.
	Method string
	// Instance is the Argo CD application instance name ("<app>", or
	// "<namespace>_<app>" outside Argo CD's namespace) or "<namespace>/<name>"
	// of the Flux Kustomization.
	Instance string
	// LabelKey is Argo CD's instance label (application.instanceLabelKey).
	LabelKey string
	// InstallationID is Argo CD's installationID, when set.
	InstallationID string
	// NoPrune: the Flux Kustomization's spec.prune is false, so its
	// garbage collection deletes nothing Git no longer declares.
	NoPrune bool
	// ArgoPrune is the value of the Argo CD application's own Prune sync
	// option (spec.syncPolicy.syncOptions "Prune=<value>": false,
	// confirm…), the default of objects without their own in
	// argocd.argoproj.io/sync-options; "" when it has none.
	ArgoPrune string
}

// ObjectRef names one object in the cluster.
type ObjectRef struct {
	Group, Version, Kind string
	Namespace, Name      string
}

// OperatorStatus is the operator's own view of the source.
type OperatorStatus struct {
	// Sync and Health: Argo CD status.sync.status and status.health.status.
	Sync   string
	Health string
	// Ready: Flux's Ready condition status (True, False, Unknown).
	Ready string
	// Message: the operator's last message (Ready condition, failed
	// operation or first condition).
	Message string
	// Revision the operator last synced or applied, as it reports it
	// ("main@sha1:…" for Flux).
	Revision string
}

// HelmReleaseType names Flux HelmRelease sources: their ID is
// "helmrelease/<namespace>/<name>".
const HelmReleaseType = "helmrelease"

// ID names the source: "argocd/<namespace>/<name>",
// "flux/<namespace>/<name>" ("<operator>/<name>" without a namespace) or,
// for a Flux HelmRelease, "helmrelease/<namespace>/<name>".
func (s *Source) ID() string {
	if s.Kind == helmReleaseKind {
		return HelmReleaseType + "/" + s.Namespace + "/" + s.Name
	}
	if s.Namespace == "" {
		return string(s.Operator) + "/" + s.Name
	}
	return string(s.Operator) + "/" + s.Namespace + "/" + s.Name
}

// Skip returns why the source is not compared ("" when it is): Problem,
// Unsupported or Disabled, in that order.
func (s *Source) Skip() string {
	switch {
	case s.Problem != "":
		return s.Problem
	case s.Unsupported != "":
		return "not supported: " + s.Unsupported
	case s.Disabled != "":
		return s.Disabled
	}
	return ""
}

// AppliedCommit returns the commit SHA the operator last synced or applied,
// when its status names one.
func (s *Source) AppliedCommit() string {
	r := s.Status.Revision
	if i := strings.LastIndex(r, ":"); i >= 0 { // Flux: main@sha1:<sha>
		r = r[i+1:]
	}
	if shaRE.MatchString(r) {
		return r
	}
	return ""
}

var shaRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// Track sets on obj what the operator sets on every object it applies: the
// default namespace for namespaced objects without one, and the tracking
// metadata (Argo CD tracking id and/or instance label, installation id;
// Flux name and namespace labels). namespaced says whether obj's kind is
// namespaced.
func (s *Source) Track(obj *unstructured.Unstructured, namespaced bool) {
	if namespaced && obj.GetNamespace() == "" && s.DefaultNamespace != "" {
		obj.SetNamespace(s.DefaultNamespace)
	}
	switch s.Operator {
	case Flux:
		if s.Helm != nil {
			return // helm-controller's labels are set when rendering
		}
		ns, name, _ := strings.Cut(s.Tracking.Instance, "/")
		setLabel(obj, FluxNameLabel, name)
		setLabel(obj, FluxNamespaceLabel, ns)
	case ArgoCD:
		m := s.Tracking.Method
		if m == TrackingAnnotation || m == TrackingAnnotationAndLabel {
			ns := obj.GetNamespace()
			if !namespaced || ns == "" {
				ns = s.DefaultNamespace
			}
			gvk := obj.GroupVersionKind()
			setAnnotation(obj, ArgoTrackingID, s.Tracking.Instance+":"+gvk.Group+"/"+gvk.Kind+":"+ns+"/"+obj.GetName())
			if s.Tracking.InstallationID != "" {
				setAnnotation(obj, ArgoInstallationID, s.Tracking.InstallationID)
			}
		}
		if m == TrackingLabel || m == TrackingAnnotationAndLabel {
			key := s.Tracking.LabelKey
			if key == "" {
				key = ArgoDefaultLabelKey
			}
			setLabel(obj, key, labelValue(s.Tracking.Instance))
		}
	}
}

// labelValue truncates an instance name to a valid label value as Argo CD
// does: 63 characters, not ending in a special character.
func labelValue(v string) string {
	if len(v) <= 63 {
		return v
	}
	v = v[:63]
	for v != "" && !isAlnum(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	return v
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func setLabel(obj *unstructured.Unstructured, k, v string) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[k] = v
	obj.SetLabels(l)
}

func setAnnotation(obj *unstructured.Unstructured, k, v string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	obj.SetAnnotations(a)
}
