package repolint

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/chartlint"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/secretscan"
)

// Severity of a finding. Errors make the lint fail; warnings are reported.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	// SeverityInfo is helm lint's [INFO]: reported, never a failure.
	SeverityInfo Severity = "info"
)

// Rule ids, stable in JSON output and in exclusions. The secret rules are
// pkg/secretscan's (plaintext-secret, secret-generator-literal, private-key,
// aws-access-key-id, github-token, slack-token).
const (
	RuleYAML              = "yaml"
	RuleBuild             = "build"
	RuleMissingApp        = "missing-app"
	RuleMissingPath       = "missing-path"
	RuleUnknownDependency = "unknown-dependency"
	RuleUnpinnedImage     = "unpinned-image"
	RulePipeline          = "pipeline"
	RuleSchema            = "schema"
	RuleDryRun            = "dry-run"
	RuleDryRunSkipped     = "dry-run-skipped"
)

// Rule describes one rule.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
}

// Rules lists every rule, in the order of the documentation.
var Rules = []Rule{
	{RuleYAML, SeverityError, "a YAML file does not parse"},
	{RuleBuild, SeverityError, "a kustomization does not build (kustomize, as kubectl -k)"},
	{RuleMissingApp, SeverityError, "an environment lacks an application the others have (directories, Applications, Kustomizations, pipeline versions files)"},
	{RuleMissingPath, SeverityError, "an Application, Flux Kustomization or pipeline environment points at a path that does not exist"},
	{RuleUnknownDependency, SeverityWarning, "a Flux Kustomization dependsOn a Kustomization not found in the repository"},
	{secretscan.RulePlaintextSecret, SeverityError, "a Secret with data/stringData that is not SOPS-encrypted, or with values in its last-applied copy"},
	{secretscan.RuleSecretGeneratorLiteral, SeverityError, "a kustomize secretGenerator with literals"},
	{secretscan.RulePrivateKey, SeverityError, "a PEM private key in a value"},
	{secretscan.RuleAWSAccessKey, SeverityError, "an AWS access key id in a value"},
	{secretscan.RuleGitHubToken, SeverityError, "a GitHub token in a value"},
	{secretscan.RuleSlackToken, SeverityError, "a Slack token in a value"},
	// Further rules of the scanner (kept by name: the scanner decides their
	// severity, and its findings carry it).
	{"secret-generator-env", SeverityError, "a kustomize secretGenerator env file with plaintext values"},
	{"secret-generator-file", SeverityError, "a kustomize secretGenerator file with a plaintext secret"},
	{"values-secret", SeverityError, "a secret-looking value in a Helm values file"},
	{"secret-generator-missing", SeverityWarning, "a secretGenerator names a file that is not there (not checked)"},
	{"secret-generator-outside-root", SeverityWarning, "a secretGenerator names a file outside the repository (not checked)"},
	{secretscan.RuleSymlinkNotFollowed, SeverityWarning, "a symbolic link that is dangling or leads out of the repository (not followed, not checked)"},
	{RuleUnpinnedImage, SeverityError, "an image without tag or digest, or tagged latest (built manifests and kustomize images:)"},
	{RulePipeline, SeverityError, "the promotion pipeline file (.gitops/pipeline.yaml) is invalid"},
	{RuleSchema, SeverityError, "an unknown field or a wrong type: built-in kinds offline (strict decoding), every kind with --context/--kubeconfig"},
	{RuleDryRun, SeverityError, "the API server rejects an object in a server-side apply dry run (--context/--kubeconfig)"},
	{RuleDryRunSkipped, SeverityWarning, "an object could not be dry-run: its namespace or CRD is created by this repository and not on the server yet"},
	// helm lint's rules: the severity is the one helm lint gives each message.
	{chartlint.RuleChart, SeverityError, "helm lint of a chart of the repository: Chart.yaml metadata and dependencies"},
	{chartlint.RuleValues, SeverityError, "helm lint: values.yaml, and the values (the chart's or an environment's) against values.schema.json"},
	{chartlint.RuleTemplate, SeverityError, "helm lint: templates rendered (chart's and each environment's values) and parsed"},
	{chartlint.RuleCRDs, SeverityError, "helm lint: the chart's crds/"},
	{RuleHelmNotChecked, SeverityInfo, "a HelmRelease's or Application's Helm values were not checked against their chart (chart not in the repository, valuesFrom, unreadable values files)"},
}

func knownRule(id string) bool {
	return slices.ContainsFunc(Rules, func(r Rule) bool { return r.ID == id })
}

func severityOf(id string) Severity {
	for _, r := range Rules {
		if r.ID == id {
			return r.Severity
		}
	}
	return SeverityError
}

// Finding is one problem, at a file and line of the repository.
type Finding struct {
	// File is slash-separated and relative to the repository root; a
	// directory when the problem is a missing file in it.
	File string `json:"file"`
	// Line is 1-based; 0 when the finding is about the file as a whole.
	Line     int      `json:"line"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Subject is what the finding is about: an application, an image, an
	// object (Kind namespace/name) or a field.
	Subject string `json:"subject,omitempty"`
	// Env is the environment of a missing-app finding.
	Env     string `json:"env,omitempty"`
	Message string `json:"message"`
}

// Location is "file:line", or "file" when the line is unknown.
func (f Finding) Location() string {
	if f.Line > 0 {
		return f.File + ":" + strconv.Itoa(f.Line)
	}
	return f.File
}

// sortFindings orders by file, line, rule, subject and message, and drops
// duplicates (the same problem seen through several kustomizations).
func sortFindings(fs []Finding) []Finding {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			strings.Compare(a.Rule, b.Rule), strings.Compare(a.Subject, b.Subject), strings.Compare(a.Message, b.Message))
	})
	return slices.CompactFunc(fs, func(a, b Finding) bool {
		// helm lint gives several messages at one place (Chart.yaml).
		sameText := a.Message == b.Message || !strings.HasPrefix(a.Rule, "helm-")
		return a.File == b.File && a.Line == b.Line && a.Rule == b.Rule && a.Subject == b.Subject && a.Env == b.Env && sameText
	})
}
