package repograph

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
)

// Kinds of graph nodes.
const (
	KindApplication    = "Application"
	KindApplicationSet = "ApplicationSet"
	KindKustomization  = "Kustomization"
	KindGitRepository  = "GitRepository"
	KindOCIRepository  = "OCIRepository"
	// KindExternalArtifact is a Flux source an ArtifactGenerator
	// (source.extensions.fluxcd.io) produces from other sources.
	KindExternalArtifact  = "ExternalArtifact"
	KindArtifactGenerator = "ArtifactGenerator"
	fluxExtensionsGroup   = "source.extensions.fluxcd.io"

	argoGroup          = "argoproj.io"
	fluxKustomizeGroup = "kustomize.toolkit.fluxcd.io"
	fluxSourceGroup    = "source.toolkit.fluxcd.io"
)

// Target is where an Application source or a Flux Kustomization points.
type Target struct {
	// RepoURL is the repository file's URL without credentials
	// (gitrepo.RedactURL): every output shows it.
	RepoURL  string
	Revision string
	// Path as written, and the line of the path field (the object's line
	// when the field is absent).
	Path     string
	PathLine int
	// Dir is Path resolved against the repository root ("." for the root);
	// "" when External or when the path leaves the repository.
	Dir string
	// External is a source in another repository (or a Helm chart, an OCI
	// artifact, a bucket): not followed.
	External bool
	// Recursive says the operator reads subdirectories of a plain
	// directory (Flux always; Argo CD with directory.recurse).
	Recursive bool
	// Exists says Dir exists in the repository.
	Exists bool
	// Escapes says the path leaves the repository (../).
	Escapes bool
	// Checkout is the revision of this repository the target was read
	// from when it is not the files on disk ("" for them).
	Checkout string
	// NotCheckedOut says the target is in this repository, on a revision
	// (branch, tag) that is neither the files on disk nor available
	// locally: not followed, like an external source.
	NotCheckedOut bool
	// Via is the ArtifactGenerator ("namespace/name") a Flux Kustomization's
	// ExternalArtifact comes from, when its path was traced through the
	// generator's copy rules to a path of the generator's GitRepository.
	Via string
	// HelmChart says Dir is a Helm chart (it has a Chart.yaml) that an
	// Argo CD Application renders: its templates are not read as files.
	HelmChart bool
	// Rendered says the chart was rendered (Options.RenderChart) with the
	// Application's values: the operators' objects it renders are the
	// node's children.
	Rendered bool
	// Artifact is the URL (credentials removed) of the OCI artifact a Flux
	// Kustomization's OCIRepository pulls, when Options.Artifacts says it
	// is pushed from ArtifactDir, a directory of this repository: Path is
	// then read from there.
	Artifact    string
	ArtifactDir string
}

// Dep is one entry of a Flux Kustomization's dependsOn.
type Dep struct {
	Name, Namespace string
	Line            int
	// Node is the Kustomization it names, when found in the repository.
	Node *Node
}

// Node is an Argo CD Application (or ApplicationSet) or a Flux
// Kustomization found in the repository.
type Node struct {
	*Object
	Targets   []Target
	DependsOn []Dep
	// Source is a Flux Kustomization's sourceRef as kind/namespace/name.
	Source string
	// Children are the nodes defined in the files of the targets.
	Children []*Node
	// Parents are the nodes whose targets hold this one.
	Parents []*Node
	// Revision is the revision of this repository the node's file was
	// read from: "" for the files on disk.
	Revision string
	// Base is, for a variant, the node as written in its own file (the
	// variant's File is the patch file); Variants are a node's variants.
	Base     *Node
	Variants []*Node
	id       int
}

// Replaced reports a node that is only used through its variants: every
// kustomization that includes it patches it.
func (n *Node) Replaced() bool { return len(n.Variants) > 0 && len(n.Parents) == 0 }

// ID is a stable identifier: the position of the node in the graph.
func (n *Node) ID() string { return fmt.Sprintf("n%d", n.id) }

// Title is "Kind namespace/name".
func (n *Node) Title() string {
	if n.Namespace == "" {
		return n.Kind + " " + n.Name
	}
	return n.Kind + " " + n.Namespace + "/" + n.Name
}

// Graph is the operators' objects of a repository and how they connect.
type Graph struct {
	Repo *Repo
	// Nodes in file and line order.
	Nodes []*Node
	// Roots are the nodes no other node holds, in file and line order.
	Roots []*Node
	// Others are the nodes read from other revisions of this repository
	// (Node.Revision), reached through targets on those revisions.
	Others []*Node
	// Notes say what was not followed and why (a Helm chart not rendered,
	// a revision that could not be read).
	Notes []string

	// Variants are nodes as an overlay's patch file changes them (Node.Base
	// is the node as written).
	Variants []*Node

	byFile  map[string][]*Node
	rev     string
	sources map[string]*Object
	ocis    map[string]*Object
	arts    map[string]generated
}

// Options configure Build.
type Options struct {
	// RepoURLs are this repository's URLs. When empty every Application
	// and Kustomization is taken to point into this repository; otherwise
	// those with another URL are External.
	RepoURLs []string
	// Revisions are the branches (or tags) the files on disk are a
	// checkout of: a target of this repository on one of them (or on no
	// revision, or HEAD) is read from disk. Empty: DefaultRevisions.
	Revisions []string
	// ReadRevision returns another revision of this repository, scanned,
	// or nil when it is not available locally; nil: none is. A target on
	// a revision that is not available is NotCheckedOut, never read from
	// the files on disk.
	ReadRevision func(rev string) (*Repo, error)
	// RenderChart, when set, renders the Helm chart in dir (slash,
	// relative to root) as the Argo CD Application app renders it, and
	// returns the objects rendered, each located at its template (File
	// relative to root, Line 0). nil: charts are not rendered (a note
	// says so). Its error is a note; it must hold no value of the chart.
	RenderChart func(root, dir string, app *Object) ([]*Object, error)
	// Artifacts returns the directory of this repository (slash, relative
	// to the root) an OCI artifact is pushed from (`flux push artifact
	// oci://… --path DIR`), given an OCIRepository's spec.url; ok false
	// when it is built elsewhere: the OCIRepository is then an external
	// source. nil: every OCIRepository is external.
	Artifacts func(url string) (dir string, ok bool)
}

// Load scans root (see Scan) and builds its graph.
func Load(root string, files []string, opts Options) (*Graph, error) {
	r, err := Scan(root, files)
	if err != nil {
		return nil, err
	}
	return Build(r, opts), nil
}

// NormalizeURL reduces a Git URL to host/path, lower-case host, without
// scheme, user, port of ssh, ".git" or trailing slash, so that the https
// and ssh URLs of one repository compare equal.
func NormalizeURL(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		// scp-like: git@host:org/repo
		if at, rest, ok := strings.Cut(s, "@"); ok && !strings.Contains(at, "/") {
			s = rest
		}
		s = strings.Replace(s, ":", "/", 1)
	} else if u, err := url.Parse(s); err == nil {
		host := u.Hostname()
		if u.Port() != "" && u.Scheme != "ssh" {
			host += ":" + u.Port()
		}
		s = host + u.Path
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git")
	host, p, _ := strings.Cut(s, "/")
	return strings.ToLower(host) + "/" + p
}

// Build connects the Applications and Kustomizations of a scanned repository.
func Build(r *Repo, opts Options) *Graph {
	b := &builder{opts: opts, known: map[string]bool{}, local: map[string]bool{}, graphs: map[string]*Graph{}, variants: map[variantKey]*Node{}}
	for _, u := range opts.RepoURLs {
		if u != "" {
			b.known[NormalizeURL(u)] = true
		}
	}
	revs := opts.Revisions
	if len(revs) == 0 {
		revs = DefaultRevisions
	}
	for _, rev := range revs {
		b.local[rev] = true
	}
	g := b.build(r, "")
	g.Notes = b.notes
	// dependsOn last: linking a revision may add variants to one built
	// before.
	for _, og := range b.graphs {
		if og == nil {
			continue
		}
		for _, n := range slices.Concat(og.Nodes, og.Variants) {
			for i := range n.DependsOn {
				n.DependsOn[i].Node = og.resolveDep(n, n.DependsOn[i])
			}
		}
	}
	for _, rev := range slices.Sorted(maps.Keys(b.graphs)) {
		if rev != "" && b.graphs[rev] != nil {
			g.Others = append(g.Others, b.graphs[rev].Nodes...)
			g.Others = append(g.Others, b.graphs[rev].Variants...)
		}
	}
	for _, n := range g.Nodes {
		if len(n.Parents) == 0 && !n.Replaced() {
			g.Roots = append(g.Roots, n)
		}
	}
	// A group of nodes that only hold each other (a cycle) has no root;
	// its first node stands in for one so that nothing is left out.
	reached := map[*Node]bool{}
	var mark func(*Node)
	mark = func(n *Node) {
		if reached[n] {
			return
		}
		reached[n] = true
		for _, c := range n.Children {
			mark(c)
		}
	}
	for _, n := range g.Roots {
		mark(n)
	}
	for _, n := range g.Nodes {
		if !reached[n] && !n.Replaced() {
			g.Roots = append(g.Roots, n)
			mark(n)
		}
	}
	return g
}

// DefaultRevisions are the revisions the files on disk are taken to be
// when Options.Revisions is empty (not a git work tree).
var DefaultRevisions = []string{"main", "master"}

// builder builds the graph of the files on disk and, on demand, of the
// other revisions of this repository that targets name. Each revision is
// built once: targets that lead back to a revision being built link to its
// nodes, so a cycle across branches ends in a cycle of nodes, not in an
// endless walk.
type builder struct {
	opts     Options
	known    map[string]bool
	local    map[string]bool
	graphs   map[string]*Graph
	variants map[variantKey]*Node
	ids      int
	notes    []string
	// rendering holds the charts (repository root and directory) being
	// rendered on the current path: a chart met again there is a cycle.
	rendering map[string]bool
}

func (b *builder) internal(u string) bool { return len(b.known) == 0 || b.known[NormalizeURL(u)] }

// build makes the graph of one revision: "" for the files on disk.
func (b *builder) build(r *Repo, rev string) *Graph {
	g := &Graph{Repo: r, rev: rev}
	b.graphs[rev] = g
	sources := map[string]*Object{}
	ocis := map[string]*Object{}
	arts := map[string]generated{}
	for _, o := range r.Objects {
		switch {
		case o.Group() == fluxSourceGroup && o.Kind == KindGitRepository:
			sources[o.Namespace+"/"+o.Name] = o
		case o.Group() == fluxSourceGroup && o.Kind == KindOCIRepository:
			ocis[o.Namespace+"/"+o.Name] = o
		case o.Group() == fluxExtensionsGroup && o.Kind == KindArtifactGenerator:
			if l := Lookup(o.Node, "spec", "artifacts"); l != nil && l.Kind == yaml.SequenceNode {
				for _, a := range l.Content {
					arts[o.Namespace+"/"+scalar(Lookup(a, "name"))] = generated{gen: o, artifact: a}
				}
			}
		}
	}
	g.sources, g.ocis, g.arts = sources, ocis, arts
	for _, o := range r.Objects {
		if n := g.newNode(o, b); n != nil {
			g.Nodes = append(g.Nodes, n)
		}
	}
	g.byFile = map[string][]*Node{}
	for _, n := range g.Nodes {
		g.byFile[n.File] = append(g.byFile[n.File], n)
	}
	for _, n := range slices.Clone(g.Nodes) {
		b.link(g, n)
	}
	return g
}

// link resolves the targets of n, a node of g, and makes the nodes they
// hold its children. A child that a patch file of the target's
// kustomizations patches (a tenant overlay setting spec.path) is replaced
// by its variant with the patch applied.
func (b *builder) link(g *Graph, n *Node) {
	for i := range n.Targets {
		t := &n.Targets[i]
		if t.External {
			continue
		}
		tg := b.graphFor(n, t, g.rev)
		if tg == nil {
			continue
		}
		resolveTarget(tg.Repo, t, ".")
		if t.Dir == "" || !t.Exists {
			continue
		}
		if n.Group() == argoGroup && tg.Repo.IsChart(t.Dir) {
			t.HelmChart = true
			b.renderChart(tg, n, t)
			continue
		}
		var files map[string]bool
		if tg.Repo.Kustomizations[t.Dir] != nil {
			files = tg.Repo.Closure(t.Dir)
		} else {
			files = tg.Repo.FilesUnder(t.Dir, t.Recursive)
		}
		patches := tg.Repo.patchesIn(files)
		for _, f := range slices.Sorted(maps.Keys(files)) {
			for _, c := range tg.byFile[f] {
				if p := matchPatch(patches, c); p != nil {
					c = b.variant(tg, c, p)
				}
				if c != n && !slices.Contains(n.Children, c) {
					n.Children = append(n.Children, c)
					c.Parents = append(c.Parents, n)
				}
			}
		}
	}
}

// renderChart makes the operators' objects the chart of t renders with
// n's values (Options.RenderChart) n's children, their targets followed
// (a Helm app of apps); without a renderer, or when the chart does not
// render, a note says it was not.
func (b *builder) renderChart(g *Graph, n *Node, t *Target) {
	if b.opts.RenderChart == nil {
		b.notes = append(b.notes, fmt.Sprintf("%s (%s): %s not rendered: Helm chart", n.Title(), n.File, t.Dir))
		return
	}
	// A chart that renders an Application of itself (directly or through
	// other charts) is a cycle: the repository decides it, so it is
	// stopped here with a note, not rendered until memory runs out.
	key := g.Repo.Root + "\x00" + t.Dir
	if b.rendering[key] {
		b.notes = append(b.notes, fmt.Sprintf("%s (%s): Helm chart %s not rendered again: it renders an application of itself (a cycle)", n.Title(), n.File, t.Dir))
		return
	}
	if b.rendering == nil {
		b.rendering = map[string]bool{}
	}
	b.rendering[key] = true
	defer delete(b.rendering, key)
	objs, err := b.opts.RenderChart(g.Repo.Root, t.Dir, n.Object)
	if err != nil {
		b.notes = append(b.notes, fmt.Sprintf("%s (%s): Helm chart %s not rendered: %v", n.Title(), n.File, t.Dir, err))
		return
	}
	t.Rendered = true
	for _, o := range objs {
		c := g.newNode(o, b)
		if c == nil {
			continue
		}
		g.Nodes = append(g.Nodes, c)
		n.Children = append(n.Children, c)
		c.Parents = append(c.Parents, n)
		b.link(g, c)
	}
}

// patchesIn are the patch documents of the kustomizations among files.
func (r *Repo) patchesIn(files map[string]bool) []*Object {
	var out []*Object
	for d, k := range r.Kustomizations {
		if !files[k.File] {
			continue
		}
		for _, ref := range k.Patches {
			p, ok := Resolve(d, ref.Value)
			if !ok {
				continue
			}
			for _, o := range r.Patches {
				if o.File == p && !slices.Contains(out, o) {
					out = append(out, o)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b *Object) int { return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line)) })
	return out
}

// matchPatch is the first patch document naming the node's object (same
// group, kind and name; same namespace when the patch sets one).
func matchPatch(patches []*Object, c *Node) *Object {
	for _, p := range patches {
		if p.Group() == c.Group() && p.Kind == c.Kind && p.Name == c.Name && (p.Namespace == "" || p.Namespace == c.Namespace) {
			return p
		}
	}
	return nil
}

type variantKey struct {
	base  *Node
	patch *Object
}

// variant is base with patch merged into it (mappings merged key by key,
// other values replaced, as a strategic merge patch does for these
// fields): the node as the overlay builds it, located in the patch file.
func (b *builder) variant(g *Graph, base *Node, patch *Object) *Node {
	key := variantKey{base, patch}
	if v, ok := b.variants[key]; ok {
		return v
	}
	o := &Object{File: patch.File, Line: patch.Line, APIVersion: base.APIVersion, Kind: base.Kind,
		Name: base.Name, Namespace: base.Namespace, Node: mergeYAML(copyYAML(base.Node), patch.Node)}
	v := g.newNode(o, b)
	if v == nil {
		return base
	}
	v.Revision, v.Base = base.Revision, base
	b.variants[key] = v
	base.Variants = append(base.Variants, v)
	g.Variants = append(g.Variants, v)
	b.link(g, v)
	return v
}

// newNode makes the node of an operator's object, or nil for other kinds.
func (g *Graph) newNode(o *Object, b *builder) *Node {
	var n *Node
	switch {
	case o.Group() == argoGroup && o.Kind == KindApplication:
		n = argoNode(o, Lookup(o.Node, "spec"), b.internal)
	case o.Group() == argoGroup && o.Kind == KindApplicationSet:
		n = argoNode(o, Lookup(o.Node, "spec", "template", "spec"), b.internal)
		for i := range n.Targets {
			// Generated at runtime: paths may be templates.
			n.Targets[i].External = true
		}
	case o.Group() == fluxKustomizeGroup && o.Kind == KindKustomization:
		n = fluxNode(o, g, b)
	default:
		return nil
	}
	b.ids++
	n.id = b.ids
	n.Revision = g.rev
	return n
}

// copyYAML copies a node tree.
func copyYAML(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = copyYAML(k)
	}
	return &c
}

// mergeYAML merges the mapping src into dst (modified and returned):
// mappings key by key, anything else replaced by src's node.
func mergeYAML(dst, src *yaml.Node) *yaml.Node {
	if dst == nil || src == nil || dst.Kind != yaml.MappingNode || src.Kind != yaml.MappingNode {
		return src
	}
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		found := false
		for j := 0; j+1 < len(dst.Content); j += 2 {
			if dst.Content[j].Value == k.Value {
				dst.Content[j+1] = mergeYAML(dst.Content[j+1], v)
				dst.Content[j] = k
				found = true
				break
			}
		}
		if !found {
			dst.Content = append(dst.Content, k, v)
		}
	}
	return dst
}

// graphFor is the graph of the revision a target of this repository names,
// seen from a node of revision rev: the same revision when it names none
// (or HEAD, or rev itself), the files on disk for the revisions they are,
// another revision read through Options.ReadRevision, or nil when that
// revision is not available (the target is then NotCheckedOut).
func (b *builder) graphFor(n *Node, t *Target, rev string) *Graph {
	want := t.Revision
	switch {
	case want == "" || want == "HEAD" || want == rev:
		return b.graphs[rev]
	case b.local[want]:
		return b.graphs[""]
	}
	t.Checkout = want
	if g, ok := b.graphs[want]; ok {
		t.NotCheckedOut = g == nil
		return g
	}
	if b.opts.ReadRevision != nil {
		r, err := b.opts.ReadRevision(want)
		if err != nil {
			b.notes = append(b.notes, fmt.Sprintf("%s (%s): revision %s not read: %v", n.Title(), n.File, want, err))
		}
		if r != nil {
			return b.build(r, want)
		}
	}
	b.graphs[want] = nil
	t.NotCheckedOut = true
	return nil
}

// resolveDep finds the Kustomization a dependsOn entry names: in the same
// directory first (one cluster's tree), then among the siblings under the
// same parent, then the only one of that name anywhere.
func (g *Graph) resolveDep(n *Node, d Dep) *Node {
	var cands []*Node
	for _, m := range append(slices.Clone(g.Nodes), g.Variants...) {
		if m.Replaced() {
			continue
		}
		if m.Kind == KindKustomization && m.Group() == fluxKustomizeGroup && m.Name == d.Name && m.Namespace == d.Namespace {
			cands = append(cands, m)
		}
	}
	for _, m := range cands {
		if path.Dir(m.File) == path.Dir(n.File) {
			return m
		}
	}
	for _, m := range cands {
		for _, p := range m.Parents {
			if slices.Contains(n.Parents, p) {
				return m
			}
		}
	}
	if len(cands) == 1 {
		return cands[0]
	}
	return nil
}

func argoNode(o *Object, spec *yaml.Node, internal func(string) bool) *Node {
	n := &Node{Object: o}
	var srcs []*yaml.Node
	if s := Lookup(spec, "source"); s != nil {
		srcs = append(srcs, s)
	}
	if l := Lookup(spec, "sources"); l != nil && l.Kind == yaml.SequenceNode {
		srcs = append(srcs, l.Content...)
	}
	for _, s := range srcs {
		t := Target{RepoURL: gitrepo.RedactURL(scalar(Lookup(s, "repoURL"))), Revision: scalar(Lookup(s, "targetRevision")),
			Path: scalar(Lookup(s, "path")), PathLine: KeyLine(s, "path")}
		if t.PathLine == 0 {
			t.PathLine = s.Line
		}
		t.Recursive = scalar(Lookup(s, "directory", "recurse")) == "true"
		if scalar(Lookup(s, "chart")) != "" || Lookup(s, "path") == nil || !internal(t.RepoURL) {
			// A Helm chart from a chart repository, a ref-only source, or
			// another repository.
			t.External = true
			n.Targets = append(n.Targets, t)
			continue
		}
		n.Targets = append(n.Targets, t)
	}
	return n
}

// generated is one artifact of an ArtifactGenerator.
type generated struct {
	gen      *Object
	artifact *yaml.Node
}

// trace maps a path in the generated artifact to the source it is copied
// from: the source's alias and the path in it. Only directory copies
// ("@alias/dir/**" to "@artifact/dest/") are traced, the longest
// destination first; ok is false when no rule copies the path.
func (a generated) trace(p string) (alias, src string, ok bool) {
	p = strings.Trim(path.Clean("/"+strings.TrimSpace(p)), "/")
	best := -1
	if l := Lookup(a.artifact, "copy"); l != nil && l.Kind == yaml.SequenceNode {
		for _, c := range l.Content {
			from, to := scalar(Lookup(c, "from")), scalar(Lookup(c, "to"))
			if !strings.HasPrefix(from, "@") || !strings.HasPrefix(to, "@artifact/") || !strings.HasSuffix(from, "/**") {
				continue
			}
			al, dir, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(from, "@"), "**"), "/")
			dest := strings.Trim(strings.TrimPrefix(to, "@artifact/"), "/")
			rest, match := "", false
			switch {
			case dest == "":
				rest, match = p, true
			case p == dest:
				match = true
			case strings.HasPrefix(p, dest+"/"):
				rest, match = strings.TrimPrefix(p, dest+"/"), true
			}
			if match && strings.ContainsAny(dir, "*?[") {
				match = false
			}
			if match && len(dest) > best {
				best = len(dest)
				alias, src, ok = al, path.Join(".", strings.Trim(dir, "/"), rest), true
			}
		}
	}
	return alias, src, ok
}

// source is the kind, name and namespace of one of the generator's
// sources by alias.
func (a generated) source(alias string) (kind, name, ns string) {
	if l := Lookup(a.gen.Node, "spec", "sources"); l != nil && l.Kind == yaml.SequenceNode {
		for _, s := range l.Content {
			if scalar(Lookup(s, "alias")) == alias {
				ns = scalar(Lookup(s, "namespace"))
				if ns == "" {
					ns = a.gen.Namespace
				}
				return scalar(Lookup(s, "kind")), scalar(Lookup(s, "name")), ns
			}
		}
	}
	return "", "", ""
}

func fluxNode(o *Object, g *Graph, b *builder) *Node {
	sources, arts, internal := g.sources, g.arts, b.internal
	n := &Node{Object: o}
	spec := Lookup(o.Node, "spec")
	ref := Lookup(spec, "sourceRef")
	kind, name, ns := scalar(Lookup(ref, "kind")), scalar(Lookup(ref, "name")), scalar(Lookup(ref, "namespace"))
	if ns == "" {
		ns = o.Namespace
	}
	n.Source = kind + "/" + ns + "/" + name
	t := Target{Path: scalar(Lookup(spec, "path")), PathLine: KeyLine(spec, "path"), Recursive: true}
	if t.PathLine == 0 {
		t.PathLine = o.Line
	}
	if a, ok := arts[ns+"/"+name]; ok && kind == KindExternalArtifact {
		// An ArtifactGenerator's output: follow its copy rule back to the
		// GitRepository it copies from.
		if alias, src, ok := a.trace(t.Path); ok {
			if k, nm, nsp := a.source(alias); k == KindGitRepository {
				kind, name, ns = k, nm, nsp
				t.Path, t.Via = src, a.gen.Namespace+"/"+a.gen.Name
			}
		}
	}
	switch src := sources[ns+"/"+name]; {
	case kind == KindOCIRepository && g.ocis[ns+"/"+name] != nil:
		ociTarget(&t, g.ocis[ns+"/"+name], b.opts.Artifacts)
	case kind != KindGitRepository:
		t.External = true // OCIRepository not in the repository, Bucket
		t.RepoURL = kind + " " + ns + "/" + name
	case src != nil:
		sspec := Lookup(src.Node, "spec")
		t.RepoURL = gitrepo.RedactURL(scalar(Lookup(sspec, "url")))
		for _, k := range []string{"branch", "tag", "semver", "name", "commit"} {
			if v := scalar(Lookup(sspec, "ref", k)); v != "" {
				t.Revision = v
			}
		}
		t.External = !internal(t.RepoURL)
	}
	n.Targets = append(n.Targets, t)
	if l := Lookup(spec, "dependsOn"); l != nil && l.Kind == yaml.SequenceNode {
		for _, it := range l.Content {
			d := Dep{Name: scalar(Lookup(it, "name")), Namespace: scalar(Lookup(it, "namespace")), Line: it.Line}
			if d.Namespace == "" {
				d.Namespace = o.Namespace
			}
			n.DependsOn = append(n.DependsOn, d)
		}
	}
	return n
}

// ociTarget points t at the OCIRepository src: into this repository when
// artifacts says its artifact is pushed from one of its directories, else
// at its URL (credentials removed), as an external source.
func ociTarget(t *Target, src *Object, artifacts func(string) (string, bool)) {
	sspec := Lookup(src.Node, "spec")
	url := scalar(Lookup(sspec, "url"))
	if artifacts != nil {
		if dir, ok := artifacts(url); ok {
			t.Artifact, t.ArtifactDir = gitrepo.RedactURL(url), dir
			return
		}
	}
	t.External = true
	t.RepoURL = gitrepo.RedactURL(url)
	for _, k := range []string{"tag", "semver", "digest"} {
		if v := scalar(Lookup(sspec, "ref", k)); v != "" {
			t.Revision = v
		}
	}
}

func resolveTarget(r *Repo, t *Target, base string) {
	p := strings.TrimPrefix(strings.TrimSpace(t.Path), "/")
	if t.ArtifactDir != "" {
		// A path inside the artifact: it never leaves the directory the
		// artifact is pushed from.
		base = t.ArtifactDir
		if d, ok := Resolve(base, p); !ok || (base != "." && d != path.Clean(base) && !strings.HasPrefix(d, path.Clean(base)+"/")) {
			t.Escapes = true
			return
		}
	}
	dir, ok := Resolve(base, p)
	if !ok {
		t.Escapes = true
		return
	}
	t.Dir = dir
	exists, isDir := r.Exists(dir)
	t.Exists = exists && isDir
}

// sortSiblings orders nodes so that a Kustomization comes after those it
// depends on, and otherwise by file and line.
func sortSiblings(nodes []*Node) []*Node {
	out := slices.Clone(nodes)
	slices.SortStableFunc(out, func(a, b *Node) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	var sorted []*Node
	placed := map[*Node]bool{}
	in := map[*Node]bool{}
	for _, n := range out {
		in[n] = true
	}
	var place func(n *Node, stack map[*Node]bool)
	place = func(n *Node, stack map[*Node]bool) {
		if placed[n] || stack[n] {
			return
		}
		stack[n] = true
		for _, d := range n.DependsOn {
			if d.Node != nil && in[d.Node] {
				place(d.Node, stack)
			}
		}
		delete(stack, n)
		placed[n] = true
		sorted = append(sorted, n)
	}
	for _, n := range out {
		place(n, map[*Node]bool{})
	}
	return sorted
}
