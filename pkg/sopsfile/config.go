package sopsfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// ConfigFileName is the name of the sops configuration file.
const ConfigFileName = ".sops.yaml"

// ErrNoMatchingRule is returned when a config has creation rules but none
// matches the file (sops: "no matching creation rules found").
var ErrNoMatchingRule = errors.New("no matching creation rules found")

// Config is a .sops.yaml file's creation rules.
type Config struct {
	// Path is where it was read from.
	Path  string
	Rules []CreationRule
}

// CreationRule is one entry of creation_rules.
type CreationRule struct {
	PathRegex string
	// Age are the age recipients of the rule.
	Age  []string
	Rule Rule
	// Unsupported names the master-key kinds the rule asks for that this
	// package cannot encrypt for (pgp, kms, …, or several key groups).
	Unsupported []string
	// ConfigPath and Line say where the rule is (Line 1-based).
	ConfigPath string
	Line       int
}

type rawRule struct {
	PathRegex       string     `yaml:"path_regex"`
	Age             any        `yaml:"age"`
	PGP             any        `yaml:"pgp"`
	KMS             any        `yaml:"kms"`
	GCPKMS          any        `yaml:"gcp_kms"`
	AzureKeyVault   any        `yaml:"azure_keyvault"`
	VaultURI        any        `yaml:"hc_vault_transit_uri"`
	HCKMS           []string   `yaml:"hckms"`
	KeyGroups       []rawGroup `yaml:"key_groups"`
	ShamirThreshold int        `yaml:"shamir_threshold"`
	Rule            `yaml:",inline"`
}

type rawGroup struct {
	Age   []string       `yaml:"age"`
	Other map[string]any `yaml:",inline"`
}

// FindConfig looks for .sops.yaml in dir and its parents, as sops does from
// the working directory. It returns "" when there is none.
func FindConfig(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, ConfigFileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// ConfigError is a .sops.yaml that exists but cannot be used: it does not
// parse, a regular expression does not compile, a key has the wrong type, or
// the rule chosen asks for keys this package cannot encrypt for. It names
// the file and line, so a broken config is never taken for no config.
type ConfigError struct {
	// Path is the config file ("" when parsed from bytes).
	Path string
	// Line is 1-based; 0 when unknown.
	Line   int
	Reason string
}

func (e *ConfigError) Error() string {
	loc := e.Path
	if loc == "" {
		loc = ConfigFileName
	}
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	return "sops config " + loc + ": " + e.Reason
}

// LoadConfig reads a .sops.yaml file. A file that cannot be used is a
// *ConfigError.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading sops config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return nil, err
	}
	c.Path = path
	for i := range c.Rules {
		c.Rules[i].ConfigPath = path
	}
	return c, nil
}

// yamlLine matches the position yaml.v3 puts in its messages.
var yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`) })

// configYAMLError turns a yaml.v3 error into a *ConfigError with its line.
func configYAMLError(err error, fallbackLine int, prefix string) *ConfigError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimSpace(msg)
	if m := yamlLine().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ConfigError{Line: line, Reason: prefix + m[2]}
	}
	return &ConfigError{Line: fallbackLine, Reason: prefix + strings.TrimPrefix(msg, "yaml: ")}
}

// configKeys are the top-level keys sops reads from .sops.yaml.
var configKeys = []string{"creation_rules", "destination_rules", "stores"}

// ParseConfig parses the content of a .sops.yaml file. Errors are
// *ConfigError with the line.
func ParseConfig(data []byte) (*Config, error) {
	c := &Config{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, configYAMLError(err, 0, "invalid YAML: ")
	}
	if len(doc.Content) == 0 {
		return c, nil // empty: no rules
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &ConfigError{Line: root.Line, Reason: "not a YAML mapping"}
	}
	var rules *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if !slices.Contains(configKeys, k.Value) {
			// A misspelt creation_rules would otherwise mean "no rules".
			return nil, &ConfigError{Line: k.Line, Reason: fmt.Sprintf("unknown key %q (sops reads %s)", k.Value, strings.Join(configKeys, ", "))}
		}
		if k.Value == "creation_rules" {
			rules = root.Content[i+1]
		}
	}
	if rules == nil || rules.ShortTag() == "!!null" {
		return c, nil
	}
	if rules.Kind != yaml.SequenceNode {
		return nil, &ConfigError{Line: rules.Line, Reason: "creation_rules must be a list"}
	}
	for i, rn := range rules.Content {
		cr, err := parseRule(i, rn)
		if err != nil {
			return nil, err
		}
		c.Rules = append(c.Rules, *cr)
	}
	return c, nil
}

// parseRule reads one entry of creation_rules.
func parseRule(i int, rn *yaml.Node) (*CreationRule, error) {
	prefix := fmt.Sprintf("creation rule %d: ", i+1)
	if rn.Kind != yaml.MappingNode {
		return nil, &ConfigError{Line: rn.Line, Reason: prefix + "not a mapping"}
	}
	var r rawRule
	if err := rn.Decode(&r); err != nil {
		return nil, configYAMLError(err, rn.Line, prefix)
	}
	// lineOf is the line of a key's value in the rule (the rule's own line
	// when the key is absent).
	lineOf := func(key string) int {
		for j := 0; j+1 < len(rn.Content); j += 2 {
			if rn.Content[j].Value == key {
				return rn.Content[j+1].Line
			}
		}
		return rn.Line
	}
	cr := CreationRule{PathRegex: r.PathRegex, Rule: r.Rule, Line: rn.Line}
	if r.PathRegex != "" {
		if _, err := regexp.Compile(r.PathRegex); err != nil {
			return nil, &ConfigError{Line: lineOf("path_regex"), Reason: fmt.Sprintf("%sinvalid path_regex: %v", prefix, err)}
		}
	}
	if err := cr.Rule.Validate(); err != nil {
		line := rn.Line
		for _, f := range cr.Rule.fields() {
			if f[1] != "" {
				if _, rerr := regexp.Compile(f[1]); rerr != nil && strings.HasSuffix(f[0], "regex") {
					line = lineOf(f[0])
				}
			}
		}
		return nil, &ConfigError{Line: line, Reason: prefix + err.Error()}
	}
	age, err := keyList(r.Age)
	if err != nil {
		return nil, &ConfigError{Line: lineOf("age"), Reason: fmt.Sprintf("%sage: %v", prefix, err)}
	}
	cr.Age = age
	for _, o := range []struct {
		name string
		v    any
	}{{"pgp", r.PGP}, {"kms", r.KMS}, {"gcp_kms", r.GCPKMS}, {"azure_keyvault", r.AzureKeyVault}, {"hc_vault_transit_uri", r.VaultURI}} {
		if l, _ := keyList(o.v); len(l) > 0 {
			cr.Unsupported = append(cr.Unsupported, o.name)
		}
	}
	if len(r.HCKMS) > 0 {
		cr.Unsupported = append(cr.Unsupported, "hckms")
	}
	switch {
	case len(r.KeyGroups) > 1:
		cr.Unsupported = append(cr.Unsupported, "key_groups (several groups)")
	case len(r.KeyGroups) == 1:
		g := r.KeyGroups[0]
		cr.Age = append(cr.Age, g.Age...)
		if len(g.Other) > 0 {
			cr.Unsupported = append(cr.Unsupported, "non-age keys in key_groups")
		}
	}
	return &cr, nil
}

// Usable reports why the rule cannot be used here, as a *ConfigError naming
// the rule's line: it asks for keys other than age, or has no or invalid
// age recipients. Recipients given otherwise (ownKeys: --age) replace the
// rule's keys, so only its selector is used and none of this matters.
func (r *CreationRule) Usable(ownKeys bool) error {
	if ownKeys {
		return nil
	}
	if len(r.Unsupported) > 0 {
		return &ConfigError{Path: r.ConfigPath, Line: r.Line, Reason: fmt.Sprintf("the creation rule for %s asks for %s keys; only age is supported: use sops for this file (or pass --age)", orAll(r.PathRegex), strings.Join(r.Unsupported, ", "))}
	}
	if len(r.Age) == 0 {
		return &ConfigError{Path: r.ConfigPath, Line: r.Line, Reason: fmt.Sprintf("the creation rule for %s has no age recipient", orAll(r.PathRegex))}
	}
	for _, a := range r.Age {
		if _, err := ParseRecipient(a); err != nil {
			return &ConfigError{Path: r.ConfigPath, Line: r.Line, Reason: fmt.Sprintf("the creation rule for %s: invalid age recipient %q: %v", orAll(r.PathRegex), a, err)}
		}
	}
	return nil
}

func orAll(pathRegex string) string {
	if pathRegex == "" {
		return "every file"
	}
	return fmt.Sprintf("path_regex %q", pathRegex)
}

func keyList(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		var out []string
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case []any:
		var out []string
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("expected a string in the list, got %T", e)
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	default:
		return nil, fmt.Errorf("expected a string or a list, got %T", v)
	}
}

// RuleFor returns the first creation rule whose path_regex matches
// filePath, with sops' semantics: an absolute path inside the config's
// directory is made relative to it; a rule without path_regex matches
// everything. It returns nil, nil when the config has no creation rules.
func (c *Config) RuleFor(filePath string) (*CreationRule, error) {
	if len(c.Rules) == 0 {
		return nil, nil
	}
	// sops makes the file's path absolute (from the working directory)
	// before matching, so `sops -e secret.yaml` inside envs/dev matches a
	// rule for ^envs/dev/ in the repository root's .sops.yaml.
	if c.Path != "" && filePath != "stdin" && !filepath.IsAbs(filePath) {
		if abs, err := filepath.Abs(filePath); err == nil {
			filePath = abs
		}
	}
	if dir, err := filepath.Abs(filepath.Dir(c.Path)); err == nil && c.Path != "" {
		filePath = strings.TrimPrefix(filePath, dir+string(filepath.Separator))
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.PathRegex == "" || regexp.MustCompile(r.PathRegex).MatchString(filePath) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w for %s in %s", ErrNoMatchingRule, filePath, c.Path)
}
