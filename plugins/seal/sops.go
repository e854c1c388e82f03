package seal

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/sopsfile"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// sopsFlags are shared by the commands that write SOPS files.
type sopsFlags struct {
	Age               []string
	SopsConfig        string
	EncryptedRegex    string
	UnencryptedRegex  string
	EncryptedSuffix   string
	UnencryptedSuffix string
	// RulePath is the path matched against path_regex (default: -f).
	RulePath string
}

func (f *sopsFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.Age, "age", nil, "SOPS: age recipient (age1…), repeatable or comma-separated; overrides the .sops.yaml rule's recipients")
	fl.StringVar(&f.SopsConfig, "sops-config", "", "SOPS: creation rules file (default: .sops.yaml in the working directory or a parent, as sops looks)")
	fl.StringVar(&f.EncryptedRegex, "encrypted-regex", "", `SOPS: encrypt only leaves under a key matching this regex (Flux: '^(data|stringData)$')`)
	fl.StringVar(&f.UnencryptedRegex, "unencrypted-regex", "", "SOPS: leave leaves under a key matching this regex in clear")
	fl.StringVar(&f.EncryptedSuffix, "encrypted-suffix", "", "SOPS: encrypt only leaves under a key ending with this suffix")
	fl.StringVar(&f.UnencryptedSuffix, "unencrypted-suffix", "", "SOPS: leave leaves under a key ending with this suffix in clear (sops' default: _unencrypted)")
	fl.StringVar(&f.RulePath, "path", "", "SOPS: the file path to match creation rules' path_regex against (default: the -f path; needed for stdin)")
}

func (f *sopsFlags) ruleFromFlags() sopsfile.Rule {
	return sopsfile.Rule{
		EncryptedRegex:    f.EncryptedRegex,
		UnencryptedRegex:  f.UnencryptedRegex,
		EncryptedSuffix:   f.EncryptedSuffix,
		UnencryptedSuffix: f.UnencryptedSuffix,
	}
}

func (f *sopsFlags) ruleFlagsSet() bool {
	return f.EncryptedRegex != "" || f.UnencryptedRegex != "" || f.EncryptedSuffix != "" || f.UnencryptedSuffix != ""
}

// loadRule finds the creation rule for path, as sops does. It returns nil
// when there is no config (or it has no rules).
func (f *sopsFlags) loadRule(path string) (*sopsfile.CreationRule, error) {
	if f.RulePath != "" {
		path = f.RulePath
	}
	cfg := f.SopsConfig
	if cfg == "" {
		var err error
		if cfg, err = sopsfile.FindConfig("."); err != nil || cfg == "" {
			return nil, err
		}
	}
	c, err := sopsfile.LoadConfig(cfg)
	if err != nil {
		return nil, err
	}
	if path == "" || path == "-" {
		path = "stdin"
	}
	r, err := c.RuleFor(path)
	if err != nil {
		if errors.Is(err, sopsfile.ErrNoMatchingRule) && f.RulePath == "" && path == "stdin" {
			return nil, cli.Usagef("%w (for stdin, give the file's path with --path)", err)
		}
		return nil, err
	}
	if r != nil {
		if err := r.Usable(len(f.Age) > 0); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// recipientsAndRule combines flags and the creation rule: flags win.
func (f *sopsFlags) recipientsAndRule(rule *sopsfile.CreationRule) ([]string, sopsfile.Rule, error) {
	var recips []string
	r := sopsfile.Rule{}
	if rule != nil {
		recips, r = rule.Age, rule.Rule
	}
	if len(f.Age) > 0 {
		recips = f.Age
	}
	if f.ruleFlagsSet() {
		r = f.ruleFromFlags()
	}
	if len(recips) == 0 {
		return nil, r, cli.Usagef("no age recipient: pass --age or add a creation rule with age keys to .sops.yaml")
	}
	if err := r.Validate(); err != nil {
		return nil, r, cli.Usagef("%v", err)
	}
	return recips, r, nil
}

func (o *Options) runSOPS() ([]byte, error) {
	in := o.input
	if o.secret != nil {
		var err error
		if in, err = marshal(cli.FormatYAML, o.secret); err != nil {
			return nil, err
		}
	}
	rule := o.sopsRule
	if rule == nil {
		var err error
		var ce *sopsfile.ConfigError
		if rule, err = o.loadRule(o.Filename); err != nil && (len(o.Age) == 0 || errors.As(err, &ce)) {
			// --age makes a missing rule fine, never a broken config.
			return nil, err
		}
	}
	recips, r, err := o.recipientsAndRule(rule)
	if err != nil {
		return nil, err
	}
	if sopsfile.IsEncrypted(in) {
		return nil, cli.Usagef("%s is already SOPS-encrypted (use rotate or updatekeys)", o.Filename)
	}
	src := o.Filename
	if src == "" || src == "-" {
		src = "input"
	}
	notice := func(msg string) { fmt.Fprintf(o.env.Streams.ErrOut, "%s: %s\n", src, msg) }
	out, err := sopsfile.Encrypt(in, sopsfile.EncryptOptions{Recipients: recips, Rule: r, Now: o.now, Notice: notice})
	if err != nil {
		return nil, fmt.Errorf("encrypting %s: %w", o.Filename, err)
	}
	return out, nil
}
