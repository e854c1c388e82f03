package gitopsapi

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/pkg/util"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// ArgoKustomize is an Argo CD source's spec.source.kustomize, kept as Argo
// CD's repo-server uses it: as `kustomize edit` commands run in the path's
// own kustomization before `kustomize build` (argo-cd util/kustomize,
// Build), not as a kustomization on top of the build.
type ArgoKustomize struct {
	NamePrefix string
	NameSuffix string
	// Images are `kustomize edit set image` arguments ("name=newName:tag",
	// "name:tag", "name@digest"…), with the build environment
	// ($ARGOCD_APP_REVISION…) expanded when rendered.
	Images []string
	// Replicas are name and count pairs; a count is a number or a string
	// holding one.
	Replicas []ArgoReplica
	// CommonLabels (values expanded from the build environment) go into
	// the kustomization's commonLabels, or into a labels entry without
	// selectors with LabelWithoutSelector (and in pod templates with
	// LabelIncludeTemplates). A key the kustomization already has is an
	// error unless ForceCommonLabels.
	CommonLabels          map[string]string
	ForceCommonLabels     bool
	LabelWithoutSelector  bool
	LabelIncludeTemplates bool
	// CommonAnnotations go into commonAnnotations (values expanded only
	// with CommonAnnotationsEnvsubst); an existing key is an error unless
	// ForceCommonAnnotations.
	CommonAnnotations         map[string]string
	ForceCommonAnnotations    bool
	CommonAnnotationsEnvsubst bool
	Namespace                 string
	// Patches are appended to the kustomization's own.
	Patches []any
	// Components are appended to the kustomization's own (globs expanded,
	// duplicates left out); with IgnoreMissingComponents those that do not
	// exist in the checkout are left out.
	Components              []string
	IgnoreMissingComponents bool
}

// ArgoReplica is one spec.source.kustomize.replicas entry.
type ArgoReplica struct {
	Name  string
	Count string
}

// argoKustomize converts spec.source.kustomize. It returns what it cannot
// honour.
func argoKustomize(k map[string]any) (*ArgoKustomize, string) {
	ak := &ArgoKustomize{
		NamePrefix: str(k, "namePrefix"), NameSuffix: str(k, "nameSuffix"), Namespace: str(k, "namespace"),
		ForceCommonLabels: boolean(k, "forceCommonLabels"), LabelWithoutSelector: boolean(k, "labelWithoutSelector"),
		LabelIncludeTemplates: boolean(k, "labelIncludeTemplates"), ForceCommonAnnotations: boolean(k, "forceCommonAnnotations"),
		CommonAnnotationsEnvsubst: boolean(k, "commonAnnotationsEnvsubst"), IgnoreMissingComponents: boolean(k, "ignoreMissingComponents"),
		CommonLabels: stringMap(mapOf(k, "commonLabels")), CommonAnnotations: stringMap(mapOf(k, "commonAnnotations")),
	}
	if imgs, ok := k["images"].([]any); ok {
		for _, i := range imgs {
			if s, ok := i.(string); ok {
				ak.Images = append(ak.Images, s)
			}
		}
	}
	if reps, ok := k["replicas"].([]any); ok {
		for _, r := range reps {
			rm, _ := r.(map[string]any)
			if rm == nil {
				continue
			}
			rep := ArgoReplica{Name: str(rm, "name")}
			switch c := rm["count"].(type) {
			case string:
				rep.Count = c
			case int64:
				rep.Count = strconv.FormatInt(c, 10)
			case float64:
				rep.Count = strconv.FormatFloat(c, 'f', -1, 64)
			default:
				rep.Count = fmt.Sprint(c)
			}
			ak.Replicas = append(ak.Replicas, rep)
		}
	}
	if patches, ok := k["patches"].([]any); ok && len(patches) > 0 {
		for _, p := range patches {
			if pm, ok := p.(map[string]any); ok && pm["path"] != nil {
				return nil, "patch files (spec.source.kustomize.patches[].path)"
			}
		}
		ak.Patches = patches
	}
	if comps, ok := k["components"].([]any); ok {
		for _, c := range comps {
			if s, ok := c.(string); ok {
				ak.Components = append(ak.Components, s)
			}
		}
	}
	if ak.empty() {
		return nil, ""
	}
	return ak, ""
}

func (ak *ArgoKustomize) empty() bool {
	return ak.NamePrefix == "" && ak.NameSuffix == "" && ak.Namespace == "" && len(ak.Images) == 0 &&
		len(ak.Replicas) == 0 && len(ak.CommonLabels) == 0 && len(ak.CommonAnnotations) == 0 &&
		len(ak.Patches) == 0 && len(ak.Components) == 0
}

// editArgoKustomization runs, on the kustomization of target in mem, the
// edits Argo CD's repo-server runs with the kustomize CLI, in its order:
// set nameprefix, set namesuffix, set image, set replicas, add label, add
// annotation, set namespace, the patches (appended to the file's own), add
// component. Each behaves as `kustomize edit` (v5) does: a prefix, suffix
// or namespace replaces the file's own; an image or replica count replaces
// the file's entry of the same name whole ("*" keeps the file's newName,
// tag or digest); a label or annotation the file already has is an error
// unless forced; a component is added once. env is the build environment
// for $VAR references.
func editArgoKustomization(mem filesys.FileSystem, target string, ak *ArgoKustomize, env map[string]string) error {
	file := ""
	for _, name := range kustomizationFiles {
		if p := path.Join(target, name); mem.Exists(p) && !mem.IsDir(p) {
			if file != "" {
				return fmt.Errorf("%s has more than one kustomization file", strings.TrimPrefix(target, "/"))
			}
			file = p
		}
	}
	if file == "" {
		return fmt.Errorf("%s has no kustomization file", strings.TrimPrefix(target, "/"))
	}
	data, err := mem.ReadFile(file)
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return fmt.Errorf("reading %s: %w", strings.TrimPrefix(file, "/"), err)
	}
	k.FixKustomization()
	if ak.NamePrefix != "" {
		k.NamePrefix = ak.NamePrefix
	}
	if ak.NameSuffix != "" {
		k.NameSuffix = ak.NameSuffix
	}
	if len(ak.Images) > 0 {
		if err := setImages(&k, ak.Images, env); err != nil {
			return fmt.Errorf("spec.source.kustomize.images: %w", err)
		}
	}
	if len(ak.Replicas) > 0 {
		if err := setReplicas(&k, ak.Replicas); err != nil {
			return fmt.Errorf("spec.source.kustomize.replicas: %w", err)
		}
	}
	if len(ak.CommonLabels) > 0 {
		labels := map[string]string{}
		for name, v := range ak.CommonLabels {
			if labels[name], err = envsubst(v, env); err != nil {
				return fmt.Errorf("spec.source.kustomize.commonLabels: %w", err)
			}
		}
		if err := addLabels(&k, editArgs(labels), ak.ForceCommonLabels, ak.LabelWithoutSelector, ak.LabelIncludeTemplates); err != nil {
			return fmt.Errorf("spec.source.kustomize.commonLabels: %w", err)
		}
	}
	if len(ak.CommonAnnotations) > 0 {
		ann := ak.CommonAnnotations
		if ak.CommonAnnotationsEnvsubst {
			ann = map[string]string{}
			for name, v := range ak.CommonAnnotations {
				if ann[name], err = envsubst(v, env); err != nil {
					return fmt.Errorf("spec.source.kustomize.commonAnnotations: %w", err)
				}
			}
		}
		if k.CommonAnnotations == nil {
			k.CommonAnnotations = map[string]string{}
		}
		if err := addPairs(k.CommonAnnotations, editArgs(ann), "annotation", ak.ForceCommonAnnotations); err != nil {
			return fmt.Errorf("spec.source.kustomize.commonAnnotations: %w", err)
		}
	}
	if ak.Namespace != "" {
		k.Namespace = ak.Namespace
	}
	if err := writeKustomization(mem, file, &k); err != nil {
		return err
	}
	if len(ak.Patches) > 0 {
		// Not a kustomize edit: Argo CD appends to the file's patches as
		// untyped YAML.
		if err := appendPatches(mem, file, ak.Patches); err != nil {
			return err
		}
	}
	if len(ak.Components) > 0 {
		return addComponents(mem, target, file, ak)
	}
	return nil
}

func writeKustomization(mem filesys.FileSystem, file string, k *types.Kustomization) error {
	out, err := sigsyaml.Marshal(k)
	if err != nil {
		return err
	}
	return mem.WriteFile(file, out)
}

// editArgs turns a map into `kustomize edit add label|annotation`
// arguments and back as kustomize reads them: the key before the first
// ":", and quotes around the value dropped.
func editArgs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		arg := k + ":" + v
		key, val, _ := strings.Cut(arg, ":")
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		out[key] = val
	}
	return out
}

// addPairs adds pairs to m, failing on a key m has unless force, as
// `kustomize edit add label|annotation` does.
func addPairs(m, pairs map[string]string, kind string, force bool) error {
	forceField := "forceCommonLabels"
	if kind == "annotation" {
		forceField = "forceCommonAnnotations"
	}
	for _, k := range sortedKeys(pairs) {
		if k == "" {
			return fmt.Errorf("invalid %s: '%s' (need k:v pair where v may be quoted)", kind, ":"+pairs[k])
		}
		if _, ok := m[k]; ok && !force {
			return fmt.Errorf("%s %s is already in the kustomization file (Argo CD's kustomize edit fails; %s overrides it)", kind, k, forceField)
		}
		m[k] = pairs[k]
	}
	return nil
}

// addLabels is `kustomize edit add label`: into commonLabels, or, without
// selectors, into the first labels entry with the same settings (a new
// entry when none has them).
func addLabels(k *types.Kustomization, pairs map[string]string, force, withoutSelector, includeTemplates bool) error {
	if !withoutSelector {
		if includeTemplates {
			return fmt.Errorf("labelIncludeTemplates requires labelWithoutSelector")
		}
		// Deprecated in kustomize, but what `kustomize edit add label`
		// writes, so what Argo CD builds with.
		if k.CommonLabels == nil { //nolint:staticcheck // see above
			k.CommonLabels = map[string]string{} //nolint:staticcheck // see above
		}
		return addPairs(k.CommonLabels, pairs, "label", force) //nolint:staticcheck // see above
	}
	i := slices.IndexFunc(k.Labels, func(l types.Label) bool {
		return !l.IncludeSelectors && l.IncludeTemplates == includeTemplates
	})
	if i < 0 {
		k.Labels = append(k.Labels, types.Label{Pairs: map[string]string{}, IncludeTemplates: includeTemplates})
		i = len(k.Labels) - 1
	}
	if k.Labels[i].Pairs == nil {
		k.Labels[i].Pairs = map[string]string{}
	}
	return addPairs(k.Labels[i].Pairs, pairs, "label", force)
}

// setImages is `kustomize edit set image`: each argument replaces the
// file's image of its name whole, "*" keeping the file's value of that
// part; the list ends sorted by name.
func setImages(k *types.Kustomization, args []string, env map[string]string) error {
	byName := map[string]types.Image{}
	for _, a := range args {
		arg, err := envsubst(a, env)
		if err != nil {
			return err
		}
		img, err := parseSetImage(arg)
		if err != nil {
			return err
		}
		byName[img.Name] = img
	}
	for _, im := range k.Images {
		a, ok := byName[im.Name]
		if !ok {
			byName[im.Name] = im
			continue
		}
		if a.NewName == "*" {
			a.NewName = im.NewName
		}
		if a.NewTag == "*" {
			a.NewTag = im.NewTag
		}
		if a.Digest == "*" {
			a.Digest = im.Digest
		}
		byName[im.Name] = a
	}
	images := make([]types.Image, 0, len(byName))
	for _, im := range byName {
		for _, p := range []*string{&im.NewName, &im.NewTag, &im.Digest} {
			if *p == "*" {
				*p = ""
			}
		}
		images = append(images, im)
	}
	sort.Slice(images, func(i, j int) bool { return images[i].Name < images[j].Name })
	k.Images = images
	return nil
}

// parseSetImage reads one `kustomize edit set image` argument.
func parseSetImage(arg string) (types.Image, error) {
	key, value, renamed := strings.Cut(arg, "=")
	if !renamed {
		value = arg
	}
	name, tag, digest := util.SplitImageName(value)
	if name == arg {
		return types.Image{}, fmt.Errorf("invalid image %q: use name:tag, name@digest or name=newName[:tag][@digest]", arg)
	}
	img := types.Image{NewTag: tag, Digest: digest}
	if renamed {
		img.Name, img.NewName = key, name
	} else {
		img.Name = name
	}
	return img, nil
}

// setReplicas is `kustomize edit set replicas`: each entry replaces the
// file's entry of its name; the list ends sorted by name.
func setReplicas(k *types.Kustomization, reps []ArgoReplica) error {
	byName := map[string]types.Replica{}
	for _, r := range reps {
		n, err := strconv.ParseInt(r.Count, 10, 64)
		if err != nil {
			return fmt.Errorf("expected integer value for count of %s, got %q", r.Name, r.Count)
		}
		byName[r.Name] = types.Replica{Name: r.Name, Count: n}
	}
	for _, r := range k.Replicas {
		if _, ok := byName[r.Name]; !ok {
			byName[r.Name] = r
		}
	}
	out := make([]types.Replica, 0, len(byName))
	for _, r := range byName {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	k.Replicas = out
	return nil
}

// appendPatches appends patches to the file's own, editing it as untyped
// YAML as Argo CD does.
func appendPatches(mem filesys.FileSystem, file string, patches []any) error {
	data, err := mem.ReadFile(file)
	if err != nil {
		return err
	}
	var k map[string]any
	if err := sigsyaml.Unmarshal(data, &k); err != nil {
		return fmt.Errorf("reading %s: %w", strings.TrimPrefix(file, "/"), err)
	}
	if k == nil {
		k = map[string]any{}
	}
	if own, ok := k["patches"]; ok {
		list, ok := own.([]any)
		if !ok {
			return fmt.Errorf("%s: patches is not a list", strings.TrimPrefix(file, "/"))
		}
		k["patches"] = append(list, patches...)
	} else {
		k["patches"] = patches
	}
	out, err := sigsyaml.Marshal(k)
	if err != nil {
		return err
	}
	return mem.WriteFile(file, out)
}

// addComponents is `kustomize edit add component` with Argo CD's
// ignoreMissingComponents before it: each entry is a glob relative to
// target; one matching nothing is an error (left out beforehand with
// IgnoreMissingComponents); a component already listed is not added again.
func addComponents(mem filesys.FileSystem, target, file string, ak *ArgoKustomize) error {
	var found []string
	for _, c := range ak.Components {
		p := path.Join(target, c)
		if ak.IgnoreMissingComponents && (strings.HasPrefix(p, "/..") || !mem.Exists(p)) {
			continue
		}
		matches, err := mem.Glob(p)
		if err != nil {
			return fmt.Errorf("spec.source.kustomize.components: %s: %w", c, err)
		}
		if len(matches) == 0 {
			if !mem.Exists(p) {
				return fmt.Errorf("spec.source.kustomize.components: %s has no match", c)
			}
			matches = []string{p}
		}
		for _, m := range matches {
			rel, err := relPath(target, m)
			if err != nil {
				return err
			}
			if !strings.ContainsAny(c, "*?[") {
				rel = c
			}
			found = append(found, rel)
		}
	}
	if len(found) == 0 {
		return nil
	}
	data, err := mem.ReadFile(file)
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return fmt.Errorf("reading %s: %w", strings.TrimPrefix(file, "/"), err)
	}
	k.FixKustomization()
	for _, c := range found {
		if path.Join(target, c) == file || slices.Contains(k.Components, c) {
			continue
		}
		k.Components = append(k.Components, c)
	}
	return writeKustomization(mem, file, &k)
}

// relPath is to relative to the directory from, both absolute and clean.
func relPath(from, to string) (string, error) {
	f := strings.Split(strings.Trim(from, "/"), "/")
	t := strings.Split(strings.Trim(to, "/"), "/")
	if from == "/" {
		f = nil
	}
	if to == "/" {
		t = nil
	}
	i := 0
	for i < len(f) && i < len(t) && f[i] == t[i] {
		i++
	}
	var parts []string
	for range f[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return ".", nil
	}
	return strings.Join(parts, "/"), nil
}
