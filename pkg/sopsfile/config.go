package sopsfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

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

// LoadConfig reads a .sops.yaml file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading sops config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("sops config %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// ParseConfig parses the content of a .sops.yaml file.
func ParseConfig(data []byte) (*Config, error) {
	var raw struct {
		CreationRules []rawRule `yaml:"creation_rules"`
	}
	d := yaml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&raw); err != nil && len(bytes.TrimSpace(data)) > 0 {
		return nil, fmt.Errorf("parsing: %w", err)
	}
	c := &Config{}
	for i, r := range raw.CreationRules {
		cr := CreationRule{PathRegex: r.PathRegex, Rule: r.Rule}
		if r.PathRegex != "" {
			if _, err := regexp.Compile(r.PathRegex); err != nil {
				return nil, fmt.Errorf("creation rule %d: invalid path_regex: %w", i+1, err)
			}
		}
		if err := cr.Rule.Validate(); err != nil {
			return nil, fmt.Errorf("creation rule %d: %w", i+1, err)
		}
		age, err := keyList(r.Age)
		if err != nil {
			return nil, fmt.Errorf("creation rule %d: age: %w", i+1, err)
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
		c.Rules = append(c.Rules, cr)
	}
	return c, nil
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
