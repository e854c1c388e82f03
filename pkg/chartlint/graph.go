package chartlint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// GraphRenderer returns a repograph.Options.RenderChart: the chart in dir
// rendered as the Argo CD Application app renders it — its values
// composed as ArgoUses composes them, helm template's defaults for the
// cluster (Helm's default kube version unless helm.kubeVersion says
// otherwise), hooks left out — and the objects returned located at their
// templates. Errors are swept of the Application's secret-like values.
func GraphRenderer(ctx context.Context) func(root, dir string, app *repograph.Object) ([]*repograph.Object, error) {
	return func(root, dir string, app *repograph.Object) ([]*repograph.Object, error) {
		if err := helmrender.Confined(root, filepath.Join(root, filepath.FromSlash(dir))); err != nil {
			return nil, err
		}
		u, err := Decode(app)
		if err != nil {
			return nil, err
		}
		var use *Use
		for _, cand := range ArgoUses(root, u, nil) {
			if cand.Chart == dir {
				use = &cand
				break
			}
		}
		if use == nil {
			return nil, errors.New("no Helm source of the Application renders it")
		}
		sw := redact.NewSweeper()
		sw.AddText(use.Secrets...)
		if use.Err != nil {
			return nil, errors.New(sw.String(use.Err.Error()))
		}
		res, err := helmrender.Render(ctx, helmrender.Release{Name: use.Release, Namespace: use.Options.Namespace,
			Chart: filepath.Join(root, filepath.FromSlash(dir)), Values: use.Options.Values,
			Capabilities: helmrender.Capabilities{KubeVersion: use.Options.KubeVersion}, SkipSchemaValidation: use.Options.SkipSchemaValidation})
		if err != nil {
			return nil, errors.New(sw.String(strings.ReplaceAll(err.Error(), root+string(filepath.Separator), "")))
		}
		out := make([]*repograph.Object, 0, len(res.Objects))
		for _, o := range res.Objects {
			data, err := sigsyaml.Marshal(o.Obj.Object)
			if err != nil {
				return nil, fmt.Errorf("rendered %s %s: %w", o.Obj.GetKind(), o.Obj.GetName(), err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
				return nil, fmt.Errorf("rendered %s %s: not a YAML document", o.Obj.GetKind(), o.Obj.GetName())
			}
			file := dir
			if _, rest, ok := strings.Cut(o.Template, "/"); ok {
				file = path.Join(dir, rest)
			}
			// Lines of the rendered text are no lines of the template.
			zeroLines(doc.Content[0])
			out = append(out, &repograph.Object{File: file, APIVersion: o.Obj.GetAPIVersion(), Kind: o.Obj.GetKind(),
				Name: o.Obj.GetName(), Namespace: o.Obj.GetNamespace(), Node: doc.Content[0]})
		}
		return out, nil
	}
}

// Decode reads a document of the repository as an object, through JSON
// as the API machinery reads objects (numbers as int64 or float64).
func Decode(o *repograph.Object) (*unstructured.Unstructured, error) {
	var m map[string]any
	if o.Node == nil {
		return nil, errors.New("no document")
	}
	if err := o.Node.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", o.Kind, o.Name, err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", o.Kind, o.Name, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", o.Kind, o.Name, err)
	}
	return u, nil
}

func zeroLines(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		zeroLines(c)
	}
}
