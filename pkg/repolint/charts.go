package repolint

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartlint"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// RuleHelmNotChecked: the values of a HelmRelease or Application that could
// not be checked against their chart.
const RuleHelmNotChecked = "helm-values-not-checked"

const (
	helmGroup       = "helm.toolkit.fluxcd.io"
	fluxSourceGroup = "source.toolkit.fluxcd.io"
)

// ChartFetcher fetches a chart from a chart repository (pkg/chartsource).
type ChartFetcher interface {
	// Offline says whether the repository at url is read without the
	// network (mapped by --repo-override): only those are fetched.
	Offline(url string) bool
	Fetch(ctx context.Context, ref chartsource.ChartRef) (path, digest string, err error)
}

// chartEnv is one set of values a chart of the repository is linted with:
// the chart's own (obj nil) or those of an environment's Application or
// HelmRelease.
type chartEnv struct {
	use   chartlint.Use
	obj   *repograph.Object
	title string
	// inline is the node of the values written in obj (HelmRelease
	// spec.values, Application helm.valuesObject), nil when none.
	inline *yaml.Node
}

// topCharts are the chart directories of the repository that are not
// inside another chart (a vendored subchart is linted as part of its
// parent, as helm lint does without --with-subcharts), hidden ones left
// out.
func (l *linter) topCharts() []string {
	var out []string
	for _, d := range l.repo.Skipped {
		if hidden(d) {
			continue
		}
		nested := false
		for p := path.Dir(d); p != "." && p != "/"; p = path.Dir(p) {
			if slices.Contains(l.repo.Skipped, p) {
				nested = true
				break
			}
		}
		if !nested {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

func hidden(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if strings.HasPrefix(c, ".") && c != "." && c != ".." {
			return true
		}
	}
	return false
}

// inRepo says whether a repository URL is this repository's (every URL
// when none is configured, as the graph takes them).
func (l *linter) inRepo(u string) bool {
	urls := append(slices.Clone(l.cfg.RepoURLs), l.opts.RepoURLs...)
	if len(urls) == 0 {
		return true
	}
	for _, k := range urls {
		if k != "" && repograph.NormalizeURL(k) == repograph.NormalizeURL(u) {
			return true
		}
	}
	return false
}

// checkCharts lints every chart of the repository as helm lint does, with
// the chart's own values and with those of every Argo CD Application and
// Flux HelmRelease of the repository that renders it; a HelmRelease whose
// chart is not in the repository gets a note that its values were not
// checked.
func (l *linter) checkCharts(ctx context.Context) error {
	charts := l.topCharts()
	envs := map[string][]chartEnv{}
	for _, n := range slices.Concat(l.graph.Nodes, l.graph.Variants) {
		if n.Kind != repograph.KindApplication || n.Group() != "argoproj.io" || n.Revision != "" || n.Replaced() {
			continue
		}
		for _, s := range argoSources(n.Node) {
			// A chart from a Helm repository or registry: repo lint does
			// not fetch it, and says so rather than pass in silence.
			if c := repograph.Lookup(s, "chart"); repograph.Scalar(c) != "" {
				chart := repograph.Scalar(c)
				l.add(Finding{File: n.File, Line: c.Line, Rule: RuleHelmNotChecked, Subject: n.Title(),
					Message: fmt.Sprintf("%s: values not checked against the schema of chart %s: it comes from a Helm repository or registry, which repo lint does not fetch for Argo CD Applications", n.Title(), chart)})
			}
		}
		u, err := chartlint.Decode(n.Object)
		if err != nil {
			continue
		}
		for _, use := range chartlint.ArgoUses(l.opts.Root, u, l.inRepo) {
			if !slices.Contains(charts, use.Chart) {
				continue
			}
			env := chartEnv{use: use, obj: n.Object, title: n.Title()}
			for _, s := range argoSources(n.Node) {
				if p, _ := repograph.Resolve(".", strings.TrimPrefix(repograph.Scalar(repograph.Lookup(s, "path")), "/")); p == use.Chart {
					env.inline = repograph.Lookup(s, "helm", "valuesObject")
				}
			}
			envs[use.Chart] = append(envs[use.Chart], env)
		}
	}
	for _, o := range l.repo.Objects {
		if o.Group() != helmGroup || o.Kind != "HelmRelease" {
			continue
		}
		if env, ok := l.helmReleaseEnv(ctx, o, charts); ok {
			envs[env.use.Chart] = append(envs[env.use.Chart], env)
		}
	}
	for _, dir := range charts {
		if err := l.lintChart(ctx, dir, envs[dir]); err != nil {
			return err
		}
	}
	return nil
}

// argoSources are an Application's spec.source and spec.sources entries.
func argoSources(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	if s := repograph.Lookup(n, "spec", "source"); s != nil {
		out = append(out, s)
	}
	if l := repograph.Lookup(n, "spec", "sources"); l != nil && l.Kind == yaml.SequenceNode {
		out = append(out, l.Content...)
	}
	return out
}

// helmReleaseEnv is the values a HelmRelease renders a chart of this
// repository with (a GitRepository of this repository and a chart path
// in it); when its chart is elsewhere, a note says its values were not
// checked.
func (l *linter) helmReleaseEnv(ctx context.Context, o *repograph.Object, charts []string) (chartEnv, bool) {
	u, err := chartlint.Decode(o)
	if err != nil {
		return chartEnv{}, false
	}
	if o.Namespace != "" {
		// The namespace kustomize gives it, which its sourceRef's
		// namespace defaults to.
		u.SetNamespace(o.Namespace)
	}
	title := "HelmRelease " + o.Name
	if o.Namespace != "" {
		title = "HelmRelease " + o.Namespace + "/" + o.Name
	}
	src := gitopsapi.FluxHelmRelease(u).Helm
	if src == nil {
		return chartEnv{}, false
	}
	notChecked := func(why string) (chartEnv, bool) {
		l.add(Finding{File: o.File, Line: o.Line, Rule: RuleHelmNotChecked, Subject: title,
			Message: fmt.Sprintf("%s: values not checked against the chart's schema: %s", title, why)})
		return chartEnv{}, false
	}
	ch := src.Chart
	if ch.SourceKind == "HelmRepository" || ch.SourceKind == "OCIRepository" {
		why := l.checkFetchedChart(ctx, o, title, src)
		if why == "" {
			return chartEnv{}, false
		}
		return notChecked(why)
	}
	if ch.SourceKind != "GitRepository" {
		what := ch.Chart
		if what == "" {
			what = "the chart"
		}
		return notChecked(fmt.Sprintf("%s comes from %s %s/%s, not from this repository (not available offline)", what, ch.SourceKind, ch.SourceNamespace, ch.SourceName))
	}
	repo := l.fluxSource(ch)
	if repo == nil {
		return notChecked(fmt.Sprintf("GitRepository %s/%s is not in this repository", ch.SourceNamespace, ch.SourceName))
	}
	if url := repograph.Scalar(repograph.Lookup(repo.Node, "spec", "url")); !l.inRepo(url) {
		return notChecked(fmt.Sprintf("GitRepository %s/%s is another repository", ch.SourceNamespace, ch.SourceName))
	}
	dir, inside := repograph.Resolve(".", strings.TrimPrefix(ch.Chart, "./"))
	if !inside || !slices.Contains(charts, dir) {
		return notChecked(fmt.Sprintf("%s is not a chart of this repository", ch.Chart))
	}
	use := chartlint.Use{Chart: dir, Release: src.ReleaseName,
		Options: chartlint.Options{Values: src.Values, Namespace: src.ReleaseNamespace}}
	use.Secrets = chartlint.SecretValues(src.Values)
	if len(src.ValuesFrom) > 0 {
		l.add(Finding{File: o.File, Line: repograph.KeyLine(o.Node, "spec", "valuesFrom"), Rule: RuleHelmNotChecked, Subject: title,
			Message: fmt.Sprintf("%s: values from spec.valuesFrom (ConfigMaps, Secrets of the cluster) not checked; spec.values are", title)})
	}
	return chartEnv{use: use, obj: o, title: title, inline: repograph.Lookup(o.Node, "spec", "values")}, true
}

// fluxSource is the Flux source object of the repository a HelmRelease's
// chart comes from (its sourceRef kind, name and namespace), nil when none.
// Namespaces are resolved as Flux does: the sourceRef's defaults to the
// HelmRelease's (gitopsapi), and an object's is its metadata.namespace or
// the one kustomize sets (repograph). One still unknown ("") is the
// namespace of whatever applies the file: it matches only another unknown
// one, never a namespace that is written.
func (l *linter) fluxSource(ch gitopsapi.HelmChartRef) *repograph.Object {
	for _, r := range l.repo.Objects {
		if r.Group() == fluxSourceGroup && r.Kind == ch.SourceKind && r.Name == ch.SourceName && r.Namespace == ch.SourceNamespace {
			return r
		}
	}
	return nil
}

// checkFetchedChart checks a HelmRelease's values against the schema of
// its chart from a chart repository, fetched when the repository is
// available offline (--repo-override); otherwise it says why not.
func (l *linter) checkFetchedChart(ctx context.Context, o *repograph.Object, title string, h *gitopsapi.HelmRelease) string {
	ch := h.Chart
	what := ch.Chart
	if what == "" {
		what = "the chart"
	}
	srcObj := l.fluxSource(ch)
	from := fmt.Sprintf("%s comes from %s %s/%s", what, ch.SourceKind, ch.SourceNamespace, ch.SourceName)
	if srcObj == nil {
		return from + ", not from this repository (not available offline)"
	}
	url := repograph.Scalar(repograph.Lookup(srcObj.Node, "spec", "url"))
	if l.opts.Charts == nil || !l.opts.Charts.Offline(url) {
		return from + ", not from this repository (not available offline: --repo-override " + gitrepo.RedactURL(url) + "=DIR checks it)"
	}
	ref := chartsource.ChartRef{RepoURL: url, Type: repograph.Scalar(repograph.Lookup(srcObj.Node, "spec", "type")),
		Chart: ch.Chart, Version: ch.Version, SourceKind: ch.SourceKind, SourceNamespace: ch.SourceNamespace, SourceName: ch.SourceName}
	if ch.SourceKind == "OCIRepository" {
		ref.Chart, ref.Version, ref.Type = "", "", chartsource.TypeOCI
		ref.Tag = repograph.Scalar(repograph.Lookup(srcObj.Node, "spec", "ref", "tag"))
		ref.Semver = repograph.Scalar(repograph.Lookup(srcObj.Node, "spec", "ref", "semver"))
		ref.Digest = repograph.Scalar(repograph.Lookup(srcObj.Node, "spec", "ref", "digest"))
	}
	p, _, err := l.opts.Charts.Fetch(ctx, ref)
	if err != nil {
		return from + ": fetching it failed: " + err.Error()
	}
	msgs, err := chartlint.CheckValues(ctx, p, chartlint.Options{Values: h.Values, Namespace: h.ReleaseNamespace})
	if err != nil {
		return from + ": " + err.Error()
	}
	l.helmSecrets = append(l.helmSecrets, chartlint.SecretValues(h.Values)...)
	env := chartEnv{obj: o, title: title, inline: repograph.Lookup(o.Node, "spec", "values")}
	for _, m := range msgs {
		f := Finding{File: o.File, Line: o.Line, Rule: m.Rule, Severity: Severity(m.Severity), Subject: title,
			Message: fmt.Sprintf("%s: values against the schema of chart %s (%s): %s", title, what, gitrepo.RedactURL(url), strings.TrimSpace(m.Text))}
		if file, line := l.locateValue("", env, m.ValuesPath); file != "" && len(m.ValuesPath) > 0 {
			f.File, f.Line = file, line
		}
		l.add(f)
	}
	return ""
}

// lintChart lints the chart in dir with its own values, then with each
// environment's: a message already reported (same rule, file, line and
// text) is not repeated.
func (l *linter) lintChart(ctx context.Context, dir string, envs []chartEnv) error {
	l.progress("linting chart %s", dir)
	seen := map[string]bool{}
	all := append([]chartEnv{{use: chartlint.Use{Chart: dir, Options: chartlint.Options{Namespace: "default"}}}}, envs...)
	for _, env := range all {
		l.helmSecrets = append(l.helmSecrets, env.use.Secrets...)
		if env.use.Err != nil {
			l.add(Finding{File: env.obj.File, Line: env.obj.Line, Rule: RuleHelmNotChecked, Subject: env.title,
				Message: fmt.Sprintf("%s: chart %s not linted with its values: %v", env.title, dir, env.use.Err)})
			continue
		}
		msgs, err := chartlint.Lint(ctx, l.opts.Root, l.abs(dir), env.use.Options)
		var nc *chartlint.NotConfinedError
		if errors.As(err, &nc) {
			l.add(Finding{File: path.Join(dir, "Chart.yaml"), Rule: chartlint.RuleChart, Severity: SeverityError, Subject: dir,
				Message: fmt.Sprintf("chart %s not linted: %v", dir, nc.Err)})
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("linting chart %s: %w", dir, ctx.Err())
			}
			l.add(Finding{File: path.Join(dir, "Chart.yaml"), Rule: chartlint.RuleChart, Subject: dir, Message: "helm lint " + dir + ": " + err.Error()})
			return nil
		}
		for _, m := range msgs {
			key := m.Rule + "\x00" + m.File + "\x00" + fmt.Sprint(m.Line) + "\x00" + m.Text
			if seen[key] {
				continue
			}
			seen[key] = true
			f := Finding{File: path.Join(dir, m.File), Line: m.Line, Rule: m.Rule, Severity: Severity(m.Severity), Subject: dir,
				Message: fmt.Sprintf("chart %s: %s", dir, strings.TrimSpace(m.Text))}
			if env.obj != nil {
				f.Message = fmt.Sprintf("chart %s with the values of %s (%s): %s", dir, env.title, env.obj.File, strings.TrimSpace(m.Text))
			}
			if len(m.ValuesPath) > 0 {
				if file, line := l.locateValue(dir, env, m.ValuesPath); file != "" {
					f.File, f.Line = file, line
				}
			}
			l.add(f)
		}
	}
	return nil
}

// locateValue finds where the value at keys (or its nearest parent) is
// written among the sources of env's values, the last that sets it first:
// the inline values of its object, its values files in reverse order, the
// chart's values.yaml.
func (l *linter) locateValue(dir string, env chartEnv, keys []string) (string, int) {
	type src struct {
		file string
		node *yaml.Node
	}
	var srcs []src
	if env.inline != nil {
		srcs = append(srcs, src{env.obj.File, env.inline})
	}
	files := slices.Clone(env.use.ValueFiles)
	slices.Reverse(files)
	if dir != "" {
		files = append(files, path.Join(dir, "values.yaml"))
	}
	for _, f := range files {
		data, err := l.readFile(f)
		if err != nil {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
			continue
		}
		srcs = append(srcs, src{f, doc.Content[0]})
	}
	for n := len(keys); n > 0; n-- {
		for _, s := range srcs {
			if line := repograph.KeyLine(s.node, keys[:n]...); line > 0 {
				return s.file, line
			}
		}
	}
	if env.obj != nil {
		if env.inline != nil {
			return env.obj.File, env.inline.Line
		}
		return env.obj.File, env.obj.Line
	}
	return "", 0
}
