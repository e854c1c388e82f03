package helmrender

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
)

// Chart is a chart loaded once (Confiner.Load): its files read for value
// files (File), then rendered (Release.Loaded). Rendering changes it (its
// values, its dependencies): it is rendered once.
type Chart struct {
	ch       *chart.Chart
	confiner *Confiner
}

// Name is the chart's name.
func (c *Chart) Name() string { return c.ch.Name() }

// File returns the file of the chart named name (slash-separated, relative
// to the chart: "values-prod.yaml"), as Helm's loader read it (within its
// bounds), and whether the chart has it. Argo CD reads the value files of
// a chart it fetched from a Helm repository there, its application path.
func (c *Chart) File(name string) ([]byte, bool) {
	for _, f := range c.ch.Raw {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// Load loads the chart at path (a directory or a .tgz archive) with
// Helm's loader, refusing a chart that would make Helm read a file or
// fetch a URL the chart chooses: a chart directory must be Confined to
// root (the checkout holding it; "" for the directory itself), and the
// values schema of the chart and of every subchart it carries (vendored
// in charts/, as a directory or an archive) may have no "$ref" outside
// itself (checkSchemas). An archive fetched from a chart repository or a
// registry is checked as a repository's directory is. The verdicts on
// schemas are remembered as Check remembers them.
func (c *Confiner) Load(path, root string) (*Chart, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		// Helm's loader follows symbolic links and its schema validator
		// reads and fetches $refs; neither may leave the checkout.
		if root == "" {
			root = path
		}
		if err := c.Check(root, path); err != nil {
			return nil, fmt.Errorf("chart %s not rendered: %w", filepath.Base(path), err)
		}
	}
	ch, err := c.load(path)
	if err != nil {
		return nil, err
	}
	return &Chart{ch: ch, confiner: c}, nil
}

// LoadChart loads the chart at path (a directory or an archive) as Helm's
// loader does, then checkSchemas: for a caller that validates values
// against the chart's schemas itself (helm lint's checks of a fetched
// chart).
func LoadChart(path string) (*chart.Chart, error) {
	var c *Confiner
	return c.load(path)
}

// load is loader.Load, then checkSchemas.
func (c *Confiner) load(path string) (*chart.Chart, error) {
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("loading chart: %w", err)
	}
	if err := c.checkSchemas(ch); err != nil {
		return nil, err
	}
	return ch, nil
}

// checkSchemas refuses a chart whose values schema, or a subchart's, has a
// "$ref" (or "$dynamicRef", or a "$schema" that is not a JSON Schema
// draft) outside the schema: Helm's validator (helm v4.3.2
// ValidateAgainstSchema) would read a file:// one from this machine and
// GET an http(s):// one, from the chart's say-so. The error names the
// chart and the schema's file in it, never what the $ref would read.
func (c *Confiner) checkSchemas(ch *chart.Chart) error {
	top := ch.ChartFullPath()
	var walk func(*chart.Chart) error
	walk = func(sub *chart.Chart) error {
		if len(sub.Schema) > 0 {
			if ref := c.externalRef(sub.Schema); ref != "" {
				file := "values.schema.json"
				if p := strings.TrimPrefix(sub.ChartFullPath(), top+"/"); p != top {
					file = p + "/" + file
				}
				return fmt.Errorf("chart %s %s not loaded: %s has a $ref to %s, outside the chart", ch.Name(), ch.Metadata.Version, file, gitrepo.RedactURL(ref))
			}
		}
		for _, d := range sub.Dependencies() {
			if err := walk(d); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(ch)
}
