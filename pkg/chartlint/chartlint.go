package chartlint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/helmrender"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/secretscan"
)

// Severity of a message, as `helm lint` prints it ([ERROR], [WARNING],
// [INFO]).
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Rule ids: which of Helm's lint rules a message comes from.
const (
	// RuleChart: Chart.yaml metadata and dependencies (rules.Chartfile,
	// rules.Dependencies).
	RuleChart = "helm-chart"
	// RuleValues: values.yaml and the values checked against
	// values.schema.json (rules.ValuesWithOverrides).
	RuleValues = "helm-values"
	// RuleTemplate: templates rendered with the values and parsed
	// (rules.Templates, schema check of the render included).
	RuleTemplate = "helm-template"
	// RuleCRDs: the chart's crds/ (rules.Crds).
	RuleCRDs = "helm-crds"
)

// Options are the inputs of one lint, as `helm lint` takes them.
type Options struct {
	// Values are the user-supplied values (helm lint -f/--set, composed).
	Values map[string]any
	// Namespace is the release namespace (helm lint --namespace).
	Namespace string
	// KubeVersion ("v1.37.0") for capabilities and deprecation checks; ""
	// for Helm's default (helm lint --kube-version).
	KubeVersion string
	// SkipSchemaValidation: helm lint --skip-schema-validation.
	SkipSchemaValidation bool
}

// Message is one finding of Helm's linter.
type Message struct {
	Severity Severity
	Rule     string
	// Path is the path Helm gives ("Chart.yaml", "values.yaml",
	// "templates/", "templates/x.yaml", "crds/x.yaml").
	Path string
	// File is the file of the chart the message is about (slash path
	// relative to the chart directory): Path, or for a template error the
	// template it names; "Chart.yaml" for dependency problems.
	File string
	// Line is the line of File Helm's message names (a template's parse
	// or execution error), else 0.
	Line int
	// ValuesPath is, for a values schema violation, the keys of the first
	// value the schema rejects ("at '/image/tag'" → [image tag]).
	ValuesPath []string
	// Text is Helm's message, the chart's absolute directory left out.
	Text string
}

// String is the message as `helm lint` prints it: "[ERROR] path: text".
func (m Message) String() string {
	return "[" + strings.ToUpper(string(m.Severity)) + "] " + m.Path + ": " + m.Text
}

// NotConfinedError is Lint's error for a chart that would read outside the
// checkout (helmrender.Confined): it is not linted, and Err says why.
type NotConfinedError struct {
	Dir string
	Err error
}

func (e *NotConfinedError) Error() string {
	return fmt.Sprintf("linting chart %s: not linted: %v", e.Dir, e.Err)
}

func (e *NotConfinedError) Unwrap() error { return e.Err }

// Lint lints the chart in dir, a directory of the checkout root, as `helm
// lint dir` does with opts (the SDK's lint.RunAll, as the lint action
// calls it). The chart is untrusted: one that would read outside root
// (helmrender.Confined) is not loaded, the error a *NotConfinedError. The
// error is otherwise for a directory that is not a chart; problems of the
// chart are messages, in Helm's order.
func Lint(ctx context.Context, root, dir string, opts Options) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("linting chart %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("linting chart %s: %w", dir, err)
	}
	if root == "" {
		return nil, fmt.Errorf("linting chart %s: no checkout root to confine it to", dir)
	}
	if err := helmrender.Confined(root, abs); err != nil {
		return nil, &NotConfinedError{Dir: dir, Err: err}
	}
	// The lint action's guard.
	if _, err := os.Stat(filepath.Join(abs, "Chart.yaml")); err != nil {
		return nil, fmt.Errorf("linting chart %s: not a chart: %w", dir, err)
	}
	var kv *common.KubeVersion
	if opts.KubeVersion != "" {
		if kv, err = common.ParseKubeVersion(opts.KubeVersion); err != nil {
			return nil, fmt.Errorf("linting chart %s: kube version %q: %w", dir, opts.KubeVersion, err)
		}
	}
	vals := opts.Values
	if vals == nil {
		vals = map[string]any{}
	}
	res := lint.RunAll(abs, vals, opts.Namespace, lint.WithKubeVersion(kv), lint.WithSkipSchemaValidation(opts.SkipSchemaValidation))
	out := make([]Message, 0, len(res.Messages))
	for _, m := range res.Messages {
		out = append(out, message(abs, m))
	}
	return out, nil
}

var (
	// "template: mychart/templates/x.yaml:12:3: executing …" and
	// "parse error at (mychart/templates/x.yaml:3): …".
	templateLineRE = regexp.MustCompile(`(?:template: |\()[^\s:()]+?/((?:charts/[^/\s:]+/)*templates/[^\s:()]+):(\d+)`)
	schemaPathRE   = regexp.MustCompile(`at '(/[^']*)'`)
)

func message(abs string, m support.Message) Message {
	text := ""
	if m.Err != nil {
		text = m.Err.Error()
	}
	text = strings.ReplaceAll(text, abs+string(filepath.Separator), "")
	text = strings.ReplaceAll(text, abs, ".")
	text = SortViolations(text)
	p := m.Path
	if p == abs {
		p = "."
	}
	out := Message{Severity: severity(m.Severity), Path: p, File: p, Text: text}
	switch {
	case p == "Chart.yaml" || p == "." || p == "":
		out.Rule, out.File = RuleChart, "Chart.yaml"
	case p == "values.yaml":
		out.Rule = RuleValues
	case strings.HasPrefix(p, "crds/"):
		out.Rule = RuleCRDs
	default:
		out.Rule = RuleTemplate
	}
	out.File = strings.TrimSuffix(out.File, "/")
	if sm := templateLineRE.FindStringSubmatch(text); sm != nil {
		out.File = sm[1]
		out.Line, _ = strconv.Atoi(sm[2])
	}
	if sm := schemaPathRE.FindStringSubmatch(text); sm != nil && strings.Contains(text, "- at '") {
		out.ValuesPath = pointer(sm[1])
	}
	return out
}

// SortViolations sorts each run of schema violation lines ("- at '/x':
// …") of a message: the JSON schema library reports them in map order,
// so two runs of helm lint on the same values may differ.
func SortViolations(text string) string {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && strings.HasPrefix(lines[j], "- at '") {
			j++
		}
		if j > i {
			sort.Strings(lines[i:j])
			i = j
			continue
		}
		i++
	}
	return strings.Join(lines, "\n")
}

// pointer splits a JSON pointer into its keys.
func pointer(p string) []string {
	var out []string
	for _, k := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if k == "" {
			continue
		}
		out = append(out, strings.NewReplacer("~1", "/", "~0", "~").Replace(k))
	}
	return out
}

func severity(s int) Severity {
	switch s {
	case support.ErrorSev:
		return SeverityError
	case support.WarningSev:
		return SeverityWarning
	default:
		return SeverityInfo
	}
}

// SecretValues are the values under secret-like keys (the secret
// scanner's rule, as drift masks values), as text: what a finding must
// never repeat.
func SecretValues(vals map[string]any) []string {
	var out []string
	var walk func(v any, secret bool)
	walk = func(v any, secret bool) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(c, secret || secretscan.IsSecretKey(k))
			}
		case []any:
			for _, c := range x {
				walk(c, secret)
			}
		case nil, bool:
		default:
			if secret {
				out = append(out, fmt.Sprint(x))
			}
		}
	}
	walk(vals, false)
	sort.Strings(out)
	return out
}

// readCheckoutFile reads name (slash, relative to root) through os.Root: a
// path or symbolic link leading out of the checkout is refused.
func readCheckoutFile(root, name string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	st, err := r.Stat(filepath.FromSlash(name))
	if err != nil {
		return nil, err
	}
	if st.Size() > maxValuesFile {
		return nil, fmt.Errorf("larger than %d bytes", maxValuesFile)
	}
	return r.ReadFile(filepath.FromSlash(name))
}

// maxValuesFile bounds a values file read from the checkout.
const maxValuesFile = 8 << 20

// CheckValues checks values against the schema of the chart at chartPath
// (a directory or an archive, e.g. fetched from a chart repository) and of
// its subcharts, as helm install and helm-controller check them before
// rendering (the chart's values coalesced with opts.Values). A violation
// is one message of rule RuleValues; none when the values fit. The error
// is for a chart that cannot be loaded.
func CheckValues(ctx context.Context, chartPath string, opts Options) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("checking values: %w", err)
	}
	// The schemas' $refs, which the validator would read or fetch, are
	// checked as a render checks them (a fetched chart is untrusted).
	ch, err := helmrender.LoadChart(chartPath)
	if err != nil {
		return nil, err
	}
	caps := common.DefaultCapabilities.Copy()
	if opts.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(opts.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", opts.KubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	vals := opts.Values
	if vals == nil {
		vals = map[string]any{}
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("chart dependencies: %w", err)
	}
	rel := common.ReleaseOptions{Name: ch.Name(), Namespace: opts.Namespace, Revision: 1, IsInstall: true}
	if _, err := util.ToRenderValuesWithSchemaValidation(ch, vals, rel, caps, opts.SkipSchemaValidation); err != nil {
		m := Message{Severity: SeverityError, Rule: RuleValues, Path: "values.yaml", File: "values.yaml", Text: SortViolations(err.Error())}
		if sm := schemaPathRE.FindStringSubmatch(m.Text); sm != nil && strings.Contains(m.Text, "- at '") {
			m.ValuesPath = pointer(sm[1])
		}
		return []Message{m}, nil
	}
	return nil, nil
}
