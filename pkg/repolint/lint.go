package repolint

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartlint"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/secretscan"
)

// ScanAllowFile is the allow-list of the secret scan, shared with
// `kubectl gitops seal scan`.
const ScanAllowFile = ".gitops/scan-allow.yaml"

// DefaultEnvironments are the directory names taken for environments when
// neither the pipeline file nor the configuration names them.
var DefaultEnvironments = []string{"dev", "development", "test", "qa", "staging", "stage", "preprod", "prod", "production"}

// Options configure Lint.
type Options struct {
	// Root is the repository's directory.
	Root string
	// Files are the files to consider (slash-separated, relative to Root,
	// e.g. from git ls-files so that .gitignore is respected); nil walks Root.
	Files []string
	// Config is the lint configuration; nil reads Root/.gitops/lint.yaml
	// when it exists.
	Config *Config
	// RepoURLs are added to the configuration's.
	RepoURLs []string
	// Revisions and ReadRevision say which revisions of this repository
	// the files on disk are and how to read others (repograph.Options):
	// paths on other revisions are checked there, or not at all when the
	// revision is not available.
	Revisions    []string
	ReadRevision func(rev string) (*repograph.Repo, error)
	// Artifacts maps OCIRepository URLs to the directories of this
	// repository their artifacts are pushed from (repograph.Options).
	Artifacts func(url string) (dir string, ok bool)
	// DryRunner, when set, validates every object against an API server.
	DryRunner DryRunner
	// Charts, when set, fetches the charts of HelmReleases that come from
	// chart repositories available offline (--repo-override), to check
	// their values against the charts' schemas.
	Charts ChartFetcher
	// Progress receives one line per step (for stderr); may be nil.
	Progress func(format string, args ...any)
}

// Report is the result of Lint.
type Report struct {
	// Findings are sorted by file and line; excluded ones are left out.
	Findings []Finding `json:"findings"`
	// Excluded counts the findings dropped by exclusions.
	Excluded int `json:"excluded"`
	// Kustomizations counts the kustomization files; Objects the distinct
	// objects checked (an object built identically by several entry points
	// counts once); DryRun those sent to the API server.
	Kustomizations int `json:"kustomizations"`
	Objects        int `json:"objects"`
	DryRun         int `json:"dryRun"`
}

// Errors counts the findings of severity error.
func (r *Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			n++
		}
	}
	return n
}

// linter holds one run's state.
type linter struct {
	opts     Options
	absRoot  string
	cfg      *Config
	repo     *repograph.Repo
	graph    *repograph.Graph
	pipeline *promotion.Pipeline
	findings []Finding
	// built holds each kustomization's build output (nil when it failed).
	built map[string]*manifest.Set
	// objs are the objects to validate: built from the entry points and
	// read from files outside kustomizations.
	objs []located
	// unnamed counts the objects not sent to the server for want of a
	// name (generateName).
	unnamed int
	// helmSecrets are the values of charts' environments under secret-like
	// keys: no finding repeats them.
	helmSecrets []string
}

// located is an object with the file and line it was traced to.
type located struct {
	obj  *unstructured.Unstructured
	file string
	line int
	src  *repograph.Object // nil when not traced to a document
	// from is the kustomization it was built from ("" for a plain file).
	from string
}

func (l *linter) add(f Finding) {
	if f.Severity == "" {
		f.Severity = severityOf(f.Rule)
	}
	l.findings = append(l.findings, f)
}

func (l *linter) progress(format string, args ...any) {
	if l.opts.Progress != nil {
		l.opts.Progress(format, args...)
	}
}

// Lint checks the repository at opts.Root. The error is for a repository
// or configuration that cannot be read; problems in the repository are
// findings.
func Lint(ctx context.Context, opts Options) (*Report, error) {
	l := &linter{opts: opts, built: map[string]*manifest.Set{}}
	abs, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", opts.Root, err)
	}
	l.absRoot = abs
	if err := l.loadConfig(); err != nil {
		return nil, err
	}
	urls := append(slices.Clone(l.cfg.RepoURLs), opts.RepoURLs...)
	repo, err := repograph.Scan(opts.Root, opts.Files)
	if err != nil {
		return nil, fmt.Errorf("reading the repository: %w", err)
	}
	l.repo = repo
	// A Helm app of apps is rendered: the Applications it renders are
	// checked like the others (paths, environments).
	l.graph = repograph.Build(repo, repograph.Options{RepoURLs: urls, Revisions: opts.Revisions, ReadRevision: opts.ReadRevision,
		RenderChart: chartlint.GraphRenderer(ctx), Artifacts: opts.Artifacts})
	for _, e := range repo.Errors {
		l.add(Finding{File: e.File, Line: e.Line, Rule: RuleYAML, Message: "not valid YAML: " + e.Err.Error()})
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"pipeline", l.checkPipeline},
		{"kustomize builds", l.checkBuilds},
		{"objects", l.collectObjects},
		{"images", l.checkImages},
		{"schema", l.checkSchema},
		{"paths", l.checkPaths},
		{"environments", l.checkEnvironments},
		{"secrets", l.checkSecrets},
		{"helm charts", l.checkCharts},
	}
	if opts.DryRunner != nil {
		steps = append(steps, struct {
			name string
			run  func(context.Context) error
		}{"server-side dry run", l.checkDryRun})
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("linting: %w", err)
		}
		l.progress("checking %s", s.name)
		if err := s.run(ctx); err != nil {
			return nil, err
		}
	}
	unique := len(dedupe(l.objs))
	rep := &Report{Kustomizations: len(repo.Kustomizations), Objects: unique}
	if opts.DryRunner != nil {
		rep.DryRun = unique - l.unnamed
	}
	inline := l.inlineIgnores()
	sweep := l.sweeper()
	for _, f := range sortFindings(l.findings) {
		if l.excluded(f, inline) {
			rep.Excluded++
			continue
		}
		// No secret value in a finding, whoever wrote its message
		// (kustomize quotes generator literals in its errors).
		f.Message, f.Subject = sweep.String(f.Message), sweep.String(f.Subject)
		rep.Findings = append(rep.Findings, f)
	}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	return rep, nil
}

func (l *linter) loadConfig() error {
	if l.opts.Config != nil {
		l.cfg = l.opts.Config
		return nil
	}
	l.cfg = &Config{}
	data, err := l.readFile(ConfigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the lint configuration: %w", err)
	}
	cfg, err := ParseConfig(ConfigFile, data)
	if err != nil {
		return err
	}
	l.cfg = cfg
	return nil
}

func (l *linter) abs(p string) string {
	return filepath.Join(l.opts.Root, filepath.FromSlash(p))
}

// readFile reads p (slash-separated, relative to the root) inside the
// repository only: a symbolic link leading out of it is not followed.
func (l *linter) readFile(p string) ([]byte, error) {
	root, err := os.OpenRoot(l.opts.Root)
	if err != nil {
		return nil, err
	}
	defer func() { _ = root.Close() }()
	return root.ReadFile(filepath.FromSlash(p))
}

// checkPipeline validates .gitops/pipeline.yaml and checks that its
// directory environments exist.
func (l *linter) checkPipeline(context.Context) error {
	data, err := l.readFile(promotion.DefaultFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the pipeline: %w", err)
	}
	p, err := promotion.Parse(promotion.DefaultFile, data)
	if err != nil {
		var verr *promotion.ValidationError
		if !errors.As(err, &verr) {
			l.add(Finding{File: promotion.DefaultFile, Rule: RulePipeline, Message: err.Error()})
			return nil
		}
		for _, fe := range verr.Errors {
			msg := fe.Msg
			if fe.Field != "" {
				msg = fe.Field + ": " + msg
			}
			l.add(Finding{File: promotion.DefaultFile, Line: fe.Pos.Line, Rule: RulePipeline, Subject: fe.Field, Message: msg})
		}
		return nil
	}
	l.pipeline = p
	for _, env := range p.Environments {
		if env.BranchPerEnv() {
			continue // on another branch: not in this checkout
		}
		if ok, dir := l.repo.Exists(env.Path); !ok || !dir {
			l.add(Finding{File: promotion.DefaultFile, Line: env.Pos.Line, Rule: RuleMissingPath, Subject: env.Name, Env: env.Name,
				Message: fmt.Sprintf("environment %s: directory %s does not exist", env.Name, env.Path)})
		}
	}
	return nil
}

// isComponent reports whether a kustomization file is a kustomize Component
// (built only as part of another).
func isComponent(k *repograph.Kustomization) bool {
	return repograph.Scalar(repograph.Lookup(k.Node, "kind")) == "Component"
}

// checkBuilds builds every kustomization as kubectl -k does.
func (l *linter) checkBuilds(ctx context.Context) error {
	for _, dir := range l.repo.KustomizationDirs() {
		k := l.repo.Kustomizations[dir]
		if isComponent(k) {
			continue
		}
		set, err := manifest.Load(ctx, manifest.Options{Kustomize: l.abs(dir)})
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("building %s: %w", dir, ctx.Err())
			}
			msg := strings.TrimPrefix(err.Error(), "building kustomization "+l.abs(dir)+": ")
			msg = strings.ReplaceAll(msg, l.absRoot+string(filepath.Separator), "")
			// kustomize prints an env file's line that is not UTF-8 as
			// its bytes in decimal too, which no sweep would recognise.
			msg = invalidUTF8LineRE.ReplaceAllString(msg, "a line has invalid UTF-8 bytes")
			l.add(Finding{File: k.File, Line: buildErrorLine(k, err.Error()), Rule: RuleBuild, Subject: dir,
				Message: "kustomize build " + dir + " fails: " + msg})
			l.built[dir] = nil
			continue
		}
		l.built[dir] = set
	}
	return nil
}

var invalidUTF8LineRE = regexp.MustCompile(`line \[[0-9 ]*\] has invalid utf8 bytes`)

// buildErrorLine guesses the line of a kustomization a build error is
// about: the first resources/components entry the message names, else the
// first line.
func buildErrorLine(k *repograph.Kustomization, msg string) int {
	for _, r := range append(slices.Clone(k.Resources), k.Components...) {
		v := strings.TrimSuffix(strings.TrimPrefix(r.Value, "./"), "/")
		if v != "" && strings.Contains(msg, v) {
			return r.Line
		}
	}
	for _, key := range []string{"patches", "patchesStrategicMerge", "configMapGenerator", "secretGenerator", "images", "replacements"} {
		if line := repograph.KeyLine(k.Node, key); line > 0 && strings.Contains(strings.ToLower(msg), strings.ToLower(strings.TrimSuffix(key, "es"))) {
			return line
		}
	}
	return 1
}

// entryPoints are the kustomizations that are deployed as a whole: those no
// other kustomization includes, and those an Application or Flux
// Kustomization points at.
func (l *linter) entryPoints() []string {
	ref := l.repo.Referenced()
	set := map[string]bool{}
	for d, k := range l.repo.Kustomizations {
		if !ref[d] && !isComponent(k) {
			set[d] = true
		}
	}
	for _, n := range l.graph.Nodes {
		for _, t := range n.Targets {
			if t.Checkout == "" && t.Dir != "" && l.repo.Kustomizations[t.Dir] != nil && !isComponent(l.repo.Kustomizations[t.Dir]) {
				set[t.Dir] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// managed reports whether a file is in the tree of a kustomization (its
// directory or a parent has one): kustomize decides what it means.
func (l *linter) managed(file string) bool {
	for d := path.Dir(file); ; d = path.Dir(d) {
		if l.repo.Kustomizations[d] != nil {
			return true
		}
		if d == "." || d == "/" {
			return false
		}
	}
}

// collectObjects gathers the objects to validate: the build output of the
// entry points, traced back to their source documents, and the objects of
// files no kustomization governs (read as kubectl apply -f reads them).
func (l *linter) collectObjects(ctx context.Context) error {
	for _, dir := range l.entryPoints() {
		set := l.built[dir]
		if set == nil {
			continue
		}
		closure := l.repo.Closure(dir)
		for _, o := range set.Objects {
			src := l.trace(closure, o.Obj)
			lo := located{obj: o.Obj, from: dir, file: l.repo.Kustomizations[dir].File, line: 1}
			if src != nil {
				lo.src, lo.file, lo.line = src, src.File, src.Line
			}
			l.objs = append(l.objs, lo)
		}
	}
	files := map[string][]*repograph.Object{}
	var order []string
	for _, o := range l.repo.Objects {
		if l.managed(o.File) {
			continue
		}
		if _, ok := files[o.File]; !ok {
			order = append(order, o.File)
		}
		files[o.File] = append(files[o.File], o)
	}
	for _, f := range order {
		set, err := manifest.Load(ctx, manifest.Options{Filenames: []string{l.abs(f)}})
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("reading %s: %w", f, ctx.Err())
			}
			var pe *manifest.ParseError
			line := 0
			if errors.As(err, &pe) {
				line = pe.Line
			}
			msg := strings.ReplaceAll(err.Error(), l.abs(f), f)
			l.add(Finding{File: f, Line: line, Rule: RuleYAML, Message: "not a valid manifest: " + msg})
			continue
		}
		for _, o := range set.Objects {
			lo := located{obj: o.Obj, file: f, line: o.Source.Line}
			for _, src := range files[f] {
				if src.Kind == o.Obj.GetKind() && src.Name == o.Obj.GetName() {
					lo.src = src
					lo.line = src.Line
					break
				}
			}
			l.objs = append(l.objs, lo)
		}
	}
	return nil
}

// trace finds the source document of a built object among the files of a
// kustomization: same kind and name, or a name the build extended (prefix,
// suffix, hash).
func (l *linter) trace(closure map[string]bool, obj *unstructured.Unstructured) *repograph.Object {
	var partial *repograph.Object
	for _, o := range l.repo.Objects {
		if !closure[o.File] || o.Kind != obj.GetKind() || o.Name == "" {
			continue
		}
		if o.Name == obj.GetName() {
			return o
		}
		if partial == nil && strings.Contains(obj.GetName(), o.Name) {
			partial = o
		}
	}
	return partial
}

// checkPaths reports Applications and Flux Kustomizations pointing at paths
// that do not exist, and dependsOn entries naming nothing.
func (l *linter) checkPaths(context.Context) error {
	// Nodes as overlays patch them (their path is in the patch file), not
	// the bases every overlay patches.
	for _, n := range slices.Concat(l.graph.Nodes, l.graph.Variants) {
		if n.Kind == repograph.KindApplicationSet || n.Replaced() {
			continue
		}
		for _, t := range n.Targets {
			on := ""
			if t.Checkout != "" {
				on = " on " + t.Checkout
			}
			switch {
			case t.External, t.NotCheckedOut:
			case t.Escapes:
				l.add(Finding{File: n.File, Line: t.PathLine, Rule: RuleMissingPath, Subject: n.Title(),
					Message: fmt.Sprintf("%s points at %s, outside the repository", n.Title(), t.Path)})
			case !t.Exists:
				l.add(Finding{File: n.File, Line: t.PathLine, Rule: RuleMissingPath, Subject: n.Title(),
					Message: fmt.Sprintf("%s points at %s, which does not exist in the repository%s", n.Title(), t.Dir, on)})
			}
		}
		for _, d := range n.DependsOn {
			if d.Node == nil {
				l.add(Finding{File: n.File, Line: d.Line, Rule: RuleUnknownDependency, Subject: d.Namespace + "/" + d.Name,
					Message: fmt.Sprintf("%s depends on Kustomization %s/%s, which is not in the repository", n.Title(), d.Namespace, d.Name)})
			}
		}
	}
	return nil
}

// checkSecrets runs the plaintext secret scanner of `seal scan`, with its
// allow-list. Files are read through an os.Root, as seal scan reads them: a
// symbolic link leading out of the repository is never followed (it gets a
// warning, like a dangling one).
func (l *linter) checkSecrets(ctx context.Context) error {
	root, err := os.OpenRoot(l.opts.Root)
	if err != nil {
		return fmt.Errorf("scanning for secrets: %w", err)
	}
	defer func() { _ = root.Close() }()
	fsys := root.FS()
	files := l.opts.Files
	if files == nil {
		if files, err = secretscan.Walk(fsys); err != nil {
			return fmt.Errorf("listing files to scan: %w", err)
		}
	}
	var candidates []string
	for _, f := range files {
		if secretscan.IsCandidate(f) {
			candidates = append(candidates, f)
		}
	}
	found, err := (&secretscan.Scanner{FS: fsys}).Scan(ctx, candidates)
	if err != nil {
		return fmt.Errorf("scanning for secrets: %w", err)
	}
	if data, err := l.readFile(ScanAllowFile); err == nil {
		rules, err := secretscan.ParseAllowList(data)
		if err != nil {
			return fmt.Errorf("%s: %w", ScanAllowFile, err)
		}
		found = secretscan.Filter(found, rules)
	}
	for _, f := range found {
		subject := f.Name
		if f.Kind != "" {
			subject = f.Kind + " " + f.Name
		}
		sev := Severity(f.Severity)
		if sev != SeverityWarning {
			sev = SeverityError
		}
		l.add(Finding{File: f.File, Line: f.Line, Rule: f.Rule, Severity: sev, Subject: strings.TrimSpace(subject), Message: f.Message})
	}
	return nil
}

var ignoreRE = regexp.MustCompile(`#\s*lint:ignore\s+([a-z0-9-]+)(?:[ \t]+([^\s#]+))?`)

type inlineIgnore struct{ rule, subject string }

// inlineIgnores reads `# lint:ignore RULE [SUBJECT]` comments from the files
// (and, for findings about a directory, the files directly in it) that have
// findings.
func (l *linter) inlineIgnores() map[string][]inlineIgnore {
	out := map[string][]inlineIgnore{}
	read := func(key, file string) {
		data, err := l.readFile(file)
		if err != nil {
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			for _, m := range ignoreRE.FindAllStringSubmatch(sc.Text(), -1) {
				out[key] = append(out[key], inlineIgnore{m[1], m[2]})
			}
		}
	}
	done := map[string]bool{}
	for _, f := range l.findings {
		if done[f.File] {
			continue
		}
		done[f.File] = true
		if ok, dir := l.repo.Exists(f.File); ok && dir {
			for _, file := range l.repo.Files {
				if path.Dir(file) == f.File {
					read(f.File, file)
				}
			}
			continue
		}
		read(f.File, f.File)
	}
	return out
}

func (l *linter) excluded(f Finding, inline map[string][]inlineIgnore) bool {
	for _, ig := range inline[f.File] {
		if ig.rule == f.Rule && (ig.subject == "" || ig.subject == f.Subject || ig.subject == path.Base(f.Subject)) {
			return true
		}
	}
	for _, e := range l.cfg.Exclude {
		if e.matches(f) {
			return true
		}
	}
	return false
}
