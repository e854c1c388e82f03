package versionedit

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	helmReleasePath = "spec.chart.spec.version"
	helmChartPath   = "spec.version"
	helmGroup       = "helm.toolkit.fluxcd.io"
	sourceGroup     = "source.toolkit.fluxcd.io"
	argoGroup       = "argoproj.io"
)

// hit is a value found at a path.
type hit struct {
	key   *yaml.Node // nil for a sequence item
	value *yaml.Node // as written, possibly an alias
	path  string
}

// follow walks segs from root. It returns nil when the path is absent (a
// missing key, an index past the end, a null on the way) and an error naming
// the line when a node on the way has the wrong kind.
func follow(root *yaml.Node, segs []pathSeg) (*hit, error) {
	var key *yaml.Node
	cur, path := root, ""
	for i, s := range segs {
		c := resolve(cur)
		if c.Kind == yaml.ScalarNode && c.Tag == "!!null" {
			return nil, nil
		}
		if s.index < 0 {
			if c.Kind != yaml.MappingNode {
				if i == 0 {
					return nil, nil
				}
				return nil, fmt.Errorf("line %d: %s is %s, not a mapping", c.Line, path, kindName(c))
			}
			k, v, err := mapGet(c, s.key)
			if err != nil || k == nil {
				return nil, err
			}
			key, cur = k, v
		} else {
			if c.Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("line %d: %s is %s, not a sequence", c.Line, path, kindName(c))
			}
			if s.index >= len(c.Content) {
				return nil, nil
			}
			key, cur = nil, c.Content[s.index]
		}
		path += childPath(path, s)
	}
	return &hit{key: key, value: cur, path: path}, nil
}

func mustPath(p string) []pathSeg {
	segs, err := parsePath(p)
	if err != nil {
		panic(err)
	}
	return segs
}

// scalarAt returns the scalar value at path under m, "" when absent or not
// a scalar.
func scalarAt(m *yaml.Node, path string) string {
	h, err := follow(m, mustPath(path))
	if err != nil || h == nil {
		return ""
	}
	if t := resolve(h.value); t.Kind == yaml.ScalarNode {
		return t.Value
	}
	return ""
}

// object is a Kubernetes object document.
type object struct {
	root *yaml.Node
	kind string
	name string
}

func (o object) String() string {
	return fmt.Sprintf("%s %s (line %d)", o.kind, o.name, o.root.Line)
}

// objects returns the documents of the given API group and kind, with the
// given metadata.name when name is set.
func (p *parsed) objects(group, kind, name string) []object {
	var objs []object
	for _, root := range p.roots() {
		if root.Kind != yaml.MappingNode || scalarAt(root, "kind") != kind ||
			!strings.HasPrefix(scalarAt(root, "apiVersion"), group+"/") {
			continue
		}
		o := object{root: root, kind: kind, name: scalarAt(root, "metadata.name")}
		if name != "" && o.name != name {
			continue
		}
		objs = append(objs, o)
	}
	return objs
}

// scalarHits finds the values of a helmValues, helmReleaseChart or
// argoTargetRevision location; none is an ErrNotFound error with the reason.
func (p *parsed) scalarHits(loc Location) ([]hit, error) {
	var (
		hits    []hit
		reasons []string
		err     error
	)
	switch {
	case loc.HelmValues != "":
		segs := mustPath(loc.HelmValues)
		for _, root := range p.roots() {
			h, err := follow(root, segs)
			if err != nil {
				return nil, err
			}
			if h != nil {
				hits = append(hits, *h)
			}
		}
	case loc.HelmReleaseChart:
		hits, reasons, err = p.helmReleaseHits(loc)
	case loc.OCIRepository:
		hits, reasons, err = p.ociRepositoryHits(loc)
	case loc.HelmChart:
		hits, reasons, err = p.objectPathHits(sourceGroup, "HelmChart", loc.Name, helmChartPath)
	case loc.ArgoTargetRevision:
		hits, reasons, err = p.argoHits(loc)
	}
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		if t := resolve(h.value); t.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: %s is %s, not a scalar", t.Line, h.path, kindName(t))
		}
	}
	if len(hits) == 0 {
		return nil, notFound(loc, strings.Join(reasons, "; "))
	}
	return hits, nil
}

func noObject(kind, name string) string {
	if name != "" {
		return "no " + kind + " named " + name
	}
	return "no " + kind + " document"
}

func (p *parsed) helmReleaseHits(loc Location) (hits []hit, reasons []string, err error) {
	objs := p.objects(helmGroup, "HelmRelease", loc.Name)
	if len(objs) == 0 {
		return nil, []string{noObject("HelmRelease", loc.Name)}, nil
	}
	for _, o := range objs {
		h, err := follow(o.root, mustPath(helmReleasePath))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o, err)
		}
		if h == nil {
			if ref, _ := follow(o.root, mustPath("spec.chartRef")); ref != nil {
				reasons = append(reasons, o.String()+" uses spec.chartRef; its version is in the referenced source")
			} else {
				reasons = append(reasons, o.String()+" has no "+helmReleasePath)
			}
			continue
		}
		hits = append(hits, *h)
	}
	return hits, reasons, nil
}

// objectPathHits finds path in the documents of a group and kind.
func (p *parsed) objectPathHits(group, kind, name, path string) (hits []hit, reasons []string, err error) {
	objs := p.objects(group, kind, name)
	if len(objs) == 0 {
		return nil, []string{noObject(kind, name)}, nil
	}
	for _, o := range objs {
		h, err := follow(o.root, mustPath(path))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o, err)
		}
		if h == nil {
			reasons = append(reasons, o.String()+" has no "+path)
			continue
		}
		hits = append(hits, *h)
	}
	return hits, reasons, nil
}

// ociRefFields are the fields of an OCIRepository's spec.ref that carry a
// version, in the precedence Flux's source-controller gives them (a digest
// wins over a semver range, which wins over a tag; semverFilter only
// filters the range).
var ociRefFields = []string{"digest", "semver", "tag"}

// ociRepositoryHits finds the field of spec.ref that selects the artifact.
func (p *parsed) ociRepositoryHits(loc Location) (hits []hit, reasons []string, err error) {
	objs := p.objects(sourceGroup, "OCIRepository", loc.Name)
	if len(objs) == 0 {
		return nil, []string{noObject("OCIRepository", loc.Name)}, nil
	}
	for _, o := range objs {
		var h *hit
		for _, f := range ociRefFields {
			if h, err = follow(o.root, mustPath("spec.ref."+f)); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", o, err)
			}
			if h != nil && resolve(h.value).Tag != "!!null" {
				break
			}
			h = nil
		}
		if h == nil {
			reasons = append(reasons, o.String()+" has no spec.ref.tag, spec.ref.semver or spec.ref.digest")
			continue
		}
		hits = append(hits, *h)
	}
	return hits, reasons, nil
}

func (p *parsed) argoHits(loc Location) (hits []hit, reasons []string, err error) {
	objs := p.objects(argoGroup, "Application", loc.Name)
	if len(objs) == 0 {
		return nil, []string{noObject("Application", loc.Name)}, nil
	}
	for _, o := range objs {
		h, reason, err := argoHit(o, loc)
		if err != nil {
			return nil, nil, err
		}
		if h == nil {
			reasons = append(reasons, o.String()+" "+reason)
			continue
		}
		hits = append(hits, *h)
	}
	return hits, reasons, nil
}

func argoHit(o object, loc Location) (*hit, string, error) {
	wrap := func(err error) error { return fmt.Errorf("%s: %w", o, err) }
	if loc.ArgoSourceIndex != nil {
		h, err := follow(o.root, mustPath(loc.argoPath()))
		if err != nil {
			return nil, "", wrap(err)
		}
		return h, "has no " + loc.argoPath(), nil
	}
	h, err := follow(o.root, mustPath("spec.source.targetRevision"))
	if err != nil || h != nil {
		if err != nil {
			err = wrap(err)
		}
		return h, "", err
	}
	srcs, err := follow(o.root, mustPath("spec.sources"))
	if err != nil {
		return nil, "", wrap(err)
	}
	if srcs == nil {
		return nil, "has no spec.source.targetRevision", nil
	}
	seq := resolve(srcs.value)
	if seq.Kind != yaml.SequenceNode {
		return nil, "", wrap(fmt.Errorf("line %d: spec.sources is %s, not a sequence", seq.Line, kindName(seq)))
	}
	if len(seq.Content) > 1 {
		lines := make([]int, len(seq.Content))
		for i, s := range seq.Content {
			lines[i] = resolve(s).Line
		}
		return nil, "", ambiguous(loc, lines, fmt.Sprintf("; %s has %d sources, set argoSourceIndex to choose one", o, len(lines)))
	}
	h, err = follow(o.root, mustPath("spec.sources[0].targetRevision"))
	if err != nil {
		return nil, "", wrap(err)
	}
	return h, "has no spec.sources[0].targetRevision", nil
}
