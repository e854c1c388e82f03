package repolint

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DryRunner validates one object against an API server with a server-side
// apply dry run. It returns the server's warnings; an error wrapping
// ErrKindNotServed, ErrVersionNotServed or ErrNamespaceNotFound when the
// object could not be sent, or the server's rejection.
type DryRunner interface {
	DryRun(ctx context.Context, obj *unstructured.Unstructured) (warnings []string, err error)
}

// Errors a DryRunner wraps so that Lint can tell "not validated" from
// "rejected".
var (
	ErrKindNotServed = errors.New("kind not served by the API server")
	// ErrVersionNotServed: the server serves the kind, only not at the
	// object's apiVersion (e.g. a version removed from its CRD). The
	// error's text should name the versions served.
	ErrVersionNotServed  = errors.New("apiVersion not served by the API server")
	ErrNamespaceNotFound = errors.New("namespace not found")
)

// dedupe drops objects built identically by several entry points.
func dedupe(objs []located) []located {
	seen := map[string]bool{}
	var out []located
	for _, lo := range objs {
		data, _ := json.Marshal(lo.obj.Object)
		key := lo.obj.GroupVersionKind().String() + "|" + lo.obj.GetNamespace() + "|" + lo.obj.GetName() + "|" + string(data)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, lo)
	}
	return out
}

// applyOrder puts CustomResourceDefinitions first, then Namespaces, then
// everything else, each by file and line.
func applyOrder(o *unstructured.Unstructured) int {
	switch {
	case o.GetKind() == "CustomResourceDefinition" && o.GroupVersionKind().Group == "apiextensions.k8s.io":
		return 0
	case o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "":
		return 1
	}
	return 2
}

// checkDryRun sends every object to the API server as a server-side apply
// dry run, in apply order. Objects whose namespace or CRD this repository
// creates but the server does not have yet cannot be validated: they are
// warnings; a namespace or kind nobody creates is an error.
func (l *linter) checkDryRun(ctx context.Context) error {
	objs := dedupe(l.objs)
	slices.SortStableFunc(objs, func(a, b located) int {
		return cmp.Or(cmp.Compare(applyOrder(a.obj), applyOrder(b.obj)), strings.Compare(a.file, b.file), cmp.Compare(a.line, b.line))
	})
	namespaces := map[string]bool{}
	crds := map[string]bool{}
	for _, lo := range objs {
		switch applyOrder(lo.obj) {
		case 0:
			group, _, _ := unstructured.NestedString(lo.obj.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(lo.obj.Object, "spec", "names", "kind")
			crds[kind+"."+group] = true
		case 1:
			namespaces[lo.obj.GetName()] = true
		}
	}
	for _, lo := range objs {
		if lo.obj.GetName() == "" {
			// Server-side apply needs a name. A generateName object is
			// created anew by each sync (Argo CD and Helm hooks): it is
			// not validated, and says so; the rest are still checked.
			f := Finding{File: lo.file, Line: lo.line, Subject: title(lo.obj), Rule: RuleDryRunSkipped}
			if g := lo.obj.GetGenerateName(); g != "" {
				f.Subject = titleGenerated(lo.obj)
				f.Message = fmt.Sprintf("%s not validated: it has generateName %q, not a name (created anew on each sync, like a hook), and a server-side apply dry run needs a name", f.Subject, g)
			} else {
				f.Rule = RuleDryRun
				f.Message = fmt.Sprintf("%s has no metadata.name: the API server would refuse it", f.Subject)
			}
			l.add(f)
			l.unnamed++
			continue
		}
		warnings, err := l.opts.DryRunner.DryRun(ctx, lo.obj)
		if ctx.Err() != nil {
			return fmt.Errorf("dry run: %w", ctx.Err())
		}
		built := ""
		if lo.from != "" {
			built = " (built by " + lo.from + ")"
		}
		f := Finding{File: lo.file, Line: lo.line, Subject: title(lo.obj)}
		gk := lo.obj.GroupVersionKind().GroupKind()
		var status apierrors.APIStatus
		switch {
		case err == nil:
		case !errors.As(err, &status) && !errors.Is(err, ErrKindNotServed) && !errors.Is(err, ErrVersionNotServed) && !errors.Is(err, ErrNamespaceNotFound):
			// No answer from the server (connection, TLS, credentials
			// file): a failure of the lint, not a finding per object.
			return fmt.Errorf("dry run of %s: %w", title(lo.obj), err)
		case errors.Is(err, ErrKindNotServed) && crds[gk.Kind+"."+gk.Group]:
			f.Rule, f.Message = RuleDryRunSkipped, fmt.Sprintf("%s not validated: its CRD is in this repository and not installed on the server yet%s", title(lo.obj), built)
			l.add(f)
		case errors.Is(err, ErrNamespaceNotFound) && namespaces[lo.obj.GetNamespace()]:
			f.Rule, f.Message = RuleDryRunSkipped, fmt.Sprintf("%s not validated: namespace %s is created by this repository and does not exist on the server yet%s", title(lo.obj), lo.obj.GetNamespace(), built)
			l.add(f)
		case errors.Is(err, ErrVersionNotServed):
			// Installing the CRD would not help: it is installed, and the
			// error says which versions it serves.
			f.Rule, f.Message = RuleDryRun, fmt.Sprintf("%s: %v: change its apiVersion%s", title(lo.obj), err, built)
			l.add(f)
		case errors.Is(err, ErrKindNotServed):
			f.Rule, f.Message = RuleDryRun, fmt.Sprintf("%s: the API server does not serve %s: install its CRD%s", title(lo.obj), gk, built)
			l.add(f)
		case errors.Is(err, ErrNamespaceNotFound):
			f.Rule, f.Message = RuleDryRun, fmt.Sprintf("%s: namespace %s does not exist on the server, and nothing in this repository creates it%s", title(lo.obj), lo.obj.GetNamespace(), built)
			l.add(f)
		case strings.Contains(err.Error(), "field not declared in schema") || strings.Contains(err.Error(), "unknown field"):
			// What the offline schema check finds for built-in kinds, now
			// for custom resources too: one finding per source document.
			f.Rule, f.Subject, f.Line = RuleSchema, sourceSubject(lo), fieldLine(lo, err.Error())
			f.Message = fmt.Sprintf("the API server rejects %s: %v%s", title(lo.obj), err, built)
			l.add(f)
		default:
			f.Rule, f.Message = RuleDryRun, fmt.Sprintf("the API server rejects %s: %v%s", title(lo.obj), err, built)
			l.add(f)
		}
		for _, w := range warnings {
			wf := f
			if strings.Contains(w, "unknown field") || strings.Contains(w, "duplicate field") {
				wf.Rule, wf.Severity, wf.Subject, wf.Line = RuleSchema, SeverityError, sourceSubject(lo), fieldLine(lo, w)
			} else {
				wf.Rule, wf.Severity = RuleDryRun, SeverityWarning
			}
			wf.Message = fmt.Sprintf("the API server warns about %s: %s%s", title(lo.obj), w, built)
			l.add(wf)
		}
	}
	return nil
}

// titleGenerated is "Kind namespace/prefix*" for a generateName object.
func titleGenerated(o *unstructured.Unstructured) string {
	n := o.GetGenerateName() + "*"
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + n
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + n
}
