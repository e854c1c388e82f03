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
)

// Kinds of graph nodes.
const (
	KindApplication    = "Application"
	KindApplicationSet = "ApplicationSet"
	KindKustomization  = "Kustomization"
	KindGitRepository  = "GitRepository"

	argoGroup          = "argoproj.io"
	fluxKustomizeGroup = "kustomize.toolkit.fluxcd.io"
	fluxSourceGroup    = "source.toolkit.fluxcd.io"

	kindExternalArtifact  = "ExternalArtifact"
	kindArtifactGenerator = "ArtifactGenerator"
	fluxExtensionsGroup   = "source.extensions.fluxcd.io"
)

// Target is where an Application source or a Flux Kustomization points.
type Target struct {
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
	// Via names the ExternalArtifact a Flux Kustomization reads, when Dir
	// is where its ArtifactGenerator copies that path from.
	Via string
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
	id      int
}

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
}

// Options configure Build.
type Options struct {
	// RepoURLs are this repository's URLs. When empty every Application
	// and Kustomization is taken to point into this repository; otherwise
	// those with another URL are External.
	RepoURLs []string
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
	known := map[string]bool{}
	for _, u := range opts.RepoURLs {
		if u != "" {
			known[NormalizeURL(u)] = true
		}
	}
	internal := func(u string) bool { return len(known) == 0 || known[NormalizeURL(u)] }
	g := &Graph{Repo: r}
	sources := map[string]*Object{}
	for _, o := range r.Objects {
		switch {
		case o.Group() == fluxSourceGroup && o.Kind == KindGitRepository:
			sources[o.Namespace+"/"+o.Name] = o
		case o.Group() == fluxExtensionsGroup && o.Kind == kindArtifactGenerator:
			sources[kindArtifactGenerator+"/"+o.Namespace+"/"+o.Name] = o
		}
	}
	for _, o := range r.Objects {
		var n *Node
		switch {
		case o.Group() == argoGroup && o.Kind == KindApplication:
			n = argoNode(r, o, Lookup(o.Node, "spec"), internal)
		case o.Group() == argoGroup && o.Kind == KindApplicationSet:
			n = argoNode(r, o, Lookup(o.Node, "spec", "template", "spec"), internal)
			for i := range n.Targets {
				// Generated at runtime: paths may be templates.
				n.Targets[i].External = true
				n.Targets[i].Dir = ""
			}
		case o.Group() == fluxKustomizeGroup && o.Kind == KindKustomization:
			n = fluxNode(r, o, sources, internal)
		default:
			continue
		}
		n.id = len(g.Nodes) + 1
		g.Nodes = append(g.Nodes, n)
	}
	byFile := map[string][]*Node{}
	for _, n := range g.Nodes {
		byFile[n.File] = append(byFile[n.File], n)
	}
	for _, n := range g.Nodes {
		for _, t := range n.Targets {
			if t.Dir == "" || !t.Exists {
				continue
			}
			var files map[string]bool
			if r.Kustomizations[t.Dir] != nil {
				files = r.Closure(t.Dir)
			} else {
				files = r.FilesUnder(t.Dir, t.Recursive)
			}
			for _, f := range slices.Sorted(maps.Keys(files)) {
				for _, c := range byFile[f] {
					if c != n && !slices.Contains(n.Children, c) {
						n.Children = append(n.Children, c)
						c.Parents = append(c.Parents, n)
					}
				}
			}
		}
	}
	for _, n := range g.Nodes {
		for i := range n.DependsOn {
			n.DependsOn[i].Node = g.resolveDep(n, n.DependsOn[i])
		}
	}
	for _, n := range g.Nodes {
		if len(n.Parents) == 0 {
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
		if !reached[n] {
			g.Roots = append(g.Roots, n)
			mark(n)
		}
	}
	return g
}

// resolveDep finds the Kustomization a dependsOn entry names: in the same
// directory first (one cluster's tree), then among the siblings under the
// same parent, then the only one of that name anywhere.
func (g *Graph) resolveDep(n *Node, d Dep) *Node {
	var cands []*Node
	for _, m := range g.Nodes {
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

func argoNode(r *Repo, o *Object, spec *yaml.Node, internal func(string) bool) *Node {
	n := &Node{Object: o}
	var srcs []*yaml.Node
	if s := Lookup(spec, "source"); s != nil {
		srcs = append(srcs, s)
	}
	if l := Lookup(spec, "sources"); l != nil && l.Kind == yaml.SequenceNode {
		srcs = append(srcs, l.Content...)
	}
	for _, s := range srcs {
		t := Target{RepoURL: scalar(Lookup(s, "repoURL")), Revision: scalar(Lookup(s, "targetRevision")),
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
		resolveTarget(r, &t, ".")
		n.Targets = append(n.Targets, t)
	}
	return n
}

func fluxNode(r *Repo, o *Object, sources map[string]*Object, internal func(string) bool) *Node {
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
	if kind == kindExternalArtifact {
		if via, gitRef, dir, ok := followArtifact(sources, ns, name, t.Path); ok {
			// Read the GitRepository the generator copies the path from.
			t.Via, t.Path = via, dir
			kind, ns, name = KindGitRepository, gitRef[0], gitRef[1]
		}
	}
	switch src := sources[ns+"/"+name]; {
	case kind != KindGitRepository:
		t.External = true // OCIRepository, Bucket
		t.RepoURL = kind + " " + ns + "/" + name
	case src != nil:
		sspec := Lookup(src.Node, "spec")
		t.RepoURL = scalar(Lookup(sspec, "url"))
		for _, k := range []string{"branch", "tag", "semver", "name", "commit"} {
			if v := scalar(Lookup(sspec, "ref", k)); v != "" {
				t.Revision = v
			}
		}
		t.External = !internal(t.RepoURL)
	}
	if !t.External {
		resolveTarget(r, &t, ".")
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

// followArtifact finds the ArtifactGenerator of the repository that
// produces the ExternalArtifact ns/name and the directory of its
// GitRepository source that ends up at kpath in the artifact, through the
// copy operations that copy a directory ("@src/dir", "@src/dir/**"; the
// last one wins). via names the artifact; gitRef is the GitRepository's
// namespace and name.
func followArtifact(sources map[string]*Object, ns, name, kpath string) (via string, gitRef [2]string, dir string, ok bool) {
	var gen *Object
	var art *yaml.Node
	for _, key := range slices.Sorted(maps.Keys(sources)) {
		o := sources[key]
		if o.Kind != kindArtifactGenerator || o.Namespace != ns {
			continue
		}
		if l := Lookup(o.Node, "spec", "artifacts"); l != nil && l.Kind == yaml.SequenceNode {
			for _, a := range l.Content {
				if scalar(Lookup(a, "name")) == name {
					gen, art = o, a
				}
			}
		}
	}
	if gen == nil {
		return "", gitRef, "", false
	}
	kp := path.Clean(strings.TrimPrefix(strings.TrimSpace(kpath), "/"))
	alias, best := "", -1
	if l := Lookup(art, "copy"); l != nil && l.Kind == yaml.SequenceNode {
		for _, op := range l.Content {
			from, to := scalar(Lookup(op, "from")), scalar(Lookup(op, "to"))
			a, pattern, ok1 := strings.Cut(strings.TrimPrefix(from, "@"), "/")
			dest, ok2 := strings.CutPrefix(to, "@artifact/")
			if !strings.HasPrefix(from, "@") || !ok1 || !ok2 {
				continue
			}
			var src, destDir string
			if prefix, ok := strings.CutSuffix(pattern, "/**"); ok && !strings.ContainsAny(prefix, "*?[]") {
				src, destDir = path.Clean(prefix), path.Clean("./"+dest)
			} else if !strings.ContainsAny(pattern, "*?[]") {
				src = path.Clean("./" + pattern)
				destDir = path.Clean("./" + dest)
				if src != "." {
					destDir = path.Join(destDir, path.Base(src))
				}
			} else {
				continue
			}
			rest, under := kp, destDir == "."
			if !under {
				if r, ok := strings.CutPrefix(kp, destDir); ok && (r == "" || strings.HasPrefix(r, "/")) {
					rest, under = strings.TrimPrefix(r, "/"), true
				}
			}
			if under && len(destDir) >= best {
				alias, best, dir = a, len(destDir), path.Join(src, rest)
			}
		}
	}
	if alias == "" {
		return "", gitRef, "", false
	}
	if l := Lookup(gen.Node, "spec", "sources"); l != nil && l.Kind == yaml.SequenceNode {
		for _, src := range l.Content {
			if scalar(Lookup(src, "alias")) != alias || scalar(Lookup(src, "kind")) != KindGitRepository {
				continue
			}
			gitRef = [2]string{scalar(Lookup(src, "namespace")), scalar(Lookup(src, "name"))}
			if gitRef[0] == "" {
				gitRef[0] = gen.Namespace
			}
			return kindExternalArtifact + " " + name + " of " + gen.Kind + " " + gen.Namespace + "/" + gen.Name, gitRef, dir, true
		}
	}
	return "", gitRef, "", false
}

func resolveTarget(r *Repo, t *Target, base string) {
	p := strings.TrimPrefix(strings.TrimSpace(t.Path), "/")
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
