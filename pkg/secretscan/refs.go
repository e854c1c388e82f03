package secretscan

import (
	"encoding/base64"
	"strings"

	"go.yaml.in/yaml/v3"
)

// External references: a value that names where a secret is kept, for a
// tool that resolves it before (or instead of) applying, is not the secret.
//
//	op://vault/item/field        1Password secret reference (op inject, op run, the operator)
//	ref+backend://...            vals (helmfile, argocd-vals-plugin); secretref+ likewise
//	vault:path#key               bank-vaults webhook
//	<path:path#key>              argocd-vault-plugin
//	${VAR}                       Flux post-build substitution, envsubst
//	!env_var NAME, !ENV, !secret  a YAML tag a loader resolves (ESPHome, pyyaml-env-tag, Home Assistant)
//
// A substitution with a default, ${VAR:=default} (also :-, =, -), is a
// reference only when the default is empty or itself a reference: a literal
// default is written to the cluster whenever the variable is unset, so it is
// plaintext in Git like any other value.

var (
	// varName is the name at the start of a substitution's body.
	varName = lazyRegexp(`^[A-Za-z_][A-Za-z0-9_]*`)
	// opRef: op://vault/item[/section]/field, no whitespace.
	opRef = lazyRegexp(`^op://[^/\s]+/[^/\s]+(/[^/\s]+)+$`)
	// valsRef: ref+backend://..., secretref+backend://...
	valsRef = lazyRegexp(`^(ref|secretref)\+[a-z0-9]+://\S+$`)
	// avpRef: argocd-vault-plugin's <path:...#key>.
	avpRef = lazyRegexp(`^<path:[^<>\s]+>$`)
	// bankVaultsRef: vault:path#key (bank-vaults) without whitespace.
	bankVaultsRef = lazyRegexp(`^vault:[^\s]+$`)
)

// referenceTags are YAML tags whose loader replaces the scalar with a value
// from elsewhere; the scalar is a name, not the secret.
var referenceTags = map[string]bool{"!env_var": true, "!ENV": true, "!env": true, "!secret": true}

// externalReference reports a whole value that refers to a secret kept
// elsewhere (see the table above).
func externalReference(v string) bool {
	t := strings.TrimSpace(v)
	if subs, ok := substitutions(t); ok {
		for _, rest := range subs {
			if literalDefault(rest) {
				return false
			}
		}
		return true
	}
	return opRef().MatchString(t) || valsRef().MatchString(t) || avpRef().MatchString(t) || bankVaultsRef().MatchString(t)
}

// literalDefault reports whether the tail of a ${NAME...} substitution
// carries a literal default value: ":=x", ":-x", "=x" or "-x" with x
// neither empty nor a reference. Other operators (${NAME^}, ${NAME:0:4},
// ${NAME/a/b}) transform the variable and hold no secret of their own.
func literalDefault(rest string) bool {
	for _, op := range []string{":=", ":-", "=", "-"} {
		if d, ok := strings.CutPrefix(rest, op); ok {
			return d != "" && !externalReference(d)
		}
	}
	return false
}

// hasLiteralDefault reports a value made of substitutions of which one has
// a literal default: ${NAME:=literal} (or :-, =, -).
func hasLiteralDefault(v string) bool {
	subs, ok := substitutions(strings.TrimSpace(v))
	if !ok {
		return false
	}
	for _, rest := range subs {
		if literalDefault(rest) {
			return true
		}
	}
	return false
}

// substitutions splits a value made only of ${NAME...} substitutions
// ("${A}", "${A}${B}", "${A:=${B}}") into what follows each NAME; ok is
// false when anything else is in the value ("${USER}hunter2" is not a
// reference: the text between is in clear).
func substitutions(v string) (rests []string, ok bool) {
	for v != "" {
		if !strings.HasPrefix(v, "${") {
			return nil, false
		}
		depth, end := 0, -1
		for i := 0; i < len(v) && end < 0; i++ {
			switch v[i] {
			case '{':
				depth++
			case '}':
				if depth--; depth == 0 {
					end = i
				}
			}
		}
		if end < 0 {
			return nil, false
		}
		body := v[2:end]
		name := varName().FindString(body)
		if name == "" {
			return nil, false
		}
		rests = append(rests, body[len(name):])
		v = v[end+1:]
	}
	return rests, len(rests) > 0
}

// referenceNode reports a scalar that is an external reference: by its tag
// (!env_var NAME) or its value. For a Secret's data, the value is the
// base64-decoded one.
func referenceNode(n *yaml.Node, base64Data bool) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if referenceTags[n.Tag] && n.Value != "" && !strings.ContainsAny(n.Value, " \t\n") {
		return true
	}
	v := n.Value
	if base64Data {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		v = string(b)
	}
	return externalReference(v)
}
