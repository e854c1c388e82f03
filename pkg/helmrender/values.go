package helmrender

import (
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/strvals"
)

// ValuesRef is one spec.valuesFrom entry of a HelmRelease with the data it
// names (Found false: the object or key does not exist and the entry is
// optional, so it is left out).
type ValuesRef struct {
	Kind, Name, ValuesKey, TargetPath string
	Data                              []byte
	Found                             bool
}

// ComposeValues merges the valuesFrom entries in order, then values on
// top, as helm-controller's ChartValuesFromReferences does: an entry with a
// targetPath sets that path (Helm --set syntax; a quoted value is a
// string), one without is a values file merged into what came before. It
// also returns the values that came from Secrets (each scalar leaf, as
// text) for masking.
func ComposeValues(refs []ValuesRef, values map[string]any) (map[string]any, []string, error) {
	result := map[string]any{}
	secrets := map[string]bool{}
	for _, ref := range refs {
		if !ref.Found {
			continue
		}
		what := fmt.Sprintf("valuesFrom %s %s key %q", ref.Kind, ref.Name, ref.ValuesKey)
		if ref.TargetPath != "" {
			v := string(ref.Data)
			quoted := len(v) >= 2 && (strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) || strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'"))
			var err error
			if quoted {
				v = strings.Trim(v, `"'`)
				err = strvals.ParseIntoString(ref.TargetPath+"="+v, result)
			} else {
				err = strvals.ParseInto(ref.TargetPath+"="+v, result)
			}
			if ref.Kind == "Secret" {
				secrets[v] = true
			}
			if err != nil {
				// strvals quotes the value it could not parse: never the
				// value itself in the message.
				return nil, nil, fmt.Errorf("%s: cannot set target path %q", what, ref.TargetPath)
			}
			continue
		}
		vals, err := common.ReadValues(ref.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: not a values file (YAML)", what)
		}
		if ref.Kind == "Secret" {
			leaves(vals, secrets)
		}
		result = mergeMaps(result, vals)
	}
	out := mergeMaps(result, values)
	list := make([]string, 0, len(secrets))
	for s := range secrets {
		list = append(list, s)
	}
	sort.Strings(list)
	return out, list, nil
}

// leaves adds the text of every string and number leaf of v.
func leaves(v any, into map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for _, x := range t {
			leaves(x, into)
		}
	case common.Values:
		leaves(map[string]any(t), into)
	case []any:
		for _, x := range t {
			leaves(x, into)
		}
	case string:
		into[t] = true
	case bool, nil:
	default:
		into[fmt.Sprint(t)] = true
	}
}

// mergeMaps merges b into a copy of a: maps are merged recursively, any
// other value of b replaces a's (fluxcd/pkg/runtime/transform.MergeMaps).
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := asMap(v); ok {
			if am, ok := asMap(out[k]); ok {
				out[k] = mergeMaps(am, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func asMap(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case map[string]any:
		return t, true
	case common.Values:
		return map[string]any(t), true
	}
	return nil, false
}
