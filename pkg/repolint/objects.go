package repolint

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sopsfile"
)

// title is "Kind namespace/name" of an object.
func title(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// container is one container's image in an object.
type container struct{ name, image string }

// containers finds the images of every containers, initContainers and
// ephemeralContainers list in an object, whatever its kind (pod templates
// of workloads, CronJobs, and custom resources that embed them).
func containers(v any) []container {
	var out []container
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, val := range v {
				if k == "containers" || k == "initContainers" || k == "ephemeralContainers" {
					if l, ok := val.([]any); ok {
						for _, it := range l {
							if m, ok := it.(map[string]any); ok {
								if img, ok := m["image"].(string); ok {
									name, _ := m["name"].(string)
									out = append(out, container{name, img})
								}
							}
						}
					}
				}
				walk(val)
			}
		case []any:
			for _, it := range v {
				walk(it)
			}
		}
	}
	walk(v)
	return out
}

// unpinned says why an image reference is not pinned, or "" when it is:
// a digest, or a tag other than latest.
func unpinned(image string) string {
	if image == "" {
		return "is empty"
	}
	if i := strings.Index(image, "@"); i >= 0 {
		if image[i+1:] == "" {
			return "has an empty digest"
		}
		return ""
	}
	name := image
	if i := strings.LastIndex(image, "/"); i >= 0 {
		name = image[i+1:]
	}
	_, tag, ok := strings.Cut(name, ":")
	switch {
	case !ok || tag == "":
		return "has no tag or digest"
	case tag == "latest":
		return "is tagged latest"
	}
	return ""
}

// scalarLine finds the line of a key: value pair with this value anywhere
// under n.
func scalarLine(n *yaml.Node, key, value string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode && n.Content[i+1].Value == value {
				return n.Content[i+1].Line
			}
		}
	}
	for _, c := range n.Content {
		if line := scalarLine(c, key, value); line > 0 {
			return line
		}
	}
	return 0
}

// checkImages reports unpinned images: in kustomize images: entries, and in
// every container of the objects that are deployed (built entry points and
// plain files), at the line that writes the image.
func (l *linter) checkImages(context.Context) error {
	for _, dir := range l.repo.KustomizationDirs() {
		k := l.repo.Kustomizations[dir]
		for _, img := range k.Images {
			if img.NewTag == "latest" {
				l.add(Finding{File: k.File, Line: img.TagLine, Rule: RuleUnpinnedImage, Subject: img.Name,
					Message: fmt.Sprintf("images: %s gets newTag latest: pin a version tag or a digest", img.Name)})
			}
		}
	}
	for _, lo := range l.objs {
		for _, c := range containers(lo.obj.Object) {
			why := unpinned(c.image)
			if why == "" {
				continue
			}
			file, line := l.imageLine(lo, c.image)
			msg := fmt.Sprintf("image %q of container %s in %s %s: pin a version tag or a digest", c.image, c.name, title(lo.obj), why)
			if lo.from != "" {
				msg += " (built by " + lo.from + ")"
			}
			l.add(Finding{File: file, Line: line, Rule: RuleUnpinnedImage, Subject: c.image, Message: msg})
		}
	}
	return nil
}

// imageLine finds where an image is written: in the object's source
// document, else in any document the kustomization builds from, else the
// object's own location.
func (l *linter) imageLine(lo located, image string) (string, int) {
	if lo.src != nil {
		if line := scalarLine(lo.src.Node, "image", image); line > 0 {
			return lo.src.File, line
		}
	}
	if lo.from != "" {
		closure := l.repo.Closure(lo.from)
		for _, o := range l.repo.Objects {
			if closure[o.File] {
				if line := scalarLine(o.Node, "image", image); line > 0 {
					return o.File, line
				}
			}
		}
	}
	return lo.file, lo.line
}

// unknownFieldRE finds the field of a strict decoding error (`unknown
// field "spec.replica"`) or of a server-side apply rejection
// (`.spec.replica: field not declared in schema`).
var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"|\.([A-Za-z0-9_.-]+): field not declared in schema`)

// fieldLine is the line of the field an error names in the object's source
// document, else the object's line.
func fieldLine(lo located, msg string) int {
	m := unknownFieldRE.FindStringSubmatch(msg)
	if m == nil || lo.src == nil {
		return lo.line
	}
	field := m[1]
	if field == "" {
		field = m[2]
	}
	if kl := repograph.KeyLine(lo.src.Node, strings.Split(field, ".")...); kl > 0 {
		return kl
	}
	return lo.line
}

// checkSchema decodes every object of a built-in kind strictly into its Go
// type: unknown fields and wrong types are findings. Custom resources are
// checked only by the dry run against a server.
func (l *linter) checkSchema(context.Context) error {
	for _, lo := range l.objs {
		gvk := lo.obj.GroupVersionKind()
		if !scheme.Scheme.Recognizes(gvk) {
			continue
		}
		typed, err := scheme.Scheme.New(gvk)
		if err != nil {
			continue
		}
		err = runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(withoutSOPS(lo.obj.Object), typed, true)
		if err == nil {
			continue
		}
		line := fieldLine(lo, err.Error())
		msg := fmt.Sprintf("%s does not match the %s schema: %v", title(lo.obj), gvk.GroupKind(), err)
		if lo.from != "" {
			msg += " (built by " + lo.from + ")"
		}
		l.add(Finding{File: lo.file, Line: line, Rule: RuleSchema, Subject: sourceSubject(lo), Message: msg})
	}
	return nil
}

// withoutSOPS returns obj as it is applied after decryption (by Flux's
// kustomize-controller, or sops -d): without SOPS's top-level "sops"
// metadata and without its encrypted values, whose plaintext type is unknown
// (an ENC[...] string is not base64 for a Secret's data). An object that is
// not SOPS-encrypted (no "sops" map with a mac) is returned as it is.
func withoutSOPS(obj map[string]any) map[string]any {
	meta, ok := obj["sops"].(map[string]any)
	if !ok {
		return obj
	}
	if mac, _ := meta["mac"].(string); mac == "" {
		return obj
	}
	out, _ := dropEncrypted(obj).(map[string]any)
	delete(out, "sops")
	return out
}

// dropEncrypted copies v without the SOPS-encrypted strings it holds.
func dropEncrypted(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if s, ok := e.(string); ok && sopsfile.IsEncryptedValue(s) {
				continue
			}
			out[k] = dropEncrypted(e)
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok && sopsfile.IsEncryptedValue(s) {
				continue
			}
			out = append(out, dropEncrypted(e))
		}
		return out
	}
	return v
}

// sourceSubject names the source document of an object ("Kind name"), so
// that a base built into several environments gives one finding; the
// object itself when it was not traced.
func sourceSubject(lo located) string {
	if lo.src != nil {
		return lo.src.Kind + " " + lo.src.Name
	}
	return title(lo.obj)
}
