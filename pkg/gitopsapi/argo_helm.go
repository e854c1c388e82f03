package gitopsapi

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/jsonneteval"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// ArgoHelm is an Argo CD source's spec.source.helm, as Argo CD's
// repo-server reads it (v3.2 reposerver/repository helmTemplate).
type ArgoHelm struct {
	// ReleaseName and Namespace as set ("" for Argo CD's defaults: the
	// Application's name, the destination namespace).
	ReleaseName, Namespace string
	// ValueFiles are paths relative to the source path ("/x" relative to
	// the repository's top), in order; IgnoreMissingValueFiles leaves out
	// those that do not exist.
	ValueFiles              []string
	IgnoreMissingValueFiles bool
	// Values is the values file Argo CD writes from valuesObject (as YAML)
	// or, when there is none, values (a YAML string).
	Values string
	// Parameters are --set (ForceString: --set-string) values;
	// FileParameters --set-file paths, resolved as ValueFiles.
	Parameters     []ArgoHelmParameter
	FileParameters []ArgoHelmParameter
	// SkipCrds leaves out the chart's crds/ (no --include-crds).
	SkipCrds             bool
	SkipSchemaValidation bool
	// KubeVersion and APIVersions replace the cluster's when set.
	KubeVersion string
	APIVersions []string
	// ValuesFileSchemes are argocd-cm's helm.valuesFileSchemes: the URL
	// schemes a remote value file may have (nil: Argo CD's default,
	// ArgoDefaultValuesFileSchemes).
	ValuesFileSchemes []string
	// SecretValues are the values drift masks in the Application (secret-like
	// keys and parameter names), swept from every output.
	SecretValues []string
}

// ArgoDefaultValuesFileSchemes are the URL schemes Argo CD allows for
// remote Helm value files when argocd-cm does not set
// helm.valuesFileSchemes.
var ArgoDefaultValuesFileSchemes = []string{"https", "http"}

// ArgoChart is a chart from a Helm repository, as an Argo CD source names
// it: repoURL an https chart repository, or an OCI registry path
// ("registry.example.com/charts", no scheme, as Argo CD writes it, or
// oci://…); targetRevision a version or a semver range.
type ArgoChart struct {
	// URL is the repository (oci:// added to a registry path); Type "oci"
	// or "default" (an HTTP chart repository).
	URL, Type string
	Chart     string
	Version   string
}

func argoChart(repoURL, chart, version string) *ArgoChart {
	c := &ArgoChart{URL: repoURL, Type: "default", Chart: chart, Version: version}
	switch {
	case strings.HasPrefix(repoURL, "oci://"):
		c.Type = "oci"
	case !strings.Contains(repoURL, "://"):
		c.URL, c.Type = "oci://"+strings.TrimSuffix(repoURL, "/"), "oci"
	}
	return c
}

// ArgoHelmParameter is one helm.parameters or helm.fileParameters entry
// (Value is the path of a file parameter).
type ArgoHelmParameter struct {
	Name, Value string
	ForceString bool
}

// HelmTemplate is the `helm template` Argo CD's repo-server runs for a
// chart path: every option resolved, value files checked to be inside the
// checkout.
type HelmTemplate struct {
	Name, Namespace string
	// KubeVersion and APIVersions: "" and nil for the cluster's.
	KubeVersion string
	APIVersions []string
	// Set, SetString and SetFile are --set, --set-string and --set-file:
	// key and value (escaped as Argo CD escapes it; a file's path relative
	// to the checkout's top, slash-separated).
	Set, SetString, SetFile map[string]string
	// SetFileRef names the ref source ("$<ref>") of a --set-file path
	// that is in another source's checkout (see RefRoots).
	SetFileRef map[string]string
	// ValueFiles are the --values files, in order; Values the last
	// --values file's content (values, valuesObject).
	ValueFiles []HelmFile
	Values     []byte
	// RefRoots are the checkouts of the ref sources the files name.
	RefRoots map[string]string
	// IgnoreMissingValueFiles: value files of a fetched chart (InChart)
	// that the chart does not have are left out (the others that do not
	// exist are left out of ValueFiles already).
	IgnoreMissingValueFiles bool
	SkipCrds                bool
	// SkipSchemaValidation: --skip-schema-validation.
	SkipSchemaValidation bool
	// Chart is the chart's directory, relative to the checkout's top.
	Chart string
	// fetched: the chart comes from a Helm repository (Argo CD source
	// chart), not a checkout.
	fetched bool
}

// argoHelm reads spec.source.helm.
func argoHelm(h map[string]any, field string) (*ArgoHelm, string) {
	a := &ArgoHelm{
		ReleaseName: str(h, "releaseName"), Namespace: str(h, "namespace"), Values: str(h, "values"),
		IgnoreMissingValueFiles: boolean(h, "ignoreMissingValueFiles"), SkipCrds: boolean(h, "skipCrds"),
		SkipSchemaValidation: boolean(h, "skipSchemaValidation"), KubeVersion: str(h, "kubeVersion"),
	}
	a.ValueFiles, _, _ = nestedStrings(h, "valueFiles")
	a.APIVersions, _, _ = nestedStrings(h, "apiVersions")
	if vo, ok := h["valuesObject"]; ok && vo != nil {
		data, err := yaml.Marshal(vo)
		if err != nil {
			return nil, field + ".helm.valuesObject is not a values tree"
		}
		a.Values = string(data)
	}
	for _, p := range sliceOf(h, "parameters") {
		m := asMap(p)
		a.Parameters = append(a.Parameters, ArgoHelmParameter{Name: str(m, "name"), Value: str(m, "value"), ForceString: boolean(m, "forceString")})
	}
	for _, p := range sliceOf(h, "fileParameters") {
		m := asMap(p)
		a.FileParameters = append(a.FileParameters, ArgoHelmParameter{Name: str(m, "name"), Value: str(m, "path")})
	}
	if s := str(h, "version"); s != "" && s != "v3" {
		return nil, "Helm version " + s + " (" + field + ".helm.version)"
	}
	return a, ""
}

func fileParamPaths(a *ArgoHelm) []string {
	out := make([]string, 0, len(a.FileParameters))
	for _, p := range a.FileParameters {
		out = append(out, p.Value)
	}
	return out
}

// ArgoRef is a source of a multi-source Application with a ref (Argo CD's
// RefTarget): its repository, at its revision, lends files to the Helm
// value files and file parameters "$<ref>/…" of the other sources.
type ArgoRef struct {
	// Index is the source's position in spec.sources.
	Index int
	// RepoURL and Revision are the source's repoURL and targetRevision;
	// Chart its chart (Argo CD refuses a ref to a chart).
	RepoURL, Revision, Chart string
	// AppliedRevision is status.sync.revisions' entry for this source.
	AppliedRevision string
}

// AppliedCommit returns the commit Argo CD last synced this source at,
// when its status names one.
func (r *ArgoRef) AppliedCommit() string {
	if shaRE.MatchString(r.AppliedRevision) {
		return r.AppliedRevision
	}
	return ""
}

// ArgoRefsUsed returns the ref sources src's Helm value files and file
// parameters name ("$<ref>/…"), by key, checked as Argo CD's repo-server
// checks them before it checks them out (resolveReferencedSources): a
// name no source has, or a ref to a chart, is an error with Argo CD's
// message. Only a part of a multi-source application has refs: for any
// other source it returns nil.
func ArgoRefsUsed(src *Source) (map[string]*ArgoRef, error) {
	if src.ArgoRefs == nil || src.ArgoHelm == nil {
		return nil, nil
	}
	used := map[string]*ArgoRef{}
	for _, f := range append(append([]string(nil), src.ArgoHelm.ValueFiles...), fileParamPaths(src.ArgoHelm)...) {
		if !strings.HasPrefix(f, "$") {
			continue
		}
		key, _, _ := strings.Cut(f, "/")
		r, ok := src.ArgoRefs[key]
		switch {
		case !ok && len(src.ArgoRefs) == 0:
			return nil, fmt.Errorf("source referenced %q, but no source has a 'ref' field defined", key)
		case !ok:
			return nil, fmt.Errorf("source referenced %q, which is not one of the available sources (%s)", key, strings.Join(slices.Sorted(maps.Keys(src.ArgoRefs)), ", "))
		case r.Chart != "":
			return nil, errors.New("source has a 'chart' field defined, but Helm charts are not yet not supported for 'ref' sources")
		}
		used[key] = r
	}
	return used, nil
}

// HelmFile is a value file or file parameter Argo CD passes to helm
// template: Path, slash-separated, relative to the checkout of the ref
// source Ref ("$<ref>"), or to the source's own checkout when Ref is "".
type HelmFile struct {
	Ref, Path string
}

// String is the file as Argo CD's configuration would name it.
func (f HelmFile) String() string {
	if f.Ref != "" {
		return f.Ref + "/" + f.Path
	}
	return f.Path
}

// InChart reports whether f is a file of the chart itself, fetched from a
// Helm repository: read from the chart's archive, not from a checkout.
func (t *HelmTemplate) InChart(f HelmFile) bool {
	return t.Chart == "" && f.Ref == "" && t.fetched
}

// File returns where f is: under root (the source's checkout) or under
// the checkout of its ref source (FileRoot).
func (t *HelmTemplate) File(root string, f HelmFile) string {
	return filepath.Join(t.FileRoot(root, f), filepath.FromSlash(f.Path))
}

// FileRoot returns the checkout f is read from: root (the source's
// checkout), or the checkout of the ref source f names.
func (t *HelmTemplate) FileRoot(root string, f HelmFile) string {
	if f.Ref != "" {
		return t.RefRoots[f.Ref]
	}
	return root
}

func nestedStrings(m map[string]any, key string) ([]string, bool, error) {
	list, ok := m[key].([]any)
	if !ok {
		return nil, false, nil
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, true, fmt.Errorf("%s: not a list of strings", key)
		}
		out = append(out, s)
	}
	return out, true, nil
}

// ArgoHelmChart reports whether Argo CD renders src's path with Helm: an
// Argo CD source with spec.source.helm, or whose path holds a Chart.yaml
// and no kustomization file (Argo CD's discovery: a kustomization wins).
func ArgoHelmChart(src *Source, root string) bool {
	if src.Operator != ArgoCD {
		return false
	}
	if src.ArgoHelm != nil {
		return true
	}
	rel, err := gitsource.CleanPath(src.Path)
	if err != nil {
		return false
	}
	dir := filepath.Join(root, filepath.FromSlash(rel))
	return kustomizationIn(dir) == "" && exists(filepath.Join(dir, "Chart.yaml"))
}

// ArgoHelmTemplate resolves the `helm template` Argo CD runs for src, a chart
// path of the checkout root (ArgoHelmChart), as helmTemplate in Argo CD's
// repo-server: release name helm.releaseName else the Application's name;
// namespace helm.namespace else the destination's; value and file
// parameter paths relative to the path ("/x": to the repository's top),
// expanded from the build environment, never outside the checkout;
// parameter values expanded from the build environment.
//
// For a chart from a Helm repository (src.ArgoChart), root is "" and Chart
// is left empty: the caller renders the chart it fetched.
func ArgoHelmTemplate(src *Source, root string) (*HelmTemplate, error) {
	rel := ""
	if src.ArgoChart == nil {
		var err error
		if rel, err = gitsource.CleanPath(src.Path); err != nil {
			return nil, err
		}
	}
	a := src.ArgoHelm
	if a == nil {
		a = &ArgoHelm{}
	}
	t := &HelmTemplate{Name: src.Name, Namespace: src.DefaultNamespace, Chart: rel, fetched: src.ArgoChart != nil,
		Set: map[string]string{}, SetString: map[string]string{}, SetFile: map[string]string{},
		SkipCrds: a.SkipCrds, SkipSchemaValidation: a.SkipSchemaValidation, APIVersions: a.APIVersions}
	if a.ReleaseName != "" {
		t.Name = a.ReleaseName
	}
	if a.Namespace != "" {
		t.Namespace = a.Namespace
	}
	if a.KubeVersion != "" {
		v, err := version.ParseGeneric(a.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("helm.kubeVersion %q: %w", a.KubeVersion, err)
		}
		t.KubeVersion = v.String()
	}
	refs, err := ArgoRefsUsed(src)
	if err != nil {
		return nil, err
	}
	t.RefRoots, t.SetFileRef = map[string]string{}, map[string]string{}
	t.IgnoreMissingValueFiles = a.IgnoreMissingValueFiles
	for _, f := range a.ValueFiles {
		hf, err := resolveHelmFile(src, root, rel, f, refs)
		if err != nil {
			return nil, fmt.Errorf("helm.valueFiles %q: %w", gitsource.RedactURL(f), err)
		}
		if hf.Ref != "" {
			t.RefRoots[hf.Ref] = src.RefRoots[hf.Ref]
		}
		if t.InChart(hf) {
			// Only the caller can tell, from the chart it fetched.
			t.ValueFiles = append(t.ValueFiles, hf)
			continue
		}
		if _, err := os.Stat(t.File(root, hf)); errors.Is(err, os.ErrNotExist) && a.IgnoreMissingValueFiles {
			continue
		}
		t.ValueFiles = append(t.ValueFiles, hf)
	}
	if a.Values != "" {
		t.Values = []byte(a.Values)
	}
	for _, p := range a.Parameters {
		if p.ForceString {
			t.SetString[p.Name] = p.Value
		} else {
			t.Set[p.Name] = p.Value
		}
	}
	for _, p := range a.FileParameters {
		hf, err := resolveHelmFile(src, root, rel, p.Value, refs)
		if err != nil {
			return nil, fmt.Errorf("helm.fileParameters %s: %w", p.Name, err)
		}
		t.SetFile[p.Name] = hf.Path
		if hf.Ref != "" {
			t.SetFileRef[p.Name], t.RefRoots[hf.Ref] = hf.Ref, src.RefRoots[hf.Ref]
		}
	}
	// Argo CD expands the parameters after they are collected, and escapes
	// their commas as it writes the command line.
	for _, m := range []map[string]string{t.Set, t.SetString} {
		for k, v := range m {
			x, err := envsubst(v, src.BuildEnv)
			if err != nil {
				return nil, fmt.Errorf("helm.parameters %s: %w", k, err)
			}
			m[k] = cleanSetParameter(x)
		}
	}
	for k, v := range t.SetFile {
		t.SetFile[k] = cleanSetParameter(v)
	}
	return t, nil
}

// resolveHelmFile resolves a value file or file parameter path f of src
// (its chart at rel of the checkout root) as Argo CD's helmTemplate does:
// "$<ref>/…" naming one of refs in that ref source's checkout
// (getResolvedRefValueFile: the first segment dropped, the rest expanded
// and taken from the repository's top, never leading out of it); any
// other path expanded, then resolved as resolveValueFile.
func resolveHelmFile(src *Source, root, rel, f string, refs map[string]*ArgoRef) (HelmFile, error) {
	schemes := ArgoDefaultValuesFileSchemes
	if src.ArgoHelm != nil && src.ArgoHelm.ValuesFileSchemes != nil {
		schemes = src.ArgoHelm.ValuesFileSchemes
	}
	if key, rest, _ := strings.Cut(f, "/"); strings.HasPrefix(f, "$") && refs[key] != nil {
		refRoot := src.RefRoots[key]
		if refRoot == "" {
			return HelmFile{}, fmt.Errorf("the repository of source %s was not fetched", key)
		}
		expanded, err := envsubst("/"+rest, src.BuildEnv)
		if err != nil {
			return HelmFile{}, err
		}
		p, err := resolveValueFile(refRoot, "", expanded, schemes)
		if err != nil {
			return HelmFile{}, err
		}
		return HelmFile{Ref: key, Path: p}, nil
	}
	expanded, err := envsubst(f, src.BuildEnv)
	if err != nil {
		return HelmFile{}, err
	}
	if src.ArgoChart != nil {
		// A fetched chart is Argo CD's application path and repository
		// root: the file is one of the chart's, read from its archive.
		p, err := resolveValueFile("", "", expanded, schemes)
		if err != nil {
			return HelmFile{}, err
		}
		return HelmFile{Path: p}, nil
	}
	p, err := resolveValueFile(root, rel, expanded, schemes)
	if err != nil {
		return HelmFile{}, err
	}
	return HelmFile{Path: p}, nil
}

// resolveValueFile resolves a value file path as Argo CD's
// ResolveValueFilePathOrUrl: relative to the source path, "/x" to the
// repository's top; URLs are not fetched. It returns a slash-separated
// path relative to root.
func resolveValueFile(root, appPath, f string, schemes []string) (string, error) {
	// Argo CD's rule (util/io/path ResolveValueFilePathOrUrl): anything
	// with a URL scheme is a remote file, allowed only for the schemes of
	// argocd-cm helm.valuesFileSchemes (default https and http), which
	// helm then downloads. drift does not download them.
	if u, err := url.Parse(f); err == nil && u.Scheme != "" {
		if !slices.ContainsFunc(schemes, func(s string) bool { return strings.EqualFold(s, u.Scheme) }) {
			return "", fmt.Errorf("the URL scheme '%s' is not allowed", u.Scheme)
		}
		return "", fmt.Errorf("remote value file %s: drift does not download value files: %w", gitsource.RedactURL(f), ErrUnsupported)
	}
	var p string
	if strings.HasPrefix(f, "/") {
		p = path.Clean(strings.TrimPrefix(f, "/"))
	} else {
		p = path.Join(appPath, f)
	}
	switch {
	case p == ".." || strings.HasPrefix(p, "../"):
		// Argo CD's words (util/io/path resolveFileOrDirectory).
		return "", fmt.Errorf("file '%s' resolved to outside repository root", f)
	case p == ".":
		return "", errors.New("path resolved to repository root, which is not allowed")
	}
	if root == "" {
		// A file of a fetched chart's archive: no file system behind it.
		return p, nil
	}
	full := filepath.Join(root, filepath.FromSlash(p))
	if real, err := filepath.EvalSymlinks(full); err == nil {
		r, err := filepath.EvalSymlinks(root)
		if err != nil {
			return "", err
		}
		if !jsonneteval.Inside(r, real) {
			return "", errors.New("a symbolic link to outside the repository")
		}
	}
	return p, nil
}

// cleanSetParameter escapes the commas of a --set value not already
// escaped, unless it is a {list} (Argo CD's cleanSetParameters).
func cleanSetParameter(v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		return v
	}
	var b strings.Builder
	var prev rune
	for _, r := range v {
		if r == ',' && prev != '\\' {
			b.WriteString(`\,`)
		} else {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// Args is the helm template command line Argo CD builds (util/helm/cmd.go)
// for the chart at root; valuesFile is where the Values were written ("" when
// there are none). Set, SetString and SetFile are in key order (Argo CD's
// follow Go map order: the keys are distinct, Helm applies each kind in
// turn).
func (t *HelmTemplate) Args(root, valuesFile, kubeVersion string, apiVersions []string) []string {
	abs := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	args := []string{"template", abs(t.Chart), "--name-template", t.Name}
	if t.Namespace != "" {
		args = append(args, "--namespace", t.Namespace)
	}
	if t.KubeVersion != "" {
		kubeVersion = t.KubeVersion
	}
	if kubeVersion != "" {
		args = append(args, "--kube-version", kubeVersion)
	}
	for _, k := range sortedKeys(t.Set) {
		args = append(args, "--set", k+"="+t.Set[k])
	}
	for _, k := range sortedKeys(t.SetString) {
		args = append(args, "--set-string", k+"="+t.SetString[k])
	}
	for _, k := range sortedKeys(t.SetFile) {
		args = append(args, "--set-file", k+"="+t.File(root, HelmFile{Ref: t.SetFileRef[k], Path: t.SetFile[k]}))
	}
	for _, f := range t.ValueFiles {
		args = append(args, "--values", t.File(root, f))
	}
	if valuesFile != "" {
		args = append(args, "--values", valuesFile)
	}
	if len(t.APIVersions) > 0 {
		apiVersions = t.APIVersions
	}
	for _, v := range apiVersions {
		args = append(args, "--api-versions", v)
	}
	if !t.SkipCrds {
		args = append(args, "--include-crds")
	}
	if t.SkipSchemaValidation {
		args = append(args, "--skip-schema-validation")
	}
	return args
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// DropArgoHooks removes Argo CD's resource hooks and objects marked Skip
// from set, as Render does for Argo CD sources.
func DropArgoHooks(set *manifest.Set) { dropArgoHooks(set) }

// argoHelmSecrets returns the values of spec.source.helm that drift masks
// in the Application (pkg/redact's rules: secret-like keys of values and
// valuesObject, parameters with a secret-like name), for sweeping from the
// objects rendered with them.
func argoHelmSecrets(h map[string]any) []string {
	const apiVersion, kind = "argoproj.io/v1alpha1", "Application"
	app := map[string]any{"apiVersion": apiVersion, "kind": kind, "spec": map[string]any{"source": map[string]any{"helm": h}}}
	sw := redact.NewSweeper()
	redact.HelmValues(apiVersion, kind, app, app, sw)
	return sw.Values()
}

// ArgoValuesFileSecrets returns the values drift masks in a Helm values
// file (YAML) as it masks them in helm.valuesObject (pkg/redact's rules:
// values under secret-like keys), for sweeping from the objects rendered
// with it. A file that is not a values tree gives none.
func ArgoValuesFileSecrets(data []byte) []string {
	var vals map[string]any
	if err := yaml.Unmarshal(data, &vals); err != nil || len(vals) == 0 {
		return nil
	}
	return argoHelmSecrets(map[string]any{"valuesObject": vals})
}
