package repolint

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/repograph"
)

// sweeper collects the secret values of the repository, so that no finding
// repeats one: kustomize's build errors quote a secretGenerator's literals
// ("literal sources [password=…]"), and a malformed literal is quoted whole.
// The values are those of Secrets (in files and built), and those a
// secretGenerator reads: its literals, its env files' values and its files.
func (l *linter) sweeper() *redact.Sweeper {
	s := redact.NewSweeper()
	s.AddText(l.helmSecrets...)
	for _, o := range l.repo.Objects {
		if o.Kind != "Secret" || o.Node == nil {
			continue
		}
		var m map[string]any
		if o.Node.Decode(&m) == nil {
			s.Add(m)
		}
	}
	for _, lo := range l.objs {
		s.Add(lo.obj.Object)
	}
	for _, k := range l.repo.Kustomizations {
		gens := repograph.Lookup(k.Node, "secretGenerator")
		if gens == nil || gens.Kind != yaml.SequenceNode {
			continue
		}
		for _, g := range gens.Content {
			// KEY=VALUE: the value, so that the key stays readable; a
			// malformed entry whole.
			var pairs []string
			pairs = append(pairs, scalars(repograph.Lookup(g, "literals"))...)
			envs := scalars(repograph.Lookup(g, "envs"))
			if env := repograph.Scalar(repograph.Lookup(g, "env")); env != "" {
				envs = append(envs, env) // the older, singular form kustomize still reads
			}
			for _, f := range envs {
				pairs = append(pairs, l.generatorFile(k.Dir, f)...)
			}
			for _, p := range pairs {
				if key, v, ok := strings.Cut(p, "="); ok && key != "" {
					s.AddText(v, strings.Trim(v, `"'`))
				} else {
					s.AddText(p)
				}
			}
			for _, f := range scalars(repograph.Lookup(g, "files")) {
				if _, p, ok := strings.Cut(f, "="); ok {
					f = p // key=path
				}
				if data, err := l.readGeneratorFile(k.Dir, f); err == nil {
					s.AddText(string(data))
				}
			}
		}
	}
	return s
}

// scalars are the scalar values of a sequence node.
func scalars(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []string
	for _, it := range n.Content {
		if it.Kind == yaml.ScalarNode {
			out = append(out, it.Value)
		}
	}
	return out
}

// readGeneratorFile reads a file a generator of the kustomization in dir
// names, only inside the repository.
func (l *linter) readGeneratorFile(dir, name string) ([]byte, error) {
	p, inside := repograph.Resolve(dir, name)
	if path.IsAbs(name) || !inside {
		return nil, os.ErrNotExist
	}
	return l.readFile(p)
}

// generatorFile is the non-empty, non-comment lines of an env file.
func (l *linter) generatorFile(dir, name string) []string {
	data, err := l.readGeneratorFile(dir, name)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}
