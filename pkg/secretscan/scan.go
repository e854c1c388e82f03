package secretscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Rule names, stable in JSON output.
const (
	RulePlaintextSecret        = "plaintext-secret"
	RuleSecretGeneratorLiteral = "secret-generator-literal"
	RuleSecretGeneratorEnv     = "secret-generator-env"
	RuleSecretGeneratorFile    = "secret-generator-file"
	RuleValuesSecret           = "values-secret"
	RulePrivateKey             = "private-key"
	RuleAWSAccessKey           = "aws-access-key-id"
	RuleGitHubToken            = "github-token"
	RuleSlackToken             = "slack-token"

	// Warnings: the scan could not check a secretGenerator reference.
	RuleSecretGeneratorMissing = "secret-generator-missing"
	RuleSecretGeneratorOutside = "secret-generator-outside-root"
	// A listed file is a symbolic link that cannot be followed inside the
	// repository (dangling, a loop, or leading out of it): not read.
	RuleSymlinkNotFollowed = "symlink-not-followed"
)

// Severities. Errors are plaintext secrets; warnings say what could not be
// checked and are not secrets themselves.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Finding is one secret found in a file. It never holds the secret's value,
// not even masked: it names the file, line and key.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Key      string `json:"key"`
	// Origin is "file:line" of what put the secret there when that is
	// another file: the secretGenerator entry naming an env file or file.
	Origin  string `json:"origin,omitempty"`
	Message string `json:"message"`
}

// IsWarning reports whether f is a warning rather than a secret.
func (f Finding) IsWarning() bool { return f.Severity == SeverityWarning }

// credential is a high-confidence credential pattern.
type credential struct {
	rule string
	what string
	re   *regexp.Regexp
}

// The patterns are compiled on first use, not at start-up: every seal
// call links this package, few scan.
var credentials = sync.OnceValue(func() []credential {
	return []credential{
		{RulePrivateKey, "a PEM private key", regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)},
		{RuleAWSAccessKey, "an AWS access key id", regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`)},
		{RuleGitHubToken, "a GitHub token", regexp.MustCompile(`\bghp_[A-Za-z0-9]{36}\b`)},
		{RuleSlackToken, "a Slack token", regexp.MustCompile(`\bxox[baprs]-[0-9A-Za-z-]{10,}`)},
	}
})

var encValue = lazyRegexp(`^ENC\[AES256_GCM,data:.+,iv:.+,tag:.+,type:.+\]`)

// lazyRegexp compiles expr on first use.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// IsCandidate reports whether a file is scanned: YAML, JSON and kustomization
// files.
func IsCandidate(name string) bool {
	base := path.Base(name)
	switch strings.ToLower(path.Ext(base)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return base == "kustomization" || base == "Kustomization"
}

// IsKustomizationFile reports whether name is a kustomization file by its
// base name (kustomization.yaml, kustomization.yml, Kustomization).
func IsKustomizationFile(name string) bool {
	switch path.Base(name) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// Walk lists the candidate files under fsys (slash-separated, relative to its
// root), skipping .git directories. Symbolic links to files are listed (the
// Scanner follows them only inside its FS, and warns about the others);
// symbolic links to directories are not descended into. Use it outside a
// git work tree; inside one, list files with git so that .gitignore is
// respected.
func Walk(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if (d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) && IsCandidate(p) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// Scanner scans the files of one repository.
type Scanner struct {
	// FS is the repository. Files are read from it, and secretGenerator
	// envs and files are followed only inside it: a reference that leaves
	// it is refused with a warning. Use an FS that does not follow symbolic
	// links out of the root (os.Root.FS). Nil: references are not followed.
	FS fs.FS
	// Ignored reports files that git ignores. A secretGenerator reference
	// to one is not followed, since the file never reaches Git. Nil: none.
	Ignored func(name string) bool
	// Display maps a path in FS to the path shown in findings (File, Origin
	// and messages). Nil: the path in FS.
	Display func(name string) string
	// Where names FS in warnings about a missing file ("in the git index"
	// gives "is not in the git index"). Empty: the file "does not exist".
	Where string
}

// Scan reads files (slash-separated paths in fsys) and returns their
// findings, sorted. Files that are not candidates are skipped.
// secretGenerator references are followed inside fsys.
func Scan(fsys fs.FS, files []string) ([]Finding, error) {
	var candidates []string
	for _, f := range files {
		if IsCandidate(f) {
			candidates = append(candidates, f)
		}
	}
	return (&Scanner{FS: fsys}).Scan(context.Background(), candidates)
}

// Scan reads every file named (slash-separated paths in s.FS, whether a
// candidate or not: the caller chooses) and returns the findings, sorted.
// A file that is a symbolic link which cannot be read inside s.FS (dangling,
// a loop, or leading out of the repository) gives a warning, and the scan
// goes on: one bad link must not hide the secrets of the other files.
func (s *Scanner) Scan(ctx context.Context, files []string) ([]Finding, error) {
	if s.FS == nil {
		return nil, errors.New("scanning: no file system")
	}
	var out []Finding
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := fs.ReadFile(s.FS, f)
		if err != nil && s.isSymlink(f) {
			out = append(out, Finding{File: s.show(f), Rule: RuleSymlinkNotFollowed, Severity: SeverityWarning,
				Message: "a symbolic link that cannot be read inside the repository (dangling, a loop, a directory, or leading out of it): not followed, not checked"})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.show(f), err)
		}
		out = append(out, s.ScanBytes(f, data)...)
	}
	Sort(out)
	return out, nil
}

// isSymlink reports whether name itself is a symbolic link in s.FS.
func (s *Scanner) isSymlink(name string) bool {
	fi, err := fs.Lstat(s.FS, name)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// show is the displayed form of a path in s.FS.
func (s *Scanner) show(name string) string {
	if s.Display == nil {
		return name
	}
	return s.Display(name)
}

// Sort orders findings by file, line, rule and key.
func Sort(findings []Finding) {
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Key < b.Key
	})
}

// ScanBytes scans the content of one file named name, without following
// secretGenerator references (there is no file system to follow them in).
// Content that is not valid YAML (a Helm template, say) is scanned line by
// line for credentials.
func ScanBytes(name string, data []byte) []Finding {
	return (&Scanner{}).ScanBytes(name, data)
}

// ScanBytes scans the content of the file name (a path in s.FS); its
// secretGenerator references are followed in s.FS.
func (s *Scanner) ScanBytes(name string, data []byte) []Finding {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s.scanLines(name, data)
		}
		docs = append(docs, &n)
	}
	var out []Finding
	for _, d := range docs {
		out = append(out, s.scanDoc(name, d)...)
	}
	for i := range out {
		if out[i].Severity == "" {
			out[i].Severity = SeverityError
		}
	}
	return out
}

// scanLines is the fallback for files that do not parse.
func (s *Scanner) scanLines(name string, data []byte) []Finding {
	var out []Finding
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		for _, c := range credentials() {
			if c.re.Match(sc.Bytes()) {
				out = append(out, Finding{File: s.show(name), Line: line, Rule: c.rule, Severity: SeverityError,
					Message: fmt.Sprintf("%s in a file that is not valid YAML", c.what)})
			}
		}
	}
	return out
}

func mapGet(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func scalar(m *yaml.Node, key string) string {
	_, v := mapGet(m, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// isSOPS reports a top-level sops mapping with a mac or version.
func isSOPS(root *yaml.Node) bool {
	_, s := mapGet(root, "sops")
	if s == nil || s.Kind != yaml.MappingNode {
		return false
	}
	return scalar(s, "mac") != "" || scalar(s, "version") != ""
}

func (s *Scanner) scanDoc(name string, doc *yaml.Node) []Finding {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return s.scanValues(name, "", "", "", root, nil)
	}
	kind := scalar(root, "kind")
	apiVersion := scalar(root, "apiVersion")
	_, meta := mapGet(root, "metadata")
	objName := scalar(meta, "name")
	isSecret := kind == "Secret" && (apiVersion == "v1" || apiVersion == "")
	if kind == "List" && apiVersion == "v1" {
		// `kubectl get secrets -o yaml`: each item is an object.
		_, items := mapGet(root, "items")
		if items != nil && items.Kind == yaml.SequenceNode {
			var out []Finding
			for _, it := range items.Content {
				if it.Kind == yaml.MappingNode {
					out = append(out, s.scanDoc(name, it)...)
				}
			}
			return out
		}
	}
	if isSOPS(root) {
		// SOPS leaves in clear what its rule does not select: with Flux's
		// encrypted_regex, metadata and so the last-applied copy; with a
		// rule that misses stringData (or a regex sops could not compile),
		// values themselves.
		if isSecret {
			out, _ := s.scanSecretData(name, objName, root, meta)
			return out
		}
		return nil
	}
	switch kind {
	case "SealedSecret", "ExternalSecret", "ClusterExternalSecret":
		if strings.HasPrefix(apiVersion, "bitnami.com/") || strings.HasPrefix(apiVersion, "external-secrets.io/") {
			// Their template's annotations are copied from a Secret and
			// are in clear: a last-applied copy there holds its values.
			_, spec := mapGet(root, "spec")
			if kind == "ClusterExternalSecret" {
				_, spec = mapGet(spec, "externalSecretSpec")
			}
			_, tmpl := mapGet(spec, "template")
			if kind != "SealedSecret" {
				_, target := mapGet(spec, "target")
				_, tmpl = mapGet(target, "template")
			}
			_, tmeta := mapGet(tmpl, "metadata")
			return s.scanCopyAnnotations(name, kind, objName, tmeta)
		}
	}
	var out []Finding
	skip := map[*yaml.Node]bool{}
	if isSecret {
		out, skip = s.scanSecretData(name, objName, root, meta)
	}
	isKustomization := (kind == "Kustomization" || kind == "Component") && strings.HasPrefix(apiVersion, "kustomize.config.k8s.io/") ||
		kind == "" && IsKustomizationFile(name)
	if isKustomization {
		out = append(out, s.scanSecretGenerator(name, root)...)
	}
	if isKustomization || kind != "" && apiVersion != "" {
		for _, e := range embeddedValues(apiVersion, kind, isKustomization, root) {
			out = append(out, s.scanSecretKeys(name, kind, objName, e)...)
		}
	} else {
		// Not a Kubernetes object: Helm values or other configuration.
		out = append(out, s.scanSecretKeys(name, kind, objName, embedded{"", root, sameLine})...)
	}
	out = append(out, s.scanValues(name, kind, objName, "", root, skip)...)
	return out
}

// scanSecretData reports a v1 Secret's data and stringData keys whose value
// is plaintext, and the values in its copy annotations. It returns the data
// maps, which need no further scanning.
func (s *Scanner) scanSecretData(name, objName string, root, meta *yaml.Node) ([]Finding, map[*yaml.Node]bool) {
	out := s.scanCopyAnnotations(name, "Secret", objName, meta)
	skip := map[*yaml.Node]bool{}
	for _, field := range []string{"data", "stringData"} {
		_, m := mapGet(root, field)
		if m == nil || m.Kind != yaml.MappingNode {
			continue
		}
		skip[m] = true
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if v.Kind == yaml.ScalarNode && (notPlaintext(v.Value) || referenceNode(v, field == "data")) {
				continue
			}
			out = append(out, Finding{File: s.show(name), Line: k.Line, Rule: RulePlaintextSecret, Kind: "Secret", Name: objName, Key: k.Value,
				Message: fmt.Sprintf("%s key %q is plaintext: encrypt it (seal, SOPS) or use an ExternalSecret", field, k.Value)})
		}
	}
	return out, skip
}

// notPlaintext reports a Secret value that is empty, SOPS-encrypted or a
// Helm template expression.
func notPlaintext(v string) bool {
	return v == "" || encValue().MatchString(v) || strings.Contains(v, "{{")
}

// copyAnnotations hold a full copy of the object they annotate, a Secret's
// values included (client-side apply's, kubecfg's and kapp's).
var copyAnnotations = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"kubecfg.ksonnet.io/last-applied-configuration",
	"kapp.k14s.io/original",
}

// scanCopyAnnotations reports the plaintext values held in a Secret's copy
// annotations: `kubectl get -o yaml` of an applied Secret has them even when
// data is empty or encrypted. An annotation that is not a JSON or YAML
// mapping (SOPS-encrypted, say) holds nothing readable.
func (s *Scanner) scanCopyAnnotations(name, kind, objName string, meta *yaml.Node) []Finding {
	_, ann := mapGet(meta, "annotations")
	var out []Finding
	for _, a := range copyAnnotations {
		k, v := mapGet(ann, a)
		if v == nil || v.Kind != yaml.ScalarNode {
			continue
		}
		var obj map[string]any
		if yaml.Unmarshal([]byte(v.Value), &obj) != nil {
			continue
		}
		for _, field := range []string{"data", "stringData"} {
			m, _ := obj[field].(map[string]any)
			keys := make([]string, 0, len(m))
			for key := range m {
				keys = append(keys, key)
			}
			sort.Strings(keys)
			for _, key := range keys {
				if str, ok := m[key].(string); ok && notPlaintext(str) || m[key] == nil {
					continue
				}
				out = append(out, Finding{File: s.show(name), Line: k.Line, Rule: RulePlaintextSecret, Kind: kind, Name: objName, Key: key,
					Message: fmt.Sprintf("the %s annotation holds %s key %q in plaintext: remove the annotation (kubectl gitops seal drops it)", a, field, key)})
			}
		}
	}
	return out
}

// scanValues looks for credentials in every scalar value under n.
func (s *Scanner) scanValues(name, kind, objName, key string, n *yaml.Node, skip map[*yaml.Node]bool) []Finding {
	if skip[n] {
		return nil
	}
	var out []Finding
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, s.scanValues(name, kind, objName, n.Content[i].Value, n.Content[i+1], skip)...)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			out = append(out, s.scanValues(name, kind, objName, key, c, skip)...)
		}
	case yaml.ScalarNode:
		for _, c := range credentials() {
			if loc := c.re.FindStringIndex(n.Value); loc != nil {
				line := n.Line
				if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
					// Block scalars start on the line after the indicator.
					line += 1 + strings.Count(n.Value[:loc[0]], "\n")
				}
				msg := fmt.Sprintf("%s in the value", c.what)
				if key != "" {
					msg = fmt.Sprintf("%s in the value of %q", c.what, key)
				}
				out = append(out, Finding{File: s.show(name), Line: line, Rule: c.rule, Kind: kind, Name: objName, Key: key, Message: msg})
			}
		}
	}
	return out
}

// hasCredential reports whether v matches a credential pattern (reported by
// its own rule).
func hasCredential(v string) bool {
	for _, c := range credentials() {
		if c.re.MatchString(v) {
			return true
		}
	}
	return false
}

// AllowRule drops the findings in files matching Path (a glob; "**" matches
// any number of directories) and, when Name is set, on objects so named.
type AllowRule struct {
	Path   string `yaml:"path" json:"path"`
	Name   string `yaml:"name,omitempty" json:"name,omitempty"`
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
}

// ParseAllowList parses an allow-list file: a YAML list of AllowRule, or a
// mapping with an "allow" list.
func ParseAllowList(data []byte) ([]AllowRule, error) {
	var rules []AllowRule
	if err := yaml.Unmarshal(data, &rules); err != nil {
		var wrapped struct {
			Allow []AllowRule `yaml:"allow"`
		}
		if err2 := yaml.Unmarshal(data, &wrapped); err2 != nil {
			return nil, fmt.Errorf("allow-list: %w", err)
		}
		rules = wrapped.Allow
	}
	for i, r := range rules {
		if r.Path == "" {
			return nil, fmt.Errorf("allow-list entry %d: path is required", i+1)
		}
		if _, err := globRegexp(r.Path); err != nil {
			return nil, fmt.Errorf("allow-list entry %d: %w", i+1, err)
		}
	}
	return rules, nil
}

// Allowed reports whether a rule allows f.
func Allowed(f Finding, rules []AllowRule) bool {
	p := path.Clean(strings.TrimPrefix(f.File, "./"))
	for _, r := range rules {
		if r.Name != "" && r.Name != f.Name {
			continue
		}
		re, err := globRegexp(path.Clean(strings.TrimPrefix(r.Path, "./")))
		if err != nil {
			continue
		}
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// Filter returns the findings no rule allows.
func Filter(findings []Finding, rules []AllowRule) []Finding {
	var out []Finding
	for _, f := range findings {
		if !Allowed(f, rules) {
			out = append(out, f)
		}
	}
	return out
}

// globRegexp compiles a glob: "*" and "?" within a path segment, "**" across
// segments.
func globRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case c == '*' && i+1 < len(g) && g[i+1] == '*':
			i++
			if i+1 < len(g) && g[i+1] == '/' {
				i++
				b.WriteString("(?:.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
