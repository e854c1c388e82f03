package versionedit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Location says where an application's version lives inside one file: it is
// one entry of a pipeline's versions list, the file itself being resolved by
// the caller. Exactly one of KustomizeImage, HelmValues, HelmReleaseChart,
// OCIRepository, HelmChart, ArgoTargetRevision and Setter is set. The JSON names are those of the
// pipeline file, so the type can be embedded in the caller's entry.
type Location struct {
	// KustomizeImage is the name of a kustomize images[] entry; the version
	// is its newTag, or its digest.
	KustomizeImage string `json:"kustomizeImage,omitempty"`
	// HelmValues is a dotted path in a Helm values file, such as image.tag
	// or sidecars[0].image.tag.
	HelmValues string `json:"helmValues,omitempty"`
	// HelmReleaseChart selects spec.chart.spec.version of Flux HelmRelease
	// documents.
	HelmReleaseChart bool `json:"helmReleaseChart,omitempty"`
	// OCIRepository selects the ref of Flux OCIRepository documents (the
	// source of a HelmRelease's spec.chartRef): spec.ref.digest, else
	// spec.ref.semver, else spec.ref.tag, the precedence Flux gives them.
	// A semver range is read but never written over.
	OCIRepository bool `json:"ociRepository,omitempty"`
	// HelmChart selects spec.version of Flux HelmChart documents (the other
	// kind a HelmRelease's spec.chartRef names).
	HelmChart bool `json:"helmChart,omitempty"`
	// ArgoTargetRevision selects spec.source.targetRevision of Argo CD
	// Application documents, or spec.sources[ArgoSourceIndex].targetRevision.
	ArgoTargetRevision bool `json:"argoTargetRevision,omitempty"`
	// ArgoSourceIndex picks one of spec.sources; without it a multi-source
	// Application must have exactly one source.
	ArgoSourceIndex *int `json:"argoSourceIndex,omitempty"`
	// Setter is the "namespace:name" of a Flux ImagePolicy; the version is
	// carried by the values marked # {"$imagepolicy": "namespace:name"}
	// (a full image reference) or "namespace:name:tag" / ":digest".
	Setter string `json:"setter,omitempty"`
	// Name, when set, keeps only the HelmRelease or Application objects with
	// this metadata.name.
	Name string `json:"name,omitempty"`
}

func (l Location) kinds() []string {
	var k []string
	if l.KustomizeImage != "" {
		k = append(k, "kustomizeImage")
	}
	if l.HelmValues != "" {
		k = append(k, "helmValues")
	}
	if l.HelmReleaseChart {
		k = append(k, "helmReleaseChart")
	}
	if l.OCIRepository {
		k = append(k, "ociRepository")
	}
	if l.HelmChart {
		k = append(k, "helmChart")
	}
	if l.ArgoTargetRevision {
		k = append(k, "argoTargetRevision")
	}
	if l.Setter != "" {
		k = append(k, "setter")
	}
	return k
}

// Validate checks that exactly one kind is set and that its value is well
// formed.
func (l Location) Validate() error {
	if err := l.validate(); err != nil {
		return fmt.Errorf("invalid version location: %w", err)
	}
	return nil
}

func (l Location) validate() error {
	switch k := l.kinds(); len(k) {
	case 0:
		return errors.New("set one of kustomizeImage, helmValues, helmReleaseChart, ociRepository, helmChart, argoTargetRevision, setter")
	case 1:
	default:
		return fmt.Errorf("%s are mutually exclusive", strings.Join(k, ", "))
	}
	switch {
	case l.KustomizeImage != "":
		if err := checkImageName(l.KustomizeImage); err != nil {
			return fmt.Errorf("kustomizeImage: %w", err)
		}
	case l.HelmValues != "":
		if _, err := parsePath(l.HelmValues); err != nil {
			return fmt.Errorf("helmValues: %w", err)
		}
	case l.Setter != "":
		if _, _, err := splitSetter(l.Setter); err != nil {
			return fmt.Errorf("setter: %w", err)
		}
	}
	if l.Name != "" {
		if !l.HelmReleaseChart && !l.OCIRepository && !l.HelmChart && !l.ArgoTargetRevision {
			return errors.New("name applies only to helmReleaseChart, ociRepository, helmChart and argoTargetRevision")
		}
		if strings.IndexFunc(l.Name, unicode.IsSpace) >= 0 {
			return fmt.Errorf("name %q contains white space", l.Name)
		}
	}
	if l.ArgoSourceIndex != nil {
		if !l.ArgoTargetRevision {
			return errors.New("argoSourceIndex applies only to argoTargetRevision")
		}
		if *l.ArgoSourceIndex < 0 {
			return fmt.Errorf("argoSourceIndex %d is negative", *l.ArgoSourceIndex)
		}
	}
	return nil
}

// String describes the location without its file, as used in messages:
// "kustomize image ghcr.io/acme/web", "helm values image.tag",
// "HelmRelease web spec.chart.spec.version", "setter flux-system:web".
func (l Location) String() string {
	switch {
	case l.KustomizeImage != "":
		return "kustomize image " + l.KustomizeImage
	case l.HelmValues != "":
		return "helm values " + l.HelmValues
	case l.HelmReleaseChart:
		return objectLabel("HelmRelease", l.Name) + " " + helmReleasePath
	case l.OCIRepository:
		return objectLabel("OCIRepository", l.Name) + " spec.ref"
	case l.HelmChart:
		return objectLabel("HelmChart", l.Name) + " " + helmChartPath
	case l.ArgoTargetRevision:
		return objectLabel("Application", l.Name) + " " + l.argoPath()
	case l.Setter != "":
		return "setter " + l.Setter
	}
	return "empty version location"
}

func objectLabel(kind, name string) string {
	if name == "" {
		return kind
	}
	return kind + " " + name
}

func (l Location) argoPath() string {
	if l.ArgoSourceIndex != nil {
		return "spec.sources[" + strconv.Itoa(*l.ArgoSourceIndex) + "].targetRevision"
	}
	return "spec.source.targetRevision"
}

// pathSeg is one step of a values path: a mapping key, or a sequence index
// when index >= 0.
type pathSeg struct {
	key   string
	index int
}

// parsePath parses "a.b[0].c": keys separated by dots, each optionally
// followed by [N] indexes. Keys cannot contain '.', '[' or ']'.
func parsePath(p string) ([]pathSeg, error) {
	if p == "" {
		return nil, errors.New("empty path")
	}
	var segs []pathSeg
	for part := range strings.SplitSeq(p, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key == "" || strings.ContainsAny(key, "]") || strings.IndexFunc(key, unicode.IsSpace) >= 0 {
			return nil, fmt.Errorf("path %q: bad key %q", p, part)
		}
		segs = append(segs, pathSeg{key: key, index: -1})
		if len(part) == len(key) {
			continue
		}
		rest = "[" + rest
		for rest != "" {
			closing := strings.IndexByte(rest, ']')
			if rest[0] != '[' || closing < 0 {
				return nil, fmt.Errorf("path %q: bad index in %q", p, part)
			}
			n, err := strconv.Atoi(rest[1:closing])
			if err != nil || n < 0 || rest[1] == '+' {
				return nil, fmt.Errorf("path %q: bad index in %q", p, part)
			}
			segs = append(segs, pathSeg{index: n})
			rest = rest[closing+1:]
		}
	}
	return segs, nil
}

// childPath returns the suffix that appends s to a path (".key", "key" at
// the start, or "[N]").
func childPath(prefix string, s pathSeg) string {
	if s.index >= 0 {
		return "[" + strconv.Itoa(s.index) + "]"
	}
	if prefix == "" {
		return s.key
	}
	return "." + s.key
}

func splitSetter(s string) (namespace, name string, err error) {
	namespace, name, ok := strings.Cut(s, ":")
	if !ok || namespace == "" || name == "" || strings.Contains(name, ":") ||
		strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || r == '\\' }) >= 0 {
		return "", "", fmt.Errorf("%q is not namespace:name", s)
	}
	return namespace, name, nil
}

// checkImageName accepts an image reference without tag or digest.
func checkImageName(s string) error {
	if s == "" {
		return errors.New("empty image name")
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r) || r == '"' || r == '\'' || r == '#'
	}) >= 0 {
		return fmt.Errorf("image name %q contains white space, quotes or '#'", s)
	}
	if strings.Contains(s, "@") || strings.LastIndex(s, ":") > strings.LastIndex(s, "/") {
		return fmt.Errorf("image name %q carries a tag or digest", s)
	}
	return nil
}
