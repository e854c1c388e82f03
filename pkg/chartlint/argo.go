package chartlint

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
)

// Use is one chart of a checkout an operator's object renders, with the
// values it renders it with.
type Use struct {
	// Chart is the chart's directory, slash-separated, relative to the
	// checkout's root.
	Chart string
	// Release is the release name the operator gives.
	Release string
	// Options are the values, namespace and versions to lint with.
	Options Options
	// ValueFiles are the values files read, in order (slash, relative to
	// the root).
	ValueFiles []string
	// Secrets are the values drift masks in the object and in its values
	// (secret-like keys and parameter names): no finding may repeat them.
	Secrets []string
	// Err says why the values could not be composed (a values file that
	// is missing, outside the checkout or not YAML): the chart is then not
	// linted with them. It never holds a value.
	Err error
}

// ArgoUses are the charts of the checkout at root that an Argo CD
// Application (or one source of a multi-source one) renders with Helm —
// a path source whose directory Argo CD renders as a chart
// (gitopsapi.ArgoHelmChart) — each with its values composed as Argo CD's
// repo-server passes them to helm template: helm.valueFiles (relative to
// the path, "/x" to the root, kept inside the checkout), then
// valuesObject or values, then parameters (--set, --set-string) and
// fileParameters (--set-file). inRepo says whether a source's repoURL is
// this repository.
func ArgoUses(root string, app *unstructured.Unstructured, inRepo func(repoURL string) bool) []Use {
	src := gitopsapi.ArgoSource(app, gitopsapi.ArgoSettings{})
	parts := src.Parts
	if len(parts) == 0 {
		parts = []*gitopsapi.Source{src}
	}
	var out []Use
	for _, p := range parts {
		if p.ArgoChart != nil || p.Path == "" || (inRepo != nil && !inRepo(p.RepoURL)) || !gitopsapi.ArgoHelmChart(p, root) {
			continue
		}
		dir, err := gitsource.CleanPath(p.Path)
		if err != nil {
			continue
		}
		u := Use{Chart: dir, Release: p.Name}
		if p.ArgoHelm != nil {
			u.Secrets = p.ArgoHelm.SecretValues
		}
		t, err := gitopsapi.ArgoHelmTemplate(p, root)
		if err != nil {
			u.Err = err
			out = append(out, u)
			continue
		}
		u.Release = t.Name
		u.Options = Options{Namespace: t.Namespace, KubeVersion: t.KubeVersion, SkipSchemaValidation: t.SkipSchemaValidation}
		v := helmrender.CLIValues{Set: t.Set, SetString: t.SetString, SetFile: map[string][]byte{}}
		for _, f := range t.ValueFiles {
			if f.Ref != "" {
				// A $ref value file is in another source's checkout, which
				// repo lint does not fetch.
				u.Err = fmt.Errorf("helm.valueFiles %s: in another source, not read by repo lint", f)
				break
			}
			data, err := readCheckoutFile(root, f.Path)
			if err != nil {
				u.Err = fmt.Errorf("helm.valueFiles %s: %w", f, cleanErr(root, err))
				break
			}
			v.Files = append(v.Files, data)
			u.ValueFiles = append(u.ValueFiles, f.Path)
		}
		if u.Err == nil && t.Values != nil {
			v.Files = append(v.Files, t.Values)
		}
		for k, f := range t.SetFile {
			if u.Err != nil {
				break
			}
			if ref := t.SetFileRef[k]; ref != "" {
				u.Err = fmt.Errorf("helm.fileParameters %s: in another source (%s), not read by repo lint", k, ref)
				break
			}
			data, err := readCheckoutFile(root, strings.ReplaceAll(f, `\,`, ","))
			if err != nil {
				u.Err = fmt.Errorf("helm.fileParameters %s: %w", k, cleanErr(root, err))
				break
			}
			v.SetFile[k] = data
		}
		if u.Err == nil {
			vals, err := helmrender.ComposeCLIValues(v)
			if err != nil {
				u.Err = err
			} else {
				u.Options.Values = vals
				u.Secrets = append(u.Secrets, SecretValues(vals)...)
			}
		}
		out = append(out, u)
	}
	return out
}

// cleanErr leaves the checkout's directory out of a file error.
func cleanErr(root string, err error) error {
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), root, "."))
}
