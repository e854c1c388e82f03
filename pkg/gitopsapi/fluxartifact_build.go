package gitopsapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// BuildGitArtifact writes into dst (an empty directory) the artifact
// source-controller makes of g: the regular files of checkout (the top of
// a checkout of its revision; symbolic links are not archived), the
// artifacts of its includes (includes[i] is the built artifact of
// g.Include[i]) copied from FromPath to ToPath, then every file its ignore
// rules match removed: the .sourceignore files of the tree and spec.ignore,
// or source-controller's default exclusions when there are neither (VCS
// files, images and archives, CI configuration, .sops.yaml…).
func BuildGitArtifact(ctx context.Context, g *GitRepository, checkout string, includes []string, dst string) error {
	if len(includes) != len(g.Include) {
		return fmt.Errorf("building the artifact of GitRepository %s: %d includes built, %d declared", g.ID(), len(includes), len(g.Include))
	}
	if err := copyFiles(ctx, checkout, dst); err != nil {
		return fmt.Errorf("building the artifact of GitRepository %s: %w", g.ID(), err)
	}
	for i, incl := range g.Include {
		if err := copyInclude(ctx, includes[i], incl, dst); err != nil {
			return fmt.Errorf("building the artifact of GitRepository %s: include %s from %q to %q: %w",
				g.ID(), incl.Repo.Name, incl.FromPath, incl.ToPath, err)
		}
	}
	if err := applySourceIgnore(dst, g.Ignore); err != nil {
		return fmt.Errorf("building the artifact of GitRepository %s: %w", g.ID(), err)
	}
	return nil
}

// applySourceIgnore removes from dir the files source-controller leaves
// out of the artifact, matching paths as it does (absolute, split on the
// separator, dir itself the rules' domain).
func applySourceIgnore(dir string, ignore *string) error {
	domain := strings.Split(dir, string(filepath.Separator))
	ps, err := sourceignore.LoadIgnorePatterns(dir, domain)
	if err != nil {
		return fmt.Errorf("loading .sourceignore files: %w", err)
	}
	if ignore != nil {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(*ignore), domain)...)
	}
	var matcher gitignore.Matcher
	if len(ps) > 0 {
		matcher = sourceignore.NewMatcher(append(sourceignore.VCSPatterns(domain), ps...))
	} else {
		matcher = sourceignore.NewDefaultMatcher(nil, domain)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if matcher.Match(strings.Split(p, string(filepath.Separator)), false) {
			return os.Remove(p)
		}
		return nil
	})
}

// copyInclude copies FromPath of the included artifact to ToPath of dst,
// as source-controller moves it there: both kept inside their roots, an
// existing non-empty directory at ToPath an error.
func copyInclude(ctx context.Context, included string, incl GitInclude, dst string) error {
	from := filepath.Join(included, filepath.FromSlash(confined(incl.FromPath)))
	to := filepath.Join(dst, filepath.FromSlash(confined(incl.ToPath)))
	if _, err := os.Stat(from); err != nil {
		return fmt.Errorf("%q does not exist in the included artifact", incl.FromPath)
	}
	if fi, err := os.Stat(to); err == nil {
		if fi.IsDir() {
			entries, err := os.ReadDir(to)
			if err != nil {
				return err
			}
			if len(entries) > 0 {
				return fmt.Errorf("%q already exists", incl.ToPath)
			}
		}
		if err := os.Remove(to); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return copyFiles(ctx, from, to)
}

// confined cleans p as a path that cannot leave its root ("../x" is "x"),
// as Flux's secure joins do.
func confined(p string) string {
	return strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(p)), "/")
}

// copyFiles copies the directories and regular files of src (a file or a
// directory) to dst, leaving out anything else (symbolic links, devices).
func copyFiles(ctx context.Context, src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if d.Name() == ".git" && p != src {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			// Both trees are ours and nothing writes into them once
			// built: a hard link is a copy, made cheaply.
			if os.Link(p, target) == nil {
				return nil
			}
			return copyFile(p, target)
		}
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm()|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// BuildExternalArtifact writes into dst (an empty directory) the tree
// source-watcher builds for art: its copy operations applied in order to
// the artifacts of its sources (sources maps each alias to its built
// artifact), with source-watcher's cp-like rules:
//
//   - "@alias/dir" (no glob) copies the directory as dst/dir, a file to
//     the destination (into it when it ends with "/" or is a directory);
//   - a glob is matched one level per "*" as Go's fs.Glob does ("**" is
//     "*"), and "dir/**" copies what dir holds, not dir itself; every
//     other match keeps its path;
//   - exclude patterns (doublestar) are matched against the path in the
//     source and the path below the pattern's literal prefix, a pattern
//     without "/" against file names at any depth;
//   - the Merge strategy merges a YAML file into an existing one as Helm
//     merges values (maps deep, everything else replaced);
//   - a glob matching nothing, or only excluded files, is an error.
func BuildExternalArtifact(ctx context.Context, art *ExternalArtifact, sources map[string]string, dst string) error {
	stage, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("building ExternalArtifact %s/%s: %w", art.Namespace, art.Name, err)
	}
	defer func() { _ = stage.Close() }()
	for _, op := range art.Copy {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := applyCopy(ctx, op, sources, stage); err != nil {
			return fmt.Errorf("building ExternalArtifact %s/%s (ArtifactGenerator %s): copy from %q to %q: %w",
				art.Namespace, art.Name, art.Generator, op.From, op.To, err)
		}
	}
	return nil
}

// parseCopyFrom splits "@alias/pattern".
func parseCopyFrom(from string) (alias, pattern string, ok bool) {
	rest, ok := strings.CutPrefix(from, "@")
	if !ok {
		return "", "", false
	}
	alias, pattern, ok = strings.Cut(rest, "/")
	return alias, pattern, ok
}

func applyCopy(ctx context.Context, op CopyOperation, sources map[string]string, stage *os.Root) error {
	alias, pattern, ok := parseCopyFrom(op.From)
	if !ok {
		return errors.New("the source must be @<alias>/<pattern>")
	}
	dest, ok := strings.CutPrefix(op.To, "@artifact/")
	if !ok {
		return errors.New("the destination must start with @artifact/")
	}
	dir, ok := sources[alias]
	if !ok {
		return fmt.Errorf("source alias %q not found", alias)
	}
	for _, ex := range op.Exclude {
		if !doublestar.ValidatePattern(ex) {
			return fmt.Errorf("invalid exclude pattern %q", ex)
		}
	}
	src, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	c := copier{ctx: ctx, op: op, src: src, stage: stage}

	if !strings.ContainsAny(pattern, "*?[]") {
		p := filepath.Clean(pattern)
		fi, err := src.Stat(p)
		if err != nil {
			return fmt.Errorf("source %q does not exist", p)
		}
		if fi.IsDir() {
			return c.copyDir(p, filepath.Join(dest, filepath.Base(p)), p)
		}
		if excluded(p, ".", op.Exclude) {
			return nil
		}
		target := dest
		if fi, err := stage.Stat(dest); strings.HasSuffix(op.To, "/") || (err == nil && fi.IsDir()) {
			target = filepath.Join(dest, filepath.Base(p))
		}
		return c.copyFile(p, target)
	}

	matches, err := fs.Glob(src.FS(), pattern)
	if err != nil {
		return fmt.Errorf("invalid glob pattern %q: %w", pattern, err)
	}
	if len(matches) == 0 {
		return fmt.Errorf("no files match pattern %q in source %q", pattern, alias)
	}
	base := literalPrefix(pattern)
	var kept []string
	for _, m := range matches {
		if m != "." && m != ".." && !excluded(m, base, op.Exclude) {
			kept = append(kept, m)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("all files matching pattern %q in source %q were excluded", pattern, alias)
	}
	for _, m := range kept {
		target := filepath.Join(dest, m)
		if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
			if rel, ok := strings.CutPrefix(m, prefix+"/"); ok {
				target = filepath.Join(dest, rel)
			}
		}
		fi, err := src.Stat(m)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			err = c.copyDir(m, target, base)
		} else {
			err = c.copyFile(m, target)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// literalPrefix is the part of a glob before its first glob segment.
func literalPrefix(pattern string) string {
	var parts []string
	for _, part := range strings.Split(filepath.Clean(pattern), "/") {
		if strings.ContainsAny(part, "*?[]") {
			break
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "."
	}
	return filepath.Join(parts...)
}

// excluded says whether p matches an exclude pattern, as a path of the
// source or relative to base.
func excluded(p, base string, patterns []string) bool {
	if matchAny(p, patterns) {
		return true
	}
	base = filepath.Clean(base)
	if base == "." {
		return false
	}
	rel, err := filepath.Rel(base, filepath.Clean(p))
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return false
	}
	return matchAny(rel, patterns)
}

func matchAny(p string, patterns []string) bool {
	for _, pat := range patterns {
		if doublestar.MatchUnvalidated(pat, p) {
			return true
		}
		if !strings.Contains(pat, "/") && doublestar.MatchUnvalidated(pat, filepath.Base(p)) {
			return true
		}
	}
	return false
}

// copier copies between two roots for one operation.
type copier struct {
	ctx   context.Context
	op    CopyOperation
	src   *os.Root
	stage *os.Root
}

func (c copier) copyDir(from, to, base string) error {
	return fs.WalkDir(c.src.FS(), from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := c.ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return c.stage.MkdirAll(to, 0o755)
		}
		if excluded(p, base, c.op.Exclude) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return c.stage.MkdirAll(target, 0o755)
		}
		return c.copyRegular(p, target)
	})
}

// copyFile copies one file, merging it into an existing one with the
// Merge strategy.
func (c copier) copyFile(from, to string) error {
	if c.op.Strategy == "Merge" {
		if _, err := c.stage.Stat(to); err == nil {
			return c.merge(from, to)
		}
	}
	return c.copyRegular(from, to)
}

func (c copier) copyRegular(from, to string) error {
	if d := filepath.Dir(to); d != "." {
		if err := c.stage.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	data, err := c.src.ReadFile(from)
	if err != nil {
		return err
	}
	return c.stage.WriteFile(to, data, 0o644)
}

func (c copier) merge(from, to string) error {
	src, err := loadValues(c.src, from)
	if err != nil {
		return err
	}
	dst, err := loadValues(c.stage, to)
	if err != nil {
		return err
	}
	out, err := sigsyaml.Marshal(mergeValues(dst, src))
	if err != nil {
		return fmt.Errorf("merging %s into %s: %w", from, to, err)
	}
	return c.stage.WriteFile(to, out, 0o644)
}

// loadValues reads every YAML document of a file merged into one map.
func loadValues(root *os.Root, name string) (map[string]any, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	out := map[string]any{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		m := map[string]any{}
		if err := sigsyaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		out = mergeValues(out, m)
	}
}

// mergeValues merges overlay into base as Helm merges values files.
func mergeValues(base, overlay map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range overlay {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(bm, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
