package secretscan

import (
	"bufio"
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// scanSecretGenerator reports a kustomization's secretGenerator literals,
// and the values of the env files (envs, env) and the files (files) it
// reads, unless those are SOPS-encrypted.
func (s *Scanner) scanSecretGenerator(name string, root *yaml.Node) []Finding {
	_, gens := mapGet(root, "secretGenerator")
	if gens == nil || gens.Kind != yaml.SequenceNode {
		return nil
	}
	var out []Finding
	for _, g := range gens.Content {
		gname := scalar(g, "name")
		for _, l := range sequence(g, "literals") {
			key, _, ok := strings.Cut(l.Value, "=")
			msg := fmt.Sprintf("literal %q is plaintext in the kustomization: use SOPS-encrypted files or an ExternalSecret", key)
			if !ok {
				// Without "=" there is no key to name: the whole value
				// may be the secret, so none of it is shown.
				key = ""
				msg = `a literal without "=" (which kustomize refuses) is plaintext in the kustomization: use SOPS-encrypted files or an ExternalSecret`
			}
			out = append(out, Finding{File: s.show(name), Line: l.Line, Rule: RuleSecretGeneratorLiteral, Kind: "secretGenerator", Name: gname, Key: key, Message: msg})
		}
		envs := sequence(g, "envs")
		if _, env := mapGet(g, "env"); env != nil && env.Kind == yaml.ScalarNode {
			envs = append(envs, env)
		}
		for _, e := range envs {
			out = append(out, s.followReference(name, gname, e, e.Value, "", true)...)
		}
		for _, f := range sequence(g, "files") {
			key, p, ok := strings.Cut(f.Value, "=")
			if !ok {
				key, p = path.Base(f.Value), f.Value
			}
			out = append(out, s.followReference(name, gname, f, p, key, false)...)
		}
	}
	return out
}

// sequence returns the scalar items of the list m[key].
func sequence(m *yaml.Node, key string) []*yaml.Node {
	_, l := mapGet(m, key)
	if l == nil || l.Kind != yaml.SequenceNode {
		return nil
	}
	var out []*yaml.Node
	for _, n := range l.Content {
		if n.Kind == yaml.ScalarNode && n.Value != "" {
			out = append(out, n)
		}
	}
	return out
}

// followReference reads the env file or file rel (relative to the
// kustomization name) of the secretGenerator entry ref, and reports its
// plaintext values there, with the entry as their origin. key is the Secret
// key of a file.
func (s *Scanner) followReference(name, gname string, ref *yaml.Node, rel, key string, env bool) []Finding {
	if s.FS == nil {
		return nil
	}
	what := "file"
	if env {
		what = "env file"
	}
	origin := fmt.Sprintf("%s:%d", s.show(name), ref.Line)
	warn := func(rule, msg string) []Finding {
		return []Finding{{File: s.show(name), Line: ref.Line, Rule: rule, Severity: SeverityWarning, Kind: "secretGenerator", Name: gname, Key: key, Message: msg}}
	}
	target := path.Join(path.Dir(name), rel)
	if path.IsAbs(rel) || strings.HasPrefix(rel, `\`) || target == ".." || strings.HasPrefix(target, "../") || !fs.ValidPath(target) {
		return warn(RuleSecretGeneratorOutside, fmt.Sprintf("secretGenerator %q: %s %q is outside the repository: not followed", gname, what, rel))
	}
	if s.Ignored != nil && s.Ignored(target) {
		return nil // never reaches Git
	}
	data, err := fs.ReadFile(s.FS, target)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			missing := "does not exist"
			if s.Where != "" {
				missing = "is not " + s.Where
			}
			return warn(RuleSecretGeneratorMissing, fmt.Sprintf("secretGenerator %q: %s %s %s: not checked", gname, what, s.show(target), missing))
		}
		// A symbolic link out of the repository, a directory, no permission.
		return warn(RuleSecretGeneratorOutside, fmt.Sprintf("secretGenerator %q: %s %s cannot be read inside the repository: not checked", gname, what, s.show(target)))
	}
	if sopsEncrypted(data) {
		return nil
	}
	gen := fmt.Sprintf("secretGenerator %q (%s)", gname, origin)
	if !env {
		if len(bytes.TrimSpace(data)) == 0 || publicPEM(data) {
			return nil
		}
		return []Finding{{File: s.show(target), Line: 1, Rule: RuleSecretGeneratorFile, Kind: "secretGenerator", Name: gname, Key: key, Origin: origin,
			Message: fmt.Sprintf("%s puts %s in plaintext into key %q: encrypt the file with SOPS or use an ExternalSecret", gen, s.show(target), key)}}
	}
	var out []Finding
	for _, kv := range dotenv(data) {
		out = append(out, Finding{File: s.show(target), Line: kv.line, Rule: RuleSecretGeneratorEnv, Kind: "secretGenerator", Name: gname, Key: kv.key, Origin: origin,
			Message: fmt.Sprintf("%s reads %q in plaintext from %s: encrypt the env file with SOPS or use an ExternalSecret", gen, kv.key, s.show(target))})
	}
	return out
}

type envValue struct {
	key  string
	line int
}

// dotenv returns the keys of an env file, as kustomize reads it, that have a
// non-empty value that is not SOPS-encrypted. Blank lines and # comments are
// skipped; a line without "=" takes its value from the environment and is
// not a plaintext value either.
func dotenv(data []byte) []envValue {
	var out []envValue
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if line == 1 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		l = strings.TrimLeftFunc(l, unicode.IsSpace)
		if l == "" || l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || v == `""` || v == "''" || encValue().MatchString(v) {
			continue
		}
		out = append(out, envValue{strings.TrimSpace(k), line})
	}
	return out
}

// sopsEncrypted reports a file encrypted by SOPS: YAML or JSON (including
// SOPS's binary format) with a top-level sops map, a dotenv file with
// sops_mac or sops_version keys, an INI file with a [sops] section.
func sopsEncrypted(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "sops_mac=") || strings.HasPrefix(l, "sops_version=") || l == "[sops]" {
			return true
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return false
	}
	return isSOPS(doc.Content[0])
}

// publicPEM reports a file made only of certificates and public keys (a
// tls.crt or ca.crt next to its key): nothing secret.
func publicPEM(data []byte) bool {
	rest, n := data, 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "PUBLIC KEY", "X509 CRL":
			n++
		default:
			return false
		}
	}
	return n > 0 && len(bytes.TrimSpace(rest)) == 0
}
