package sopsfile

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Kubernetes Secrets get two guarantees on Encrypt that sops itself does not
// give: the annotations holding a copy of the whole object are dropped, and
// no value of the Secret may stay in clear anywhere in the document. With
// Flux's rule (encrypted_regex ^(data|stringData)$) sops encrypts data and
// stringData but leaves metadata in clear, so a Secret exported with
// `kubectl get -o yaml` would keep its values in the last-applied annotation.

// SecretCopyAnnotations are the annotations that hold a full copy of the
// object they are on (for a Secret, its values): client-side apply's, kubecfg's
// and kapp's. Encrypt drops them from Secrets.
var SecretCopyAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"kubecfg.ksonnet.io/last-applied-configuration",
	"kapp.k14s.io/original",
}

// minContainedValue is the shortest Secret value looked for inside other
// fields: shorter ones ("1", "true", "admin") occur in ordinary text.
const minContainedValue = 6

// isSecretDoc reports a core v1 Secret.
func isSecretDoc(d branch) bool {
	return stringAt(d, "kind") == "Secret" && (stringAt(d, "apiVersion") == "v1" || stringAt(d, "apiVersion") == "")
}

func stringAt(b branch, key string) string {
	if v, ok := valueAt(b, key); ok {
		s, _ := v.(string)
		return s
	}
	return ""
}

func valueAt(b branch, key string) (any, bool) {
	for _, it := range b {
		if k, ok := it.Key.(string); ok && k == key {
			return it.Value, true
		}
	}
	return nil, false
}

// secretObject is a Secret in a document: the document itself, or an item
// of a v1 List (`kubectl get secrets -o yaml`).
type secretObject struct {
	obj branch
	// prefix is the key path of obj in the document (sops' paths do not
	// count list indices).
	prefix []string
	title  string
}

// secretObjects lists the Secrets of document i.
func secretObjects(i int, d branch) []secretObject {
	if isSecretDoc(d) {
		return []secretObject{{obj: d, title: secretTitle(fmt.Sprintf("document %d", i+1), d)}}
	}
	if stringAt(d, "kind") != "List" {
		return nil
	}
	items, _ := valueAt(d, "items")
	list, ok := items.([]any)
	if !ok {
		return nil
	}
	var out []secretObject
	n := 0
	for _, it := range list {
		b, ok := it.(branch)
		if !ok {
			continue
		}
		n++
		if isSecretDoc(b) {
			out = append(out, secretObject{obj: b, prefix: []string{"items"}, title: secretTitle(fmt.Sprintf("document %d, item %d", i+1, n), b)})
		}
	}
	return out
}

// secretTitle names a Secret for messages.
func secretTitle(where string, d branch) string {
	name := "?"
	if meta, ok := valueAt(d, "metadata"); ok {
		if m, ok := meta.(branch); ok {
			name = stringAt(m, "name")
			if ns := stringAt(m, "namespace"); ns != "" {
				name = ns + "/" + name
			}
		}
	}
	return fmt.Sprintf("%s (Secret %s)", where, name)
}

// dropSecretCopies removes SecretCopyAnnotations from a Secret document (and
// the annotations mapping when nothing is left in it). It returns the names
// of the annotations removed.
func dropSecretCopies(d branch) []string {
	var dropped []string
	for mi, mit := range d {
		if k, _ := mit.Key.(string); k != "metadata" {
			continue
		}
		meta, ok := mit.Value.(branch)
		if !ok {
			return nil
		}
		for ai, ait := range meta {
			if k, _ := ait.Key.(string); k != "annotations" {
				continue
			}
			ann, ok := ait.Value.(branch)
			if !ok {
				return nil
			}
			kept := ann[:0:0]
			for _, it := range ann {
				if k, ok := it.Key.(string); ok && isCopyAnnotation(k) {
					dropped = append(dropped, k)
					continue
				}
				kept = append(kept, it)
			}
			if len(kept) == 0 {
				meta = append(meta[:ai:ai], meta[ai+1:]...)
			} else {
				meta[ai].Value = kept
			}
			d[mi].Value = meta
			return dropped
		}
	}
	return dropped
}

func isCopyAnnotation(k string) bool {
	for _, a := range SecretCopyAnnotations {
		if k == a {
			return true
		}
	}
	return false
}

// secretValue is one value of a Secret, in the forms it can be found in.
type secretValue struct {
	field, key string
	forms      []string
}

func secretValues(d branch) []secretValue {
	var out []secretValue
	for _, field := range []string{"data", "stringData"} {
		v, _ := valueAt(d, field)
		m, ok := v.(branch)
		if !ok {
			continue
		}
		for _, it := range m {
			k, ok := it.Key.(string)
			if !ok {
				continue
			}
			s, ok := it.Value.(string)
			if !ok || s == "" {
				continue
			}
			sv := secretValue{field: field, key: k, forms: []string{s}}
			if field == "data" {
				if dec, err := base64.StdEncoding.DecodeString(s); err == nil && len(dec) > 0 {
					sv.forms = append(sv.forms, string(dec))
				}
			} else {
				sv.forms = append(sv.forms, base64.StdEncoding.EncodeToString([]byte(s)))
			}
			out = append(out, sv)
		}
	}
	return out
}

// checkSecretInClear refuses a Secret document the rule would leave with a
// value in clear: a data or stringData value itself, or a value (of at least
// minContainedValue bytes, plain or base64) inside an annotation, a comment
// or a field that is not a standard field of a Secret. The message names the
// key and the field, never the value.
func checkSecretInClear(so secretObject, c *compiled) error {
	d := so.obj
	values := secretValues(d)
	public := publicIdentifiers(d)
	var found error
	_, err := walkBranch(d, so.prefix, nil, func(v any, full []string, comments [][]string) (any, error) {
		cm, isComment := v.(comment)
		if found != nil || c.shouldEncrypt(full, comments, isComment) {
			return v, nil
		}
		path := full[len(so.prefix):]
		where := "the field " + strings.Join(path, ".")
		if isComment {
			where = "a comment"
			if len(path) > 0 {
				where += " under " + strings.Join(path, ".")
			}
		}
		if !isComment && len(path) == 2 && (path[0] == "data" || path[0] == "stringData") {
			if s, ok := v.(string); !ok || s != "" {
				found = fmt.Errorf("%s: %s.%s would stay in clear under the rule %s: choose a rule that encrypts data and stringData", so.title, path[0], path[1], ruleString(c.Rule))
			}
			return v, nil
		}
		if !isComment && !mayHoldText(path) {
			return v, nil
		}
		s, ok := v.(string)
		if isComment {
			s, ok = cm.Value, true
		}
		if !ok {
			return v, nil
		}
		for _, sv := range values {
			for _, f := range sv.forms {
				if len(f) >= minContainedValue && !public[f] && strings.Contains(s, f) {
					found = fmt.Errorf("%s: %s, left in clear by the rule %s, holds the value of %s.%s: remove it, or choose a rule that encrypts it", so.title, where, ruleString(c.Rule), sv.field, sv.key)
					return v, nil
				}
			}
		}
		return v, nil
	})
	if err != nil {
		return err
	}
	return found
}

// publicIdentifiers are the Secret's name, namespace and labels: a value
// that is also one of them (a user name that is the application's name) was
// put in clear by the author and is not looked for elsewhere.
func publicIdentifiers(d branch) map[string]bool {
	out := map[string]bool{}
	v, _ := valueAt(d, "metadata")
	meta, ok := v.(branch)
	if !ok {
		return out
	}
	for _, k := range []string{"name", "namespace", "generateName"} {
		if s := stringAt(meta, k); s != "" {
			out[s] = true
		}
	}
	if l, ok := valueAt(meta, "labels"); ok {
		if lb, ok := l.(branch); ok {
			for _, it := range lb {
				if s, ok := it.Value.(string); ok && s != "" {
					out[s] = true
				}
			}
		}
	}
	return out
}

// mayHoldText reports whether a leaf of a Secret may hold free text: an
// annotation, or any field a Secret does not define. The name, namespace,
// labels, type and the like are restricted identifiers, where a short Secret
// value (a user name) may well occur by design.
func mayHoldText(path []string) bool {
	switch path[0] {
	case "apiVersion", "kind", "type", "immutable":
		return false
	case "metadata":
		return len(path) > 1 && path[1] == "annotations"
	}
	return true
}

func ruleString(r Rule) string {
	for _, f := range r.withDefault().fields() {
		if f[1] != "" {
			return fmt.Sprintf("%s %q", f[0], f[1])
		}
	}
	return "(none)"
}
