package gitopsapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/api/resmap"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// FluxSubstitute is the label or annotation that, set to "disabled", keeps
// kustomize-controller from substituting variables in an object.
const FluxSubstitute = "kustomize.toolkit.fluxcd.io/substitute"

// PostBuild is a Flux Kustomization's spec.postBuild: the variables
// kustomize-controller substitutes into every object of the build
// (fluxcd/pkg/kustomize SubstituteVariables, ${var}, ${var:=default} and
// the other bash forms), except those labelled or annotated
// kustomize.toolkit.fluxcd.io/substitute: disabled.
type PostBuild struct {
	// Substitute holds the inline variables; they win over SubstituteFrom.
	Substitute map[string]string
	// SubstituteFrom lists the ConfigMaps and Secrets of the
	// Kustomization's namespace whose data are variables, later ones
	// winning.
	SubstituteFrom []SubstituteRef
	// Always substitutes even when there is no variable
	// (substituteStrategy: Always); by default objects are left as built.
	Always bool
	// Lenient replaces an undefined variable without a default with "".
	// By default it is an error, as kustomize-controller v1.9 and later
	// (feature gate StrictPostBuildSubstitutions, on by default) make it.
	Lenient bool

	// Filled by Load: the variables, the values read from Secrets, and
	// why they could not be read.
	loaded  bool
	vars    map[string]string
	secrets []string
	loadErr error
}

// SubstituteRef names a ConfigMap or Secret of variables.
type SubstituteRef struct {
	Kind     string
	Name     string
	Optional bool
}

// fluxPostBuild converts spec.postBuild; nil when there is none.
func fluxPostBuild(o map[string]any) *PostBuild {
	pb, ok, _ := unstructured.NestedMap(o, "spec", "postBuild")
	if !ok {
		return nil
	}
	p := &PostBuild{Substitute: stringMap(mapOf(pb, "substitute")), Always: str(pb, "substituteStrategy") == "Always"}
	for _, r := range sliceOf(pb, "substituteFrom") {
		m, _ := r.(map[string]any)
		opt, _ := m["optional"].(bool)
		p.SubstituteFrom = append(p.SubstituteFrom, SubstituteRef{Kind: str(m, "kind"), Name: str(m, "name"), Optional: opt})
	}
	return p
}

// SecretValues returns the clear-text values of the variables read from
// Secrets, sorted: reports must mask them wherever they appear.
func (p *PostBuild) SecretValues() []string {
	if p == nil {
		return nil
	}
	out := append([]string(nil), p.secrets...)
	sort.Strings(out)
	return out
}

// Load reads the variables of SubstituteFrom from namespace through r, as
// kustomize-controller does: in order, later keys winning, newlines
// removed from values, a missing optional object skipped; then the inline
// ones on top. An object that cannot be read is remembered and makes
// Render fail (kustomize-controller fails the build), unless no object
// takes substitutions. It returns that error, or a context error.
func (p *PostBuild) Load(ctx context.Context, r cluster.Reader, namespace string) error {
	p.loaded, p.vars, p.secrets, p.loadErr = true, map[string]string{}, nil, nil
	seen := map[string]bool{}
	for _, ref := range p.SubstituteFrom {
		var gvk schema.GroupVersionKind
		switch ref.Kind {
		case "ConfigMap", "Secret":
			gvk = schema.GroupVersionKind{Version: "v1", Kind: ref.Kind}
		default:
			continue // kustomize-controller ignores other kinds
		}
		m, err := r.Mapping(ctx, gvk)
		if err != nil {
			p.loadErr = fmt.Errorf("substitute from '%s/%s' error: %w", ref.Kind, ref.Name, err)
			return p.loadErr
		}
		obj, err := r.Get(ctx, m, namespace, ref.Name)
		if err != nil {
			if ref.Optional && apierrors.IsNotFound(err) {
				continue
			}
			p.loadErr = fmt.Errorf("substitute from '%s/%s' error: %w", ref.Kind, ref.Name, err)
			return p.loadErr
		}
		for k, v := range mapOf(obj.Object, "data") {
			s, _ := v.(string)
			if ref.Kind == "Secret" {
				dec, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					p.loadErr = fmt.Errorf("substitute from 'Secret/%s' error: key %q: %w", ref.Name, k, err)
					return p.loadErr
				}
				s = strings.ReplaceAll(string(dec), "\n", "")
				if !seen[s] {
					seen[s] = true
					p.secrets = append(p.secrets, s)
				}
			}
			p.vars[k] = strings.ReplaceAll(s, "\n", "")
		}
	}
	return nil
}

// substitute replaces the variables in every object of m that does not
// disable it, as kustomize-controller does after the build (and before
// spec.commonMetadata). Errors are masked of the Secret values.
func (p *PostBuild) substitute(ctx context.Context, m resmap.ResMap) error {
	if !p.loaded && len(p.SubstituteFrom) > 0 {
		return errors.New("post build: the variables of spec.postBuild.substituteFrom were not read from the cluster")
	}
	// All variables go inline: with a dry run the library reads nothing
	// from the cluster and lays the inline ones over none.
	vars := map[string]any{}
	for k, v := range p.vars {
		vars[k] = v
	}
	for k, v := range p.Substitute {
		vars[k] = v
	}
	ks := unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"postBuild": map[string]any{"substitute": vars}}}}
	for _, res := range m.Resources() {
		if res.GetLabels()[FluxSubstitute] == fluxkustomize.DisabledValue || res.GetAnnotations()[FluxSubstitute] == fluxkustomize.DisabledValue {
			continue
		}
		if p.loadErr != nil {
			return p.mask(fmt.Errorf("post build failed for '%s/%s': %w", res.GetGvk(), res.GetName(), p.loadErr))
		}
		out, err := fluxkustomize.SubstituteVariables(ctx, nil, ks, res,
			fluxkustomize.SubstituteWithDryRun(true),
			fluxkustomize.SubstituteWithStrict(!p.Lenient),
			fluxkustomize.SubstituteWithAlways(p.Always))
		if err != nil {
			return p.mask(fmt.Errorf("post build failed for '%s/%s': %w", res.GetGvk(), res.GetName(), err))
		}
		if out != nil {
			if _, err := m.Replace(res); err != nil {
				return p.mask(fmt.Errorf("post build: %w", err))
			}
		}
	}
	return nil
}

// mask removes the Secret values from err's message.
func (p *PostBuild) mask(err error) error {
	if len(p.secrets) == 0 {
		return err
	}
	sw := redact.NewSweeper()
	sw.AddText(p.secrets...)
	if msg := sw.String(err.Error()); msg != err.Error() {
		return errors.New(msg)
	}
	return err
}
