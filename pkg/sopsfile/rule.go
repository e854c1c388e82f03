package sopsfile

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultUnencryptedSuffix is the rule sops applies when none is given.
const DefaultUnencryptedSuffix = "_unencrypted"

// Rule selects which leaves are encrypted. At most one field may be set;
// all empty means UnencryptedSuffix "_unencrypted", as in sops.
type Rule struct {
	UnencryptedSuffix       string `json:"unencrypted_suffix,omitempty" yaml:"unencrypted_suffix,omitempty"`
	EncryptedSuffix         string `json:"encrypted_suffix,omitempty" yaml:"encrypted_suffix,omitempty"`
	UnencryptedRegex        string `json:"unencrypted_regex,omitempty" yaml:"unencrypted_regex,omitempty"`
	EncryptedRegex          string `json:"encrypted_regex,omitempty" yaml:"encrypted_regex,omitempty"`
	UnencryptedCommentRegex string `json:"unencrypted_comment_regex,omitempty" yaml:"unencrypted_comment_regex,omitempty"`
	EncryptedCommentRegex   string `json:"encrypted_comment_regex,omitempty" yaml:"encrypted_comment_regex,omitempty"`
	// MACOnlyEncrypted computes the MAC over encrypted leaves only.
	MACOnlyEncrypted bool `json:"mac_only_encrypted,omitempty" yaml:"mac_only_encrypted,omitempty"`
}

// fields lists the rule's selectors by their metadata names.
func (r Rule) fields() [][2]string {
	return [][2]string{
		{"unencrypted_suffix", r.UnencryptedSuffix},
		{"encrypted_suffix", r.EncryptedSuffix},
		{"unencrypted_regex", r.UnencryptedRegex},
		{"encrypted_regex", r.EncryptedRegex},
		{"unencrypted_comment_regex", r.UnencryptedCommentRegex},
		{"encrypted_comment_regex", r.EncryptedCommentRegex},
	}
}

// Validate checks that at most one selector is set and regexes compile.
func (r Rule) Validate() error {
	var set []string
	for _, f := range r.fields() {
		if f[1] != "" {
			set = append(set, f[0])
		}
	}
	if len(set) > 1 {
		return fmt.Errorf("only one of %s may be set", strings.Join(set, ", "))
	}
	for _, re := range []string{r.UnencryptedRegex, r.EncryptedRegex, r.UnencryptedCommentRegex, r.EncryptedCommentRegex} {
		if re == "" {
			continue
		}
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("invalid regular expression %q: %w", re, err)
		}
	}
	return nil
}

// withDefault returns the rule with the default suffix when none is set.
func (r Rule) withDefault() Rule {
	for _, f := range r.fields() {
		if f[1] != "" {
			return r
		}
	}
	r.UnencryptedSuffix = DefaultUnencryptedSuffix
	return r
}

// compiled is a rule ready to match.
type compiled struct {
	Rule
	unencRE, encRE, unencCommentRE, encCommentRE *regexp.Regexp
}

func (r Rule) compile() (*compiled, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	c := &compiled{Rule: r}
	for _, p := range []struct {
		src string
		dst **regexp.Regexp
	}{{r.UnencryptedRegex, &c.unencRE}, {r.EncryptedRegex, &c.encRE}, {r.UnencryptedCommentRegex, &c.unencCommentRE}, {r.EncryptedCommentRegex, &c.encCommentRE}} {
		if p.src != "" {
			*p.dst = regexp.MustCompile(p.src)
		}
	}
	return c, nil
}

// shouldEncrypt decides for one leaf, as sops does: suffixes and regexes look
// at every component of the key path; comment regexes at the comments
// preceding the leaf at each level.
func (c *compiled) shouldEncrypt(path []string, comments [][]string, isComment bool) bool {
	enc := true
	if c.UnencryptedSuffix != "" {
		for _, p := range path {
			if strings.HasSuffix(p, c.UnencryptedSuffix) {
				enc = false
				break
			}
		}
	}
	if c.EncryptedSuffix != "" {
		enc = false
		for _, p := range path {
			if strings.HasSuffix(p, c.EncryptedSuffix) {
				enc = true
				break
			}
		}
	}
	if c.unencRE != nil {
		for _, p := range path {
			if c.unencRE.MatchString(p) {
				enc = false
				break
			}
		}
	}
	if c.encRE != nil {
		enc = false
		for _, p := range path {
			if c.encRE.MatchString(p) {
				enc = true
				break
			}
		}
	}
	if c.unencCommentRE != nil {
	unenc:
		for _, cs := range comments {
			for _, cm := range cs {
				if c.unencCommentRE.MatchString(cm) {
					enc = false
					break unenc
				}
			}
		}
	}
	if c.encCommentRE != nil {
		enc = false
		last := len(comments) - 1
	encLoop:
		for i, cs := range comments {
			for j, cm := range cs {
				// The comment line that matches is itself left in clear.
				if isComment && i == last && j == len(cs)-1 {
					continue
				}
				if c.encCommentRE.MatchString(cm) {
					enc = true
					break encLoop
				}
			}
		}
	}
	return enc
}
