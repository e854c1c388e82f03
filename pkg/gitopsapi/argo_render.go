package gitopsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

// Jsonnet holds the options of an Argo CD directory source's .jsonnet files
// (spec.source.directory.jsonnet).
type Jsonnet struct {
	// TLAs and ExtVars are top-level arguments and external variables:
	// strings, or Jsonnet code when Code is set. Their values may name the
	// build environment ($ARGOCD_APP_NAME…, see Source.BuildEnv).
	TLAs    []JsonnetVar
	ExtVars []JsonnetVar
	// Libs are library directories relative to the repository's top,
	// searched after the source path.
	Libs []string
}

// JsonnetVar is one top-level argument or external variable.
type JsonnetVar struct {
	Name  string
	Value string
	Code  bool
}

// dropArgoHooks removes what Argo CD leaves out of its comparison from an
// Argo CD source's objects: resource hooks (argocd.argoproj.io/hook,
// helm.sh/hook) and objects marked argocd.argoproj.io/hook: Skip. They are
// listed as skipped.
func dropArgoHooks(set *manifest.Set) {
	kept := set.Objects[:0]
	for _, o := range set.Objects {
		hook, skip := compare.ArgoHookOf(o.Obj)
		switch {
		case hook:
			what := o.Obj.GetAnnotations()[compare.ArgoHook]
			if what == "" {
				what = "Helm " + o.Obj.GetAnnotations()[compare.HelmHook]
			}
			set.Skipped = append(set.Skipped, manifest.Skipped{Source: o.Source, Reason: "Argo CD " + what + " hook " + objName(o) + ": not compared, as Argo CD does not compare hooks"})
		case skip:
			set.Skipped = append(set.Skipped, manifest.Skipped{Source: o.Source, Reason: objName(o) + " is marked argocd.argoproj.io/hook: Skip: Argo CD does not apply it"})
		default:
			kept = append(kept, o)
		}
	}
	set.Objects = kept
}

func objName(o manifest.Object) string {
	name := o.Obj.GetName()
	if name == "" {
		name = o.Obj.GetGenerateName() + "*"
	}
	return o.Obj.GetKind() + "/" + name
}

// unknownBuildEnv are the variables of Argo CD's build environment that the
// Application does not tell: the revision (known once fetched: see
// Source.SetRevisionEnv) and the cluster's version.
var unknownBuildEnv = map[string]bool{
	"ARGOCD_APP_REVISION": true, "ARGOCD_APP_REVISION_SHORT": true, "ARGOCD_APP_REVISION_SHORT_8": true,
	"KUBE_VERSION": true, "KUBE_API_VERSIONS": true,
}

// SetRevisionEnv adds the fetched commit to the build environment
// ($ARGOCD_APP_REVISION and its short forms), as Argo CD does.
func (s *Source) SetRevisionEnv(commit string) {
	if s.BuildEnv == nil {
		s.BuildEnv = map[string]string{}
	}
	s.BuildEnv["ARGOCD_APP_REVISION"] = commit
	s.BuildEnv["ARGOCD_APP_REVISION_SHORT"] = commit[:min(7, len(commit))]
	s.BuildEnv["ARGOCD_APP_REVISION_SHORT_8"] = commit[:min(8, len(commit))]
}

// envsubst expands $VAR and ${VAR} from env as Argo CD does ("$$" is "$",
// unknown names are ""). It fails on the variables drift does not know.
func envsubst(s string, env map[string]string) (string, error) {
	var missing string
	out := os.Expand(s, func(name string) string {
		if name == "$" {
			return "$"
		}
		if _, known := env[name]; unknownBuildEnv[name] && !known && missing == "" {
			missing = name
		}
		return env[name]
	})
	if missing != "" {
		return "", fmt.Errorf("build environment variable $%s: %w", missing, ErrUnsupported)
	}
	return out, nil
}

// jsonnetRequest is the evaluation Argo CD makes of a source's .jsonnet
// file: its TLAs and external variables, imports searched in the importing
// file's directory, then the libraries (last first), then the source path.
// Unlike Argo CD's, imports never read outside root.
func jsonnetRequest(src *Source, root, dir, file string) (jsonneteval.Request, error) {
	req := jsonneteval.Request{Root: root, File: file, Paths: []string{dir}}
	j := src.Directory.Jsonnet
	if j == nil {
		j = &Jsonnet{}
	}
	for _, v := range j.TLAs {
		val, err := envsubst(v.Value, src.BuildEnv)
		if err != nil {
			return req, fmt.Errorf("jsonnet tla %s: %w", v.Name, err)
		}
		req.TLAs = append(req.TLAs, jsonneteval.Var{Name: v.Name, Value: val, Code: v.Code})
	}
	for _, v := range j.ExtVars {
		val, err := envsubst(v.Value, src.BuildEnv)
		if err != nil {
			return req, fmt.Errorf("jsonnet extVar %s: %w", v.Name, err)
		}
		req.ExtVars = append(req.ExtVars, jsonneteval.Var{Name: v.Name, Value: val, Code: v.Code})
	}
	for _, lib := range j.Libs {
		p := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(lib, "/")))
		if !jsonneteval.Inside(root, p) {
			return req, fmt.Errorf("jsonnet lib %q is outside the repository", lib)
		}
		req.Paths = append(req.Paths, p)
	}
	return req, nil
}

// evalJsonnet evaluates one .jsonnet file of an Argo CD directory source and
// returns its objects as Argo CD reads them: an array is a list of objects
// (Lists among them flattened by manifest.Load), anything else one object.
func evalJsonnet(ctx context.Context, src *Source, root, dir, file string) (*manifest.Set, error) {
	req, err := jsonnetRequest(src, root, dir, file)
	if err != nil {
		return nil, err
	}
	// In a child process under a budget (pkg/jsonneteval): a loop or a
	// memory bomb in the repository stops there, named by its limit.
	out, err := jsonneteval.Evaluate(ctx, req, jsonneteval.Limits{})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("evaluating jsonnet %s: %w", relTo(root, file), err)
	}
	var docs []json.RawMessage
	if err := json.Unmarshal([]byte(out), &docs); err != nil {
		docs = []json.RawMessage{json.RawMessage(out)}
	}
	var stream bytes.Buffer
	for _, d := range docs {
		var obj map[string]any
		if err := json.Unmarshal(d, &obj); err != nil {
			return nil, fmt.Errorf("evaluating jsonnet %s: the result is not an object or an array of objects", relTo(root, file))
		}
		stream.WriteString("---\n")
		stream.Write(d)
		stream.WriteString("\n")
	}
	set, err := manifest.Load(ctx, manifest.Options{Filenames: []string{manifest.Stdin}, Stdin: &stream})
	if err != nil {
		return nil, fmt.Errorf("reading the output of jsonnet %s: %w", relTo(root, file), err)
	}
	for i := range set.Objects {
		set.Objects[i].Source = manifest.Source{File: relTo(root, file) + " (jsonnet)"}
	}
	for i := range set.Skipped {
		set.Skipped[i].Source = manifest.Source{File: relTo(root, file) + " (jsonnet)"}
	}
	return set, nil
}
