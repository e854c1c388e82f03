package sopsfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

// TestBrokenConfigNamesFileAndLine: a .sops.yaml that cannot be used is a
// *ConfigError naming the file, the line and the reason, never "no rules".
func TestBrokenConfigNamesFileAndLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config string
		line         int
		reason       string
	}{
		{"invalid YAML", "creation_rules:\n  - path_regex: a\n    age: [" + testRecipient + "\n", 2, "invalid YAML"}, // yaml.v3 names the line of the open context,
		{"tab indentation", "creation_rules:\n\t- age: " + testRecipient + "\n", 2, "invalid YAML"},
		{"bad path_regex", "creation_rules:\n  - path_regex: secret\\.yaml$\n    age: " + testRecipient + "\n  - path_regex: '[secrets/'\n    age: " + testRecipient + "\n", 4, "creation rule 2: invalid path_regex"},
		{"bad encrypted_regex", "creation_rules:\n  - path_regex: .*\n    encrypted_regex: ^(data|stringData$\n    age: " + testRecipient + "\n", 3, "creation rule 1: invalid regular expression"},
		{"two selectors", "creation_rules:\n  - encrypted_regex: ^data$\n    unencrypted_suffix: _x\n    age: " + testRecipient + "\n", 2, "only one of"},
		{"misspelt creation_rules", "# rules\ncreation-rules:\n  - age: " + testRecipient + "\n", 2, `unknown key "creation-rules"`},
		{"creation_rules not a list", "creation_rules: " + testRecipient + "\n", 1, "must be a list"},
		{"a rule that is a string", "creation_rules:\n  - " + testRecipient + "\n", 2, "creation rule 1: not a mapping"},
		{"age of the wrong type", "creation_rules:\n  - path_regex: x\n    age: {a: b}\n", 3, "creation rule 1: age"},
		{"a field of the wrong type", "creation_rules:\n  - path_regex: x\n    shamir_threshold: many\n", 3, "creation rule 1: cannot unmarshal"},
		{"not a mapping", "- creation_rules\n", 1, "not a YAML mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), ConfigFileName)
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfig(path)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig = %+v, %v; want a *ConfigError", c, err)
			}
			if ce.Path != path || ce.Line != tc.line || !strings.Contains(ce.Reason, tc.reason) {
				t.Errorf("error at %s:%d %q, want %s:%d with %q", ce.Path, ce.Line, ce.Reason, path, tc.line, tc.reason)
			}
			if want := path + ":" + strconv.Itoa(tc.line) + ": "; !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		})
	}
}

// TestRuleUsable: a rule asking for other keys than age, or without valid
// age recipients, is unusable, naming the rule's line; with --age (ownKeys)
// only its selector is used, and it is usable.
func TestRuleUsable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ConfigFileName)
	cfg := "creation_rules:\n" +
		"  - path_regex: pgp/\n    pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n" +
		"  - path_regex: none/\n    encrypted_regex: ^data$\n" +
		"  - path_regex: bad/\n    age: age1notarecipient\n" +
		"  - age: " + testRecipient + "\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file   string
		line   int // 0: usable
		reason string
	}{
		{"pgp/s.yaml", 2, "asks for pgp keys"},
		{"none/s.yaml", 4, "has no age recipient"},
		{"bad/s.yaml", 6, "invalid age recipient"},
		{"ok/s.yaml", 0, ""},
	} {
		r, err := c.RuleFor(filepath.Join(filepath.Dir(path), tc.file))
		if err != nil {
			t.Fatal(err)
		}
		err = r.Usable(false)
		var ce *ConfigError
		switch {
		case tc.line == 0 && err != nil:
			t.Errorf("%s: %v", tc.file, err)
		case tc.line != 0 && (!errors.As(err, &ce) || ce.Line != tc.line || ce.Path != path || !strings.Contains(ce.Reason, tc.reason)):
			t.Errorf("%s: %v, want line %d with %q", tc.file, err, tc.line, tc.reason)
		}
		if err := r.Usable(true); err != nil {
			t.Errorf("%s with --age: %v", tc.file, err)
		}
	}
}
