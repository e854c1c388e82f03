package promotion

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlpos"
)

// The keys of each mapping, in the order the documentation lists them.
var (
	pipelineFields    = []string{"apiVersion", "kind", "remote", "branch", "forge", "environments", "applications"}
	forgeFields       = []string{"type", "url", "tokenEnv"}
	environmentFields = []string{"name", "from", "path", "branch", "context", "namespace", "policy", "soak", "requiredChecks"}
	applicationFields = []string{"name", "versions", "health"}
	locationFields    = []string{"file", "kustomizeImage", "helmValues", "helmReleaseChart", "ociRepository", "helmChart", "argoTargetRevision", "setter"}
	healthFields      = []string{"workload", "argocd", "fluxKustomization", "fluxHelmRelease"}
	workloadFields    = []string{"kind", "name", "namespace"}
	objectRefFields   = []string{"name", "namespace"}

	policies      = []string{string(PolicyAuto), string(PolicyPullRequest)}
	forgeTypes    = []string{string(ForgeGitHub), string(ForgeGitLab), string(ForgeGitea), "forgejo"}
	workloadKinds = []string{"Deployment", "StatefulSet", "DaemonSet"}
)

// Parse reads a pipeline file's content; name is used in messages. The file
// is decoded strictly (unknown and repeated fields, wrong types) and
// validated as a whole. The error, if any, is a *ValidationError listing
// every mistake as file:line:column: field: message.
func Parse(name string, data []byte) (*Pipeline, error) {
	root, err := yamlpos.Load(name, data)
	if err != nil {
		var e *FieldError
		errors.As(err, &e)
		return nil, newValidationError([]*FieldError{e})
	}
	p := &parser{Walker: yamlpos.Walker{File: name, Words: words}}
	pl := p.pipeline(root)
	if err := newValidationError(p.Errs); err != nil {
		return nil, err
	}
	return pl, nil
}

// words are the pipeline's messages: an unknown field is given a
// suggestion for a near miss.
var words = yamlpos.Words{
	Unknown: func(_, keyField, key string, known []string) (string, string) {
		if s := suggest(key, known); s != "" {
			return keyField, "unknown field" + s
		}
		return keyField, "unknown field (want one of " + strings.Join(known, ", ") + ")"
	},
}

type parser struct {
	yamlpos.Walker
}

func posOf(n *yaml.Node) Position { return Position(yamlpos.At(n)) }

// str is a non-empty scalar's text ("" after reporting anything else).
func (p *parser) str(n *yaml.Node, field string) string {
	s, ok := p.String(n, field)
	if ok && strings.TrimSpace(s) == "" {
		p.Errorf(n, field, "must not be empty")
		return ""
	}
	return s
}

// boolean is a true or false; ok is false after reporting anything else.
func (p *parser) boolean(n *yaml.Node, field string) (b, ok bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && n.Decode(&b) == nil {
		return b, true
	}
	p.Errorf(n, field, "must be true or false, not %s", yamlpos.Describe(n))
	return false, false
}

// items is a list's elements (aliases resolved), reporting another kind and
// an empty list (what names one element).
func (p *parser) items(n *yaml.Node, field, what string) []*yaml.Node {
	out, ok := p.List(n, field)
	if ok && len(out) == 0 {
		p.Errorf(n, field, "must list at least one %s", what)
	}
	return out
}

func (p *parser) strList(n *yaml.Node, field string) []string {
	if n.Kind == yaml.ScalarNode && !yamlpos.IsNull(n) {
		p.Errorf(n, field, "must be a list of strings, not a single value (write [%s])", n.Value)
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i, item := range p.items(n, field, "string") {
		f := fmt.Sprintf("%s[%d]", field, i)
		s := p.str(item, f)
		if s == "" {
			continue
		}
		if seen[s] {
			p.Errorf(item, f, "%q is listed twice", s)
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// label is a DNS-1123 label (a Kubernetes namespace or a name that appears
// in branch names and commit subjects).
func (p *parser) label(n *yaml.Node, field string) string {
	s := p.str(n, field)
	if s == "" {
		return ""
	}
	if len(validation.IsDNS1123Label(s)) > 0 {
		p.Errorf(n, field, "%q is not a valid name: %s", s, labelRule)
		return ""
	}
	return s
}

const labelRule = "use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"

// dnsLabel and dnsSubdomain check names with short messages.
func dnsLabel(s string) []string {
	if len(validation.IsDNS1123Label(s)) > 0 {
		return []string{labelRule}
	}
	return nil
}

func dnsSubdomain(s string) []string {
	if len(validation.IsDNS1123Subdomain(s)) > 0 {
		return []string{"use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"}
	}
	return nil
}

var windowsAbs = regexp.MustCompile(`^[A-Za-z]:`)

// relPath is a slash-separated path inside the repository, cleaned. A file
// path must name a file, not "." or a directory.
func (p *parser) relPath(n *yaml.Node, field string, file bool) string {
	s := p.str(n, field)
	switch {
	case s == "":
		return ""
	case strings.Contains(s, `\`):
		p.Errorf(n, field, "%q: use forward slashes", s)
	case strings.HasPrefix(s, "/") || windowsAbs.MatchString(s):
		p.Errorf(n, field, "%q must be relative, not absolute", s)
	case slices.Contains(strings.Split(s, "/"), ".."):
		p.Errorf(n, field, "%q must not contain ..", s)
	case file && (path.Clean(s) == "." || strings.HasSuffix(s, "/")):
		p.Errorf(n, field, "%q must name a file", s)
	default:
		return path.Clean(s)
	}
	return ""
}

// branchName checks the rules of git check-ref-format for a branch.
func (p *parser) branchName(n *yaml.Node, field string) string {
	s := p.str(n, field)
	if s == "" {
		return ""
	}
	bad := ""
	switch {
	case strings.HasPrefix(s, "refs/"):
		bad = "give the branch name without refs/heads/"
	case strings.HasPrefix(s, "-"), strings.HasPrefix(s, "/"), strings.HasSuffix(s, "/"),
		strings.HasSuffix(s, "."), strings.HasSuffix(s, ".lock"), s == "@",
		strings.Contains(s, ".."), strings.Contains(s, "//"), strings.Contains(s, "@{"),
		strings.ContainsAny(s, " \t~^:?*[\\"):
		bad = "not a valid Git branch name"
	default:
		for _, seg := range strings.Split(s, "/") {
			if strings.HasPrefix(seg, ".") {
				bad = "not a valid Git branch name"
			}
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f {
				bad = "not a valid Git branch name"
			}
		}
	}
	if bad != "" {
		p.Errorf(n, field, "%q: %s", s, bad)
		return ""
	}
	return s
}

// oneOf is a string that must be one of choices.
func (p *parser) oneOf(n *yaml.Node, field string, choices []string) string {
	s := p.str(n, field)
	if s == "" || slices.Contains(choices, s) {
		return s
	}
	if len(choices) == 1 {
		p.Errorf(n, field, "must be %s, not %q", choices[0], s)
		return ""
	}
	want := strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
	p.Errorf(n, field, "must be %s, not %q%s", want, s, suggest(s, choices))
	return ""
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// template is a string that may hold {env} and {namespace}; valid says what
// the expanded text must be. It records the use of {namespace}.
func (p *parser) template(n *yaml.Node, field string, valid func(string) []string, uses *[]nsUse) string {
	s := p.str(n, field)
	if s == "" {
		return ""
	}
	ok := true
	for _, ph := range placeholder.FindAllString(s, -1) {
		if ph != "{env}" && ph != "{namespace}" {
			p.Errorf(n, field, "unknown placeholder %s%s (want {env} or {namespace})", ph,
				suggest(ph, []string{"{env}", "{namespace}"}))
			ok = false
		}
	}
	rest := placeholder.ReplaceAllString(s, "x")
	if ok && strings.ContainsAny(rest, "{}") {
		p.Errorf(n, field, "%q has an unclosed placeholder (want {env} or {namespace})", s)
		ok = false
	}
	if ok {
		if msgs := valid(rest); len(msgs) > 0 {
			p.Errorf(n, field, "%q is not a valid name: %s", s, strings.Join(msgs, "; "))
			ok = false
		}
	}
	if !ok {
		return ""
	}
	if strings.Contains(s, "{namespace}") {
		*uses = append(*uses, nsUse{node: n, field: field})
	}
	return s
}

// nsUse is a use of {namespace}, which needs a namespace in every environment.
type nsUse struct {
	node  *yaml.Node
	field string
}

type envInfo struct {
	env                                  *Environment
	field                                string
	node, name, from, path, soak, checks *yaml.Node
	hasPathOrBranch                      bool
}

type appInfo struct {
	app   *Application
	field string
	name  *yaml.Node
	uses  []nsUse
}

func (p *parser) pipeline(root *yaml.Node) *Pipeline {
	pl := &Pipeline{File: p.File, Remote: DefaultRemote}
	if root == nil {
		p.Errs = append(p.Errs, &yamlpos.Error{File: p.File, Msg: "the file is empty"})
		return pl
	}
	if yamlpos.IsNull(root) {
		p.Errorf(root, "", "the file is empty")
		return pl
	}
	var envsNode, appsNode *yaml.Node
	have := map[string]bool{}
	ok := p.Mapping(root, "", pipelineFields, func(key string, _, v *yaml.Node) {
		have[key] = true
		switch key {
		case "apiVersion":
			p.oneOf(v, key, []string{APIVersion})
		case "kind":
			p.oneOf(v, key, []string{Kind})
		case "remote":
			if s := p.str(v, key); s != "" {
				if strings.ContainsAny(s, " \t/:") || strings.HasPrefix(s, "-") {
					p.Errorf(v, key, "%q is not a remote name (see git remote)", redactUserinfo(s))
				} else {
					pl.Remote = s
				}
			}
		case "branch":
			pl.Branch = p.branchName(v, key)
		case "forge":
			pl.Forge = p.forge(v, key)
		case "environments":
			envsNode = v
		case "applications":
			appsNode = v
		}
	})
	if !ok {
		return pl
	}
	for _, want := range []struct{ key, hint string }{
		{"apiVersion", "want " + APIVersion},
		{"kind", "want " + Kind},
		{"environments", "the stages versions move through"},
		{"applications", "what moves, and where its version is written"},
	} {
		if !have[want.key] {
			p.Errorf(root, want.key, "missing (%s)", want.hint)
		}
	}
	var envs []envInfo
	if envsNode != nil {
		for i, n := range p.items(envsNode, "environments", "environment") {
			envs = append(envs, p.environment(n, fmt.Sprintf("environments[%d]", i)))
		}
	}
	p.checkEnvironments(envs)
	var apps []appInfo
	if appsNode != nil {
		for i, n := range p.items(appsNode, "applications", "application") {
			apps = append(apps, p.application(n, fmt.Sprintf("applications[%d]", i)))
		}
	}
	p.checkApplications(apps, envs)
	p.checkPaths(envs, apps)
	for _, e := range envs {
		pl.Environments = append(pl.Environments, e.env)
	}
	for _, a := range apps {
		pl.Applications = append(pl.Applications, a.app)
	}
	return pl
}

var (
	envVarName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	tokenVarName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*_TOKEN$`)
	// notForgeTokens end in _TOKEN but hold credentials of something other
	// than a forge.
	notForgeTokens = []string{
		"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "VAULT_TOKEN",
		"ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
		"GOOGLE_OAUTH_ACCESS_TOKEN", "CLOUDSDK_AUTH_ACCESS_TOKEN",
		"NPM_TOKEN", "NODE_AUTH_TOKEN",
		"DIGITALOCEAN_ACCESS_TOKEN", "HCLOUD_TOKEN", "CLOUDFLARE_API_TOKEN",
	}
)

func (p *parser) forge(n *yaml.Node, field string) Forge {
	var f Forge
	p.Mapping(n, field, forgeFields, func(key string, _, v *yaml.Node) {
		fk := yamlpos.Join(field, key)
		switch key {
		case "type":
			f.Type = ForgeType(p.oneOf(v, fk, forgeTypes))
			if f.Type == "forgejo" {
				f.Type = ForgeGitea
			}
		case "url":
			s := p.str(v, fk)
			if s == "" {
				return
			}
			// Never echo the URL: it may carry credentials.
			u, err := url.Parse(s)
			switch {
			case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
				p.Errorf(v, fk, "must be an http:// or https:// URL")
			case u.User != nil:
				p.Errorf(v, fk, "must not contain credentials (name the token's variable in tokenEnv)")
			case u.RawQuery != "" || u.Fragment != "":
				p.Errorf(v, fk, "must not have a query or fragment")
			default:
				f.URL, f.URLPos = strings.TrimSuffix(s, "/"), posOf(v)
			}
		case "tokenEnv":
			s := p.str(v, fk)
			switch {
			case s == "":
				return
			case !envVarName.MatchString(s):
				// Masked: this may be the token itself.
				p.Errorf(v, fk, "%s is not an environment variable name (the token itself never goes in this file)", redact.Quote(s))
				return
			case !tokenVarName.MatchString(s) || slices.Contains(notForgeTokens, s):
				// The file comes from a repository: it may not pick any
				// variable of the user's environment to send to a forge.
				p.Errorf(v, fk, "%s is not a forge token variable: name one in capitals ending in _TOKEN (like GITEA_TOKEN), not a cloud or CI credential", redact.Quote(s))
				return
			}
			f.TokenEnv, f.TokenEnvPos = s, posOf(v)
		}
	})
	return f
}

func (p *parser) environment(n *yaml.Node, field string) envInfo {
	e := &Environment{Pos: posOf(n), Policy: PolicyAuto}
	info := envInfo{env: e, field: field, node: n}
	p.Mapping(n, field, environmentFields, func(key string, k, v *yaml.Node) {
		f := yamlpos.Join(field, key)
		switch key {
		case "name":
			info.name = v
			e.Name = p.label(v, f)
		case "from":
			info.from = v
			e.From = p.str(v, f)
		case "path":
			info.path, info.hasPathOrBranch = v, true
			if p.noEnvPlaceholder(v, f) {
				e.Path = p.relPath(v, f, false)
			}
		case "branch":
			info.hasPathOrBranch = true
			if p.noEnvPlaceholder(v, f) {
				e.Branch = p.branchName(v, f)
			}
		case "context":
			e.Context = p.str(v, f)
		case "namespace":
			e.Namespace = p.label(v, f)
		case "policy":
			if s := p.oneOf(v, f, policies); s != "" {
				e.Policy = Policy(s)
			}
		case "soak":
			info.soak = k
			s := p.str(v, f)
			if s == "" {
				return
			}
			d, err := time.ParseDuration(s)
			switch {
			case err != nil:
				p.Errorf(v, f, "must be a duration such as 10m or 1h30m, not %q", s)
			case d <= 0:
				p.Errorf(v, f, "must be positive, not %q", s)
			default:
				e.Soak = d
			}
		case "requiredChecks":
			info.checks = k
			e.RequiredChecks = p.strList(v, f)
		}
	})
	if yamlpos.Deref(n).Kind != yaml.MappingNode {
		return info
	}
	if info.name == nil {
		p.Errorf(n, field, "missing name")
	}
	if !info.hasPathOrBranch {
		p.Errorf(n, field, "needs path (a directory on the pipeline's branch) or branch (a branch of its own), or both (a directory on its own branch)")
	}
	if e.Path == "" && e.Branch != "" {
		e.Path = "."
	}
	return info
}

func (p *parser) checkEnvironments(envs []envInfo) {
	index := map[string]int{}
	var names []string
	for i, e := range envs {
		if e.env.Name == "" {
			continue
		}
		if j, dup := index[e.env.Name]; dup {
			p.Errorf(e.name, e.field+".name", "%q is already the name of environments[%d]", e.env.Name, j)
			continue
		}
		index[e.env.Name] = i
		names = append(names, e.env.Name)
	}
	for i, e := range envs {
		if i == 0 {
			if e.from != nil {
				p.Errorf(e.from, e.field+".from", "the first environment has no source: versions enter the pipeline here")
				e.env.From = ""
			}
			if e.soak != nil {
				p.Errorf(e.soak, e.field+".soak", "the first environment has no source to soak")
			}
			if e.checks != nil {
				p.Errorf(e.checks, e.field+".requiredChecks", "the first environment has no source commit to check")
			}
			continue
		}
		if e.from == nil {
			e.env.From = envs[i-1].env.Name
			continue
		}
		src := e.env.From
		if src == "" {
			continue
		}
		j, known := index[src]
		switch {
		case !known:
			p.Errorf(e.from, e.field+".from", "unknown environment %q%s", src, suggest(src, names))
		case j == i:
			p.Errorf(e.from, e.field+".from", "an environment cannot promote from itself")
		case j > i:
			p.Errorf(e.from, e.field+".from", "%q comes later in the list: list environments in promotion order (a source before the environments it feeds, so there are no cycles)", src)
		default:
			continue
		}
		e.env.From = ""
	}
}

func (p *parser) application(n *yaml.Node, field string) appInfo {
	a := &Application{Pos: posOf(n)}
	info := appInfo{app: a, field: field}
	hasVersions := false
	p.Mapping(n, field, applicationFields, func(key string, _, v *yaml.Node) {
		f := yamlpos.Join(field, key)
		switch key {
		case "name":
			info.name = v
			a.Name = p.label(v, f)
		case "versions":
			hasVersions = true
			for i, item := range p.items(v, f, "version location") {
				a.Versions = append(a.Versions, p.location(item, fmt.Sprintf("%s[%d]", f, i)))
			}
		case "health":
			a.Health = p.health(v, f, &info.uses)
		}
	})
	if yamlpos.Deref(n).Kind != yaml.MappingNode {
		return info
	}
	if info.name == nil {
		p.Errorf(n, field, "missing name")
	}
	if !hasVersions {
		p.Errorf(n, field, "missing versions (where the version is written in each environment)")
	}
	for i, l := range a.Versions {
		for j := range i {
			if a.Versions[j] == withPos(l, a.Versions[j].Pos) && l.File != "" && l.Kind() != "" {
				p.Errs = append(p.Errs, &yamlpos.Error{File: p.File, Pos: yamlpos.Pos(l.Pos), Field: fmt.Sprintf("%s.versions[%d]", field, i),
					Msg: fmt.Sprintf("repeats versions[%d]", j)})
				break
			}
		}
	}
	return info
}

func withPos(l Location, pos Position) Location {
	l.Pos = pos
	return l
}

func (p *parser) location(n *yaml.Node, field string) Location {
	l := Location{Pos: posOf(n)}
	var kinds []string
	hasFile := false
	ok := p.Mapping(n, field, locationFields, func(key string, _, v *yaml.Node) {
		f := yamlpos.Join(field, key)
		switch key {
		case "file":
			hasFile = true
			if p.filePlaceholders(v, f) {
				l.File = p.relPath(v, f, true)
			}
			return
		}
		if !p.noPlaceholder(v, f) {
			kinds = append(kinds, key)
			return
		}
		switch key {
		case "kustomizeImage":
			l.KustomizeImage = p.imageName(v, f)
		case "helmValues":
			l.HelmValues = p.valuesPath(v, f)
		case "helmReleaseChart", "ociRepository", "helmChart", "argoTargetRevision":
			// false is the same as absent; a wrong value still counts as given.
			b, valid := p.boolean(v, f)
			switch key {
			case "helmReleaseChart":
				l.HelmReleaseChart = b
			case "ociRepository":
				l.OCIRepository = b
			case "helmChart":
				l.HelmChart = b
			default:
				l.ArgoTargetRevision = b
			}
			if valid && !b {
				return
			}
		case "setter":
			l.Setter = p.setter(v, f)
		}
		kinds = append(kinds, key)
	})
	if !ok {
		return l
	}
	if !hasFile {
		p.Errorf(n, field, "missing file (relative to the environment's path)")
	}
	switch len(kinds) {
	case 0:
		p.Errorf(n, field, "needs one of %s", strings.Join(locationFields[1:], ", "))
	case 1:
	default:
		p.Errorf(n, field, "give only one of %s (found %s)", strings.Join(locationFields[1:], ", "), strings.Join(kinds, " and "))
	}
	return l
}

// filePlaceholders checks the placeholders of a versions file: {env} is the
// only one. An unknown or unclosed one is reported at its own column (when
// the file name is a plain or quoted scalar on one line).
func (p *parser) filePlaceholders(n *yaml.Node, field string) bool {
	if n.Kind != yaml.ScalarNode || yamlpos.IsNull(n) {
		return true // str reports it
	}
	s := n.Value
	ok := true
	at := func(i int) *yaml.Node {
		c := *n
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && !strings.ContainsAny(s, "\n\r'\"\\") {
			c.Column = n.Column + utf8.RuneCountInString(s[:i])
			if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
				c.Column++
			}
		}
		return &c
	}
	for _, m := range placeholder.FindAllStringIndex(s, -1) {
		if ph := s[m[0]:m[1]]; ph != EnvPlaceholder {
			p.Errorf(at(m[0]), field, "unknown placeholder %s%s (a versions file may hold only {env}, the environment's name)", ph,
				suggest(ph, []string{EnvPlaceholder}))
			ok = false
		}
	}
	if !ok {
		return false
	}
	// A brace outside every placeholder opens or closes none.
	matches := placeholder.FindAllStringIndex(s, -1)
	for i := 0; i < len(s); i++ {
		if len(matches) > 0 && i == matches[0][0] {
			i, matches = matches[0][1]-1, matches[1:]
			continue
		}
		if s[i] == '{' || s[i] == '}' {
			p.Errorf(at(i), field, "%q has an unclosed placeholder (a versions file may hold only {env})", s)
			return false
		}
	}
	return true
}

// noEnvPlaceholder reports a placeholder in an environment's path or
// branch, which are the environment's own and expand nothing.
func (p *parser) noEnvPlaceholder(n *yaml.Node, field string) bool {
	if n.Kind != yaml.ScalarNode || !placeholder.MatchString(n.Value) {
		return true
	}
	p.Errorf(n, field, "%q: an environment's %s is its own and expands no placeholder (write it out)", n.Value, field[strings.LastIndex(field, ".")+1:])
	return false
}

// noPlaceholder reports a placeholder where none is expanded: in a version
// location, only file may hold {env}.
func (p *parser) noPlaceholder(n *yaml.Node, field string) bool {
	if n.Kind != yaml.ScalarNode || !placeholder.MatchString(n.Value) {
		return true
	}
	p.Errorf(n, field, "%q: placeholders are expanded only in file (as values-{env}.yaml)", n.Value)
	return false
}

func (p *parser) imageName(n *yaml.Node, field string) string {
	s := p.str(n, field)
	last := s[strings.LastIndex(s, "/")+1:]
	switch {
	case s == "":
	case strings.ContainsAny(s, " \t"):
		p.Errorf(n, field, "%q is not an image name", s)
	case strings.Contains(s, "@") || strings.Contains(last, ":"):
		p.Errorf(n, field, "%q must be the image name without a tag or digest (the tag is the version)", s)
	default:
		return s
	}
	return ""
}

func (p *parser) valuesPath(n *yaml.Node, field string) string {
	s := p.str(n, field)
	if s == "" {
		return ""
	}
	if strings.ContainsAny(s, " \t") || slices.Contains(strings.Split(s, "."), "") {
		p.Errorf(n, field, "%q must be a dotted path such as image.tag", s)
		return ""
	}
	return s
}

func (p *parser) setter(n *yaml.Node, field string) string {
	s := p.str(n, field)
	if s == "" {
		return ""
	}
	parts := strings.Split(s, ":")
	if len(parts) == 3 && (parts[2] == "tag" || parts[2] == "name" || parts[2] == "digest") {
		p.Errorf(n, field, "%q: give the image policy as namespace:name; its :%s markers are found from it", s, parts[2])
		return ""
	}
	if len(parts) != 2 || len(validation.IsDNS1123Label(parts[0])) > 0 || len(validation.IsDNS1123Subdomain(parts[1])) > 0 {
		p.Errorf(n, field, "%q must name a Flux image policy as namespace:name", s)
		return ""
	}
	return s
}

func (p *parser) health(n *yaml.Node, field string, uses *[]nsUse) Health {
	var h Health
	var kinds []string
	ok := p.Mapping(n, field, healthFields, func(key string, _, v *yaml.Node) {
		f := yamlpos.Join(field, key)
		kinds = append(kinds, key)
		switch key {
		case "workload":
			h.Workload = p.workload(v, f, uses)
		case "argocd":
			h.ArgoCD = p.objectRef(v, f, uses)
		case "fluxKustomization":
			h.FluxKustomization = p.objectRef(v, f, uses)
		case "fluxHelmRelease":
			h.FluxHelmRelease = p.objectRef(v, f, uses)
		}
	})
	if ok && len(kinds) > 1 {
		p.Errorf(n, field, "give at most one of %s (found %s)", strings.Join(healthFields, ", "), strings.Join(kinds, " and "))
	}
	return h
}

func (p *parser) workload(n *yaml.Node, field string, uses *[]nsUse) *Workload {
	w := &Workload{}
	have := map[string]bool{}
	ok := p.Mapping(n, field, workloadFields, func(key string, _, v *yaml.Node) {
		f := yamlpos.Join(field, key)
		have[key] = true
		switch key {
		case "kind":
			w.Kind = p.oneOf(v, f, workloadKinds)
		case "name":
			w.Name = p.template(v, f, dnsSubdomain, uses)
		case "namespace":
			w.Namespace = p.template(v, f, dnsLabel, uses)
		}
	})
	if ok {
		for _, key := range []string{"kind", "name"} {
			if !have[key] {
				p.Errorf(n, field, "missing %s", key)
			}
		}
	}
	return w
}

func (p *parser) objectRef(n *yaml.Node, field string, uses *[]nsUse) *ObjectRef {
	o := &ObjectRef{}
	hasName := false
	ok := p.Mapping(n, field, objectRefFields, func(key string, _, v *yaml.Node) {
		f := yamlpos.Join(field, key)
		switch key {
		case "name":
			hasName = true
			o.Name = p.template(v, f, dnsSubdomain, uses)
		case "namespace":
			o.Namespace = p.template(v, f, dnsLabel, uses)
		}
	})
	if ok && !hasName {
		p.Errorf(n, field, "missing name")
	}
	return o
}

// checkPaths refuses two environments in one place (a directory of a
// branch), unless every versions file holds {env}: then each environment
// still has files of its own (values-{env}.yaml beside each other).
func (p *parser) checkPaths(envs []envInfo, apps []appInfo) {
	perEnvFiles := len(apps) > 0
	for _, a := range apps {
		for _, l := range a.app.Versions {
			perEnvFiles = perEnvFiles && strings.Contains(l.File, EnvPlaceholder)
		}
	}
	where := map[string]int{}
	for i, e := range envs {
		if e.env.Path == "" {
			continue
		}
		key := e.env.Branch + "\x00" + e.env.Path
		j, dup := where[key]
		if !dup {
			where[key] = i
			continue
		}
		if perEnvFiles {
			continue
		}
		n := e.path
		if n == nil {
			n = e.node
		}
		p.Errorf(n, e.field+".path", "%q is already where environments[%d] (%s) lives (environments share a path only when every versions file holds {env})", e.env.Path, j, envs[j].env.Name)
	}
}

func (p *parser) checkApplications(apps []appInfo, envs []envInfo) {
	index := map[string]int{}
	for i, a := range apps {
		if a.app.Name == "" {
			continue
		}
		if j, dup := index[a.app.Name]; dup {
			p.Errorf(a.name, a.field+".name", "%q is already the name of applications[%d]", a.app.Name, j)
			continue
		}
		index[a.app.Name] = i
	}
	var bare []string
	for _, e := range envs {
		if e.env.Name != "" && e.env.Namespace == "" && !slices.Contains(bare, e.env.Name) {
			bare = append(bare, e.env.Name)
		}
	}
	if len(bare) == 0 {
		return
	}
	for _, a := range apps {
		for _, u := range a.uses {
			if len(bare) == 1 {
				p.Errorf(u.node, u.field, "uses {namespace}, but environment %s sets no namespace", bare[0])
			} else {
				p.Errorf(u.node, u.field, "uses {namespace}, but environments %s set no namespace", strings.Join(bare, ", "))
			}
		}
	}
}

// redactUserinfo removes the user information of a URL-like value (a
// remote URL given where a remote name belongs), so that a token in it is
// never echoed in an error.
func redactUserinfo(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	host, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = "***@" + host[i+1:]
	}
	if path != "" || strings.Contains(rest, "/") {
		return scheme + "://" + host + "/" + path
	}
	return scheme + "://" + host
}
