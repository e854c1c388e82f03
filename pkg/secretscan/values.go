package secretscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// secretKeySuffixes are the normalised key names (lower case, without "_",
// "-", "." and spaces) that hold a secret, alone or as a suffix: password,
// dbPassword, DB_PASSWORD, db-password.
var secretKeySuffixes = []string{
	"password", "passwd", "passphrase",
	"secret", // weak: see weakSecretKey
	"token",
	"apikey",
	"clientsecret",
	"privatekey",
	"accesskey", "secretkey",
	"connectionstring",
}

// notSecretKeySuffixes end like a secret key but name an object: a pull or
// TLS Secret's name.
var notSecretKeySuffixes = []string{"pullsecret", "tlssecret"}

func normaliseKey(k string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		}
		return unicode.ToLower(r)
	}, k)
}

// isSecretKey reports whether a key names a secret value. Keys starting with
// "existing" (existingSecret, existingPasswordSecret) name a Secret to read
// the value from, and are never secret keys.
func isSecretKey(k string) bool {
	n := normaliseKey(k)
	if strings.HasPrefix(n, "existing") {
		return false
	}
	for _, s := range notSecretKeySuffixes {
		if strings.HasSuffix(n, s) {
			return false
		}
	}
	for _, s := range secretKeySuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// weakSecretKey: a key ending in "secret" (other than clientSecret) is as
// often the name of a Secret (tlsSecret: app-tls, secret: db-creds) as a
// secret; see objectName.
func weakSecretKey(k string) bool {
	n := normaliseKey(k)
	return strings.HasSuffix(n, "secret") && !strings.HasSuffix(n, "clientsecret")
}

var (
	// placeholderWord: whole values that stand for "fill me in".
	placeholderWord = lazyRegexp(`(?i)^(change[-_ ]?(me|it)|replace[-_ ]?me|set[-_ ]?me|placeholder|redacted|dummy|todo|tbd|fixme|none|null|nil|n/a|~|x+|\*+|\.+|-+|your[-_ ].*)$`)
	// envName: a whole value "$NAME".
	envName = lazyRegexp(`^\$[A-Za-z_][A-Za-z0-9_]*$`)
	// objectName: a Kubernetes object name with a "-" or "." in it.
	objectName = lazyRegexp(`^[a-z0-9]([a-z0-9]*[-.][a-z0-9]+)+$`)
)

// referencePrefixes mark values that refer to a secret kept elsewhere.
var referencePrefixes = []string{
	"vault:", "ref+", "secretref+", "sops:", "ENC[AES256_GCM", "op://",
	"secrets://", "secrets+", "arn:aws:secretsmanager:", "arn:aws:ssm:",
	"file://",
}

// placeholder reports a value that is not a secret: a template or variable
// reference (${...}, {{ ... }}, $(...), $NAME), a <placeholder>, a word
// such as changeme, a reference to a secret store or a file path, or, for a
// weak key, the name of a Secret.
func placeholder(key, v string) bool {
	t := strings.TrimSpace(v)
	switch {
	case t == "":
		return true
	case hasLiteralDefault(t):
		// ${VAR:=literal}: the default is plaintext (see externalReference).
		return false
	case externalReference(t):
		return true
	case strings.Contains(t, "${"), strings.Contains(t, "{{"), strings.Contains(t, "$("), envName().MatchString(t):
		return true
	case strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">"):
		return true
	case placeholderWord().MatchString(t):
		return true
	case weakSecretKey(key) && objectName().MatchString(t):
		return true
	}
	if strings.HasPrefix(t, "/") {
		// An absolute file path (a *_FILE value, a mounted secret).
		return !strings.ContainsAny(t, " \t\n")
	}
	for _, p := range referencePrefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// plaintextScalar reports whether the scalar v of a secret key holds a value
// that looks like a real secret.
func plaintextScalar(key string, v *yaml.Node) bool {
	if v.Kind != yaml.ScalarNode {
		return false
	}
	switch v.ShortTag() {
	case "!!bool", "!!null":
		return false
	}
	if referenceNode(v, false) {
		return false
	}
	return !placeholder(key, v.Value) && !hasCredential(v.Value)
}

// embedded is a Helm values tree inside a Kubernetes object.
type embedded struct {
	path string
	node *yaml.Node
	line func(inner int) int // maps a line of node to a line of the file
}

func sameLine(l int) int { return l }

// embeddedValues returns the Helm values inside an object: a Flux
// HelmRelease's spec.values, an Argo CD Application's (or ApplicationSet
// template's) helm.valuesObject and helm.values (a YAML string), and a
// kustomization's helmCharts[].valuesInline.
func embeddedValues(apiVersion, kind string, kustomization bool, root *yaml.Node) []embedded {
	var out []embedded
	add := func(p string, n *yaml.Node) {
		if n != nil && n.Kind == yaml.MappingNode {
			out = append(out, embedded{p, n, sameLine})
		}
	}
	switch {
	case kustomization:
		_, charts := mapGet(root, "helmCharts")
		if charts != nil && charts.Kind == yaml.SequenceNode {
			for i, c := range charts.Content {
				_, v := mapGet(c, "valuesInline")
				add(fmt.Sprintf("helmCharts[%d].valuesInline", i), v)
			}
		}
	case kind == "HelmRelease" && strings.HasPrefix(apiVersion, "helm.toolkit.fluxcd.io/"):
		_, spec := mapGet(root, "spec")
		_, v := mapGet(spec, "values")
		add("spec.values", v)
	case (kind == "Application" || kind == "ApplicationSet") && strings.HasPrefix(apiVersion, "argoproj.io/"):
		_, spec := mapGet(root, "spec")
		prefix := "spec"
		if kind == "ApplicationSet" {
			_, tmpl := mapGet(spec, "template")
			_, spec = mapGet(tmpl, "spec")
			prefix = "spec.template.spec"
		}
		helm := func(p string, src *yaml.Node) {
			_, h := mapGet(src, "helm")
			_, vo := mapGet(h, "valuesObject")
			add(p+".helm.valuesObject", vo)
			if _, vs := mapGet(h, "values"); vs != nil && vs.Kind == yaml.ScalarNode {
				if e, ok := valuesString(p+".helm.values", vs); ok {
					out = append(out, e)
				}
			}
		}
		_, src := mapGet(spec, "source")
		helm(prefix+".source", src)
		if _, srcs := mapGet(spec, "sources"); srcs != nil && srcs.Kind == yaml.SequenceNode {
			for i, s := range srcs.Content {
				helm(fmt.Sprintf("%s.sources[%d]", prefix, i), s)
			}
		}
	}
	return out
}

// valuesString parses a values file held in a string. Lines map to the
// file's for a block scalar (|); otherwise every finding is on the string's
// line.
func valuesString(p string, n *yaml.Node) (embedded, bool) {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(n.Value)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return embedded{}, false
	}
	line := func(int) int { return n.Line }
	if n.Style&yaml.LiteralStyle != 0 {
		line = func(inner int) int { return n.Line + inner }
	}
	return embedded{p, &doc, line}, true
}

// scanSecretKeys reports secret keys with plaintext scalar values under n
// (Helm values, or YAML that is not a Kubernetes object), and env-var
// entries {name: DB_PASSWORD, value: ...}. Keys are reported as paths
// (auth.password, env[0].value) under prefix.
func (s *Scanner) scanSecretKeys(name, kind, objName string, e embedded) []Finding {
	var out []Finding
	add := func(keyPath, what string, line int) {
		out = append(out, Finding{File: s.show(name), Line: e.line(line), Rule: RuleValuesSecret, Kind: kind, Name: objName, Key: keyPath,
			Message: fmt.Sprintf("%s looks like a plaintext secret: keep it in an encrypted Secret (seal, SOPS) or an ExternalSecret and reference it (existingSecret)", what)})
	}
	var walk func(p string, n *yaml.Node)
	walk = func(p string, n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(p, c)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(p+"["+strconv.Itoa(i)+"]", c)
			}
		case yaml.MappingNode:
			if envName := scalar(n, "name"); envName != "" && isSecretKey(envName) {
				if k, v := mapGet(n, "value"); v != nil && plaintextScalar(envName, v) {
					add(join(p, "value"), fmt.Sprintf("the value of %q (%s)", envName, join(p, "value")), k.Line)
				}
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				kp := join(p, k.Value)
				if v.Kind != yaml.ScalarNode {
					walk(kp, v)
					continue
				}
				if isSecretKey(k.Value) && plaintextScalar(k.Value, v) {
					add(kp, fmt.Sprintf("%q", kp), k.Line)
				}
			}
		}
	}
	walk(e.path, e.node)
	return out
}

func join(p, k string) string {
	if p == "" {
		return k
	}
	return p + "." + k
}
