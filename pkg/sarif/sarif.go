package sarif

import (
	"encoding/json"
	"io"
	"net/url"
	"path"
	"strings"
)

// Version and Schema identify the format in every log.
const (
	Version = "2.1.0"
	Schema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)

// SrcRoot is the uriBaseId of relative artifact locations: the directory
// the tool ran in (the repository, in CI).
const SrcRoot = "%SRCROOT%"

// Levels of a result.
const (
	LevelError   = "error"
	LevelWarning = "warning"
	LevelNote    = "note"
)

// Log is a SARIF log.
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// Run is one run of a tool.
type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
}

// Tool is the tool that ran.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver describes the tool and its rules.
type Driver struct {
	Name           string `json:"name"`
	InformationURI string `json:"informationUri,omitempty"`
	Version        string `json:"version,omitempty"`
	Rules          []Rule `json:"rules"`
}

// Rule is a reportingDescriptor: what one rule checks and how to fix it.
type Rule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     *Message       `json:"shortDescription,omitempty"`
	FullDescription      *Message       `json:"fullDescription,omitempty"`
	Help                 *Message       `json:"help,omitempty"`
	DefaultConfiguration *Configuration `json:"defaultConfiguration,omitempty"`
}

// Configuration is a rule's default configuration.
type Configuration struct {
	Level string `json:"level"`
}

// Message is plain text, with an optional Markdown form.
type Message struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

// Result is one finding.
type Result struct {
	RuleID    string     `json:"ruleId"`
	RuleIndex int        `json:"ruleIndex"`
	Level     string     `json:"level"`
	Message   Message    `json:"message"`
	Locations []Location `json:"locations,omitempty"`
}

// Location is where a result is.
type Location struct {
	PhysicalLocation PhysicalLocation `json:"physicalLocation"`
}

// PhysicalLocation is a file and a region of it.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation is a file: a URI relative to URIBaseID, or absolute.
type ArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// Region is a range of lines (1-based).
type Region struct {
	StartLine int `json:"startLine"`
}

// RuleInfo describes a rule for Build.
type RuleInfo struct {
	ID    string
	Short string // one line: what the rule finds
	Help  string // how to fix it (plain text)
	Level string // default level (LevelError when empty)
}

// Finding is one result for Build.
type Finding struct {
	Rule    string
	Level   string // LevelError when empty
	Message string
	// File is slash-separated: relative to where the tool ran, or
	// absolute. Line is 1-based; 0 when unknown.
	File string
	Line int
}

// Build returns a log of one run of the tool named name (version and
// informationURI may be empty) with the rules and findings given. Results
// keep the order of findings; a finding of a rule not in rules adds that
// rule, described by its id.
func Build(name, version, informationURI string, rules []RuleInfo, findings []Finding) Log {
	d := Driver{Name: name, Version: version, InformationURI: informationURI, Rules: []Rule{}}
	index := map[string]int{}
	addRule := func(r RuleInfo) int {
		if i, ok := index[r.ID]; ok {
			return i
		}
		short := r.Short
		if short == "" {
			short = r.ID
		}
		rule := Rule{ID: r.ID, Name: ruleName(r.ID), ShortDescription: &Message{Text: short},
			DefaultConfiguration: &Configuration{Level: level(r.Level)}}
		if r.Help != "" {
			rule.Help = &Message{Text: r.Help}
		}
		index[r.ID] = len(d.Rules)
		d.Rules = append(d.Rules, rule)
		return index[r.ID]
	}
	for _, r := range rules {
		addRule(r)
	}
	results := []Result{}
	for _, f := range findings {
		res := Result{RuleID: f.Rule, RuleIndex: addRule(RuleInfo{ID: f.Rule, Level: f.Level}), Level: level(f.Level), Message: Message{Text: f.Message}}
		if f.File != "" {
			loc := Location{PhysicalLocation: PhysicalLocation{ArtifactLocation: artifact(f.File)}}
			if f.Line > 0 {
				loc.PhysicalLocation.Region = &Region{StartLine: f.Line}
			}
			res.Locations = []Location{loc}
		}
		results = append(results, res)
	}
	return Log{Schema: Schema, Version: Version, Runs: []Run{{Tool: Tool{Driver: d}, Results: results}}}
}

func level(l string) string {
	if l == "" {
		return LevelError
	}
	return l
}

// ruleName is the rule id in UpperCamelCase, as SARIF viewers show rule
// names: plaintext-secret → PlaintextSecret.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// artifact is the location of a file: relative paths (cleaned, "./"
// dropped) against SrcRoot, absolute ones as file URIs.
func artifact(file string) ArtifactLocation {
	if strings.HasPrefix(file, "/") {
		return ArtifactLocation{URI: (&url.URL{Scheme: "file", Path: path.Clean(file)}).String()}
	}
	return ArtifactLocation{URI: (&url.URL{Path: path.Clean(file)}).String(), URIBaseID: SrcRoot}
}

// Write writes log as indented JSON.
func Write(w io.Writer, log Log) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}
