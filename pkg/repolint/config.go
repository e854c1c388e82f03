package repolint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Lint configuration file.
const (
	ConfigFile       = ".gitops/lint.yaml"
	ConfigAPIVersion = "gitops.kubectl-gitops.dev/v1alpha1"
	ConfigKind       = "LintConfig"
)

// Config is the repository's lint configuration.
type Config struct {
	// RepoURLs are this repository's URLs: Applications and GitRepositories
	// with another URL point elsewhere and their paths are not checked.
	// Empty: every path is checked against this repository.
	RepoURLs []string `yaml:"repoURLs"`
	// Environments names the environment directories (dev, prod, …) when
	// there is no pipeline file to take them from.
	Environments []string `yaml:"environments"`
	// Exclude drops intended findings.
	Exclude []Exclusion `yaml:"exclude"`
}

// Exclusion drops the findings of Rule that match every field given.
type Exclusion struct {
	Rule string `yaml:"rule"`
	// Path is a glob on the finding's file ("**" crosses directories).
	Path string `yaml:"path"`
	// Subject is the application, image or object the finding is about.
	Subject string `yaml:"subject"`
	// Env is the environment (missing-app).
	Env    string `yaml:"env"`
	Reason string `yaml:"reason"`
	line   int
}

// ParseConfig reads a lint configuration strictly: unknown fields, wrong
// types and exclusions without a rule are errors naming the line.
func ParseConfig(name string, data []byte) (*Config, error) {
	var raw struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Config     `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, decodeError(name, err)
	}
	var errs []error
	if raw.APIVersion != "" && raw.APIVersion != ConfigAPIVersion {
		errs = append(errs, fmt.Errorf("%s: apiVersion must be %s, not %q", name, ConfigAPIVersion, raw.APIVersion))
	}
	if raw.Kind != "" && raw.Kind != ConfigKind {
		errs = append(errs, fmt.Errorf("%s: kind must be %s, not %q", name, ConfigKind, raw.Kind))
	}
	var doc yaml.Node
	_ = yaml.Unmarshal(data, &doc)
	var lines []int
	if len(doc.Content) > 0 {
		for i := 0; i+1 < len(doc.Content[0].Content); i += 2 {
			if doc.Content[0].Content[i].Value == "exclude" {
				for _, it := range doc.Content[0].Content[i+1].Content {
					lines = append(lines, it.Line)
				}
			}
		}
	}
	c := raw.Config
	for i := range c.Exclude {
		if i < len(lines) {
			c.Exclude[i].line = lines[i]
		}
		e := c.Exclude[i]
		if e.Rule == "" {
			errs = append(errs, fmt.Errorf("%s:%d: exclude[%d].rule: required", name, e.line, i))
		} else if !knownRule(e.Rule) {
			errs = append(errs, fmt.Errorf("%s:%d: exclude[%d].rule: unknown rule %q", name, e.line, i, e.Rule))
		}
		if e.Path != "" {
			if _, err := path.Match(strings.ReplaceAll(e.Path, "**", "*"), ""); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: exclude[%d].path: %w", name, e.line, i, err))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

var (
	decodeLineRE    = regexp.MustCompile(`^line (\d+): (.*)$`)
	notFoundFieldRE = regexp.MustCompile(`^field (\S+) not found in type .*$`)
)

// decodeError words a yaml.v3 decoding error as "file:line: problem", one
// line per problem, and an unknown field as such rather than with the Go
// type it is not in.
func decodeError(name string, err error) error {
	var terr *yaml.TypeError
	if !errors.As(err, &terr) {
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	for _, e := range terr.Errors {
		loc, msg := name, e
		if m := decodeLineRE.FindStringSubmatch(e); m != nil {
			loc, msg = name+":"+m[1], m[2]
		}
		if m := notFoundFieldRE.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("unknown field %q", m[1])
		}
		errs = append(errs, fmt.Errorf("%s: %s", loc, msg))
	}
	return errors.Join(errs...)
}

// matches reports whether the exclusion drops f.
func (e Exclusion) matches(f Finding) bool {
	if e.Rule != f.Rule {
		return false
	}
	if e.Subject != "" && e.Subject != f.Subject && e.Subject != path.Base(f.Subject) {
		return false
	}
	if e.Env != "" && e.Env != f.Env {
		return false
	}
	if e.Path != "" && !globMatch(e.Path, f.File) {
		return false
	}
	return true
}

// globMatch matches a slash path against a glob where "**" matches any
// number of directories.
func globMatch(pattern, name string) bool {
	pp := strings.Split(pattern, "/")
	np := strings.Split(name, "/")
	var match func(p, n []string) bool
	match = func(p, n []string) bool {
		for len(p) > 0 {
			if p[0] == "**" {
				for i := 0; i <= len(n); i++ {
					if match(p[1:], n[i:]) {
						return true
					}
				}
				return false
			}
			if len(n) == 0 {
				return false
			}
			if ok, _ := path.Match(p[0], n[0]); !ok {
				return false
			}
			p, n = p[1:], n[1:]
		}
		return len(n) == 0
	}
	return match(pp, np)
}
