package helmrender

import (
	"bytes"
	"fmt"
	"sort"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/strvals"
)

// CLIValues are the values options of a `helm template` command line, as
// Argo CD's repo-server passes them: --values files (their content, in
// order), --set, --set-string and --set-file (key and value as written
// after "=": a --set-file value is the file's content here).
type CLIValues struct {
	Files     [][]byte
	Set       map[string]string
	SetString map[string]string
	SetFile   map[string][]byte
}

// ComposeCLIValues merges values as the helm CLI does (pkg/cli/values
// Options.MergeValues): the files in order, then every --set, then every
// --set-string, then every --set-file (each kind in key order). Errors
// name the option and key, never a value.
func ComposeCLIValues(v CLIValues) (map[string]any, error) {
	base := map[string]any{}
	for i, data := range v.Files {
		cur, err := loader.LoadValues(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("values file %d: not a values file (YAML)", i+1)
		}
		base = loader.MergeMaps(base, cur)
	}
	for _, k := range keys(v.Set) {
		if err := strvals.ParseInto(k+"="+v.Set[k], base); err != nil {
			return nil, fmt.Errorf("--set %s: cannot be parsed", k)
		}
	}
	for _, k := range keys(v.SetString) {
		if err := strvals.ParseIntoString(k+"="+v.SetString[k], base); err != nil {
			return nil, fmt.Errorf("--set-string %s: cannot be parsed", k)
		}
	}
	fileKeys := make([]string, 0, len(v.SetFile))
	for k := range v.SetFile {
		fileKeys = append(fileKeys, k)
	}
	sort.Strings(fileKeys)
	for _, k := range fileKeys {
		data := v.SetFile[k]
		reader := func([]rune) (any, error) { return string(data), nil }
		if err := strvals.ParseIntoFile(k+"=file", base, reader); err != nil {
			return nil, fmt.Errorf("--set-file %s: cannot be parsed", k)
		}
	}
	return base, nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
