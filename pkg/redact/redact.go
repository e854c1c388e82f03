package redact

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
)

// Masks, as kubectl diff prints them.
const (
	Mask       = "***"
	MaskBefore = "*** (before)"
	MaskAfter  = "*** (after)"
)

// LastApplied is the annotation client-side apply stores the applied object in.
const LastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// minSweepLen is the shortest secret value the sweep replaces inside other
// text: shorter ones would mask unrelated words, and are masked where they
// are stored anyway.
const minSweepLen = 4

// IsSecret reports whether obj is a core v1 Secret.
func IsSecret(obj map[string]any) bool {
	return obj != nil && obj["kind"] == "Secret" && obj["apiVersion"] == "v1"
}

// Pair masks the data and stringData values of two versions of the same
// Secret in place (either may be nil): equal values become "***", differing
// ones "*** (before)" and "*** (after)", and a value only one side has "***".
// Keys stay, so a diff still shows which key changed. The last-applied
// annotation of each side is masked too.
func Pair(before, after map[string]any) {
	for _, field := range []string{"data", "stringData"} {
		b, _ := before[field].(map[string]any)
		a, _ := after[field].(map[string]any)
		for k, bv := range b {
			av, ok := a[k]
			switch {
			case !ok:
				b[k] = Mask
			case valueEqual(bv, av):
				b[k], a[k] = Mask, Mask
			default:
				b[k], a[k] = MaskBefore, MaskAfter
			}
		}
		for k := range a {
			if _, ok := b[k]; !ok {
				a[k] = Mask
			}
		}
	}
	LastAppliedAnnotation(before)
	LastAppliedAnnotation(after)
}

// Value masks one changed value of a Secret at field ("data" or
// "stringData" or below), given both sides: it returns the masked
// (before, after).
func Value(before, after any) (any, any) {
	return maskSide(before, after, MaskBefore), maskSide(after, before, MaskAfter)
}

func maskSide(v, other any, differing string) any {
	switch t := v.(type) {
	case nil:
		return nil
	case map[string]any:
		om, _ := other.(map[string]any)
		out := make(map[string]any, len(t))
		for k, x := range t {
			if y, ok := om[k]; ok && !valueEqual(x, y) {
				out[k] = differing
			} else {
				out[k] = Mask
			}
		}
		return out
	default:
		if other != nil && !valueEqual(v, other) {
			return differing
		}
		return Mask
	}
}

func valueEqual(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	return aok && bok && as == bs
}

// LastAppliedAnnotation masks the Secret values embedded in obj's
// last-applied-configuration annotation (of a Secret, or of a List holding
// one), and the secret Helm values of a HelmRelease or Application there. An annotation that is not valid JSON is replaced by "***" entirely.
func LastAppliedAnnotation(obj map[string]any) {
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	raw, ok := ann[LastApplied].(string)
	if !ok {
		return
	}
	var applied map[string]any
	if err := json.Unmarshal([]byte(raw), &applied); err != nil {
		ann[LastApplied] = Mask
		return
	}
	if !maskEmbedded(applied) {
		return
	}
	data, err := json.Marshal(applied)
	if err != nil {
		ann[LastApplied] = Mask
		return
	}
	ann[LastApplied] = string(data)
}

// maskEmbedded masks Secret values, and secret Helm values (HelmValues), in
// an embedded object; it reports whether it changed anything.
func maskEmbedded(obj map[string]any) bool {
	changed := false
	if items, ok := obj["items"].([]any); ok {
		for _, it := range items {
			if m, ok := it.(map[string]any); ok && maskEmbedded(m) {
				changed = true
			}
		}
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if masked, _ := HelmValues(apiVersion, kind, obj, nil, nil); !reflect.DeepEqual(masked, obj) {
		for k, v := range masked {
			obj[k] = v
		}
		changed = true
	}
	if obj["kind"] != "Secret" {
		return changed
	}
	for _, field := range []string{"data", "stringData"} {
		if m, ok := obj[field].(map[string]any); ok {
			for k := range m {
				m[k] = Mask
				changed = true
			}
		}
	}
	return changed
}

// Sweeper replaces known secret values wherever they appear in text.
type Sweeper struct {
	values map[string]bool
	sorted []string
}

// NewSweeper returns an empty sweeper.
func NewSweeper() *Sweeper { return &Sweeper{values: map[string]bool{}} }

// Add collects the secret values of obj if it is a Secret — data values as
// stored (base64) and decoded, stringData values, and those embedded in its
// last-applied annotation — before the object is masked.
func (s *Sweeper) Add(obj map[string]any) {
	if obj == nil {
		return
	}
	s.addObject(obj)
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	if raw, ok := ann[LastApplied].(string); ok {
		var applied map[string]any
		if json.Unmarshal([]byte(raw), &applied) == nil {
			s.addObject(applied)
		}
	}
}

func (s *Sweeper) addObject(obj map[string]any) {
	if items, ok := obj["items"].([]any); ok {
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				s.addObject(m)
			}
		}
	}
	if obj["kind"] != "Secret" {
		return
	}
	data, _ := obj["data"].(map[string]any)
	for _, v := range data {
		if str, ok := v.(string); ok {
			s.add(str)
			if dec, err := base64.StdEncoding.DecodeString(str); err == nil {
				s.addText(string(dec))
			}
		}
	}
	sd, _ := obj["stringData"].(map[string]any)
	for _, v := range sd {
		if str, ok := v.(string); ok {
			s.AddText(str)
		}
	}
}

// AddText adds clear-text secret values that are not in a Secret object
// (a secretGenerator's literals, the content of the files it reads), as
// Secret stringData values are added: each value, each of its lines, and
// its base64 encoding.
func (s *Sweeper) AddText(values ...string) {
	for _, v := range values {
		s.addText(v)
		s.add(base64.StdEncoding.EncodeToString([]byte(v)))
	}
}

// addText adds a clear-text value, and each line of a multi-line one (a PEM
// key's lines may be quoted one by one elsewhere).
func (s *Sweeper) addText(v string) {
	s.add(v)
	for _, line := range strings.Split(v, "\n") {
		s.add(strings.TrimSpace(line))
	}
}

func (s *Sweeper) add(v string) {
	if len(v) < minSweepLen || v == Mask || v == MaskBefore || v == MaskAfter || s.values[v] {
		return
	}
	s.values[v] = true
	s.sorted = nil
}

// String replaces every known secret value in str with "***", longest first.
func (s *Sweeper) String(str string) string {
	if len(s.values) == 0 || str == "" {
		return str
	}
	if s.sorted == nil {
		for v := range s.values {
			s.sorted = append(s.sorted, v)
		}
		sort.Slice(s.sorted, func(i, j int) bool {
			if len(s.sorted[i]) != len(s.sorted[j]) {
				return len(s.sorted[i]) > len(s.sorted[j])
			}
			return s.sorted[i] < s.sorted[j]
		})
	}
	for _, v := range s.sorted {
		if strings.Contains(str, v) {
			str = strings.ReplaceAll(str, v, Mask)
		}
	}
	return str
}

// Value sweeps every string in a JSON-like value (map keys too), returning
// the swept copy.
func (s *Sweeper) Value(v any) any {
	if len(s.values) == 0 {
		return v
	}
	switch t := v.(type) {
	case string:
		return s.String(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[s.String(k)] = s.Value(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = s.Value(x)
		}
		return out
	}
	return v
}

// Values returns the values the sweeper replaces, sorted.
func (s *Sweeper) Values() []string {
	out := make([]string, 0, len(s.values))
	for v := range s.values {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
