package helmrender

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// Confined checks that the chart in dir (inside root) reads nothing
// outside root when Helm loads, lints or renders it: Helm's loader follows
// symbolic links (a template or a file .Files.Get reads could be any file
// of the machine), and a values.schema.json "$ref" to a file:// or
// http(s):// URL is fetched by the schema validator — a subchart vendored
// in charts/ as an archive included. A repository's chart
// is untrusted input: such a chart is not loaded at all, and the error
// says why (never the content). $refs inside the schema ("#/…") are fine.
func Confined(root, dir string) error {
	var c *Confiner
	return c.Check(root, dir)
}

// maxVerdicts bounds what a Confiner remembers; past it, it starts again.
const maxVerdicts = 4096

// Confiner is Confined with a memory, for a caller that renders the same
// charts again and again (drift watch, at every check, from a fresh
// checkout): the verdict on each values schema is remembered by the
// SHA-256 of its content, and parsing the schema — nearly all of the
// check's cost, a few milliseconds for the schemas of large charts — is
// not done again. Nothing else is remembered: every check walks the chart
// again, resolves every symbolic link again (a link swapped in since is
// refused) and reads every schema again (changed content is another
// digest). The zero value is ready; a nil *Confiner remembers nothing. It
// is safe for concurrent use.
type Confiner struct {
	mu       sync.Mutex
	verdicts map[[sha256.Size]byte]string // by digest: the schema's external $ref, "" for none
	archives map[[sha256.Size]byte]string // by digest: why a vendored chart archive is refused, "" when it is not
	parsed   int                          // schemas parsed, for tests
}

// externalRef is externalRef(data), remembered by data's digest.
func (c *Confiner) externalRef(data []byte) string {
	if c == nil {
		return externalRef(data)
	}
	sum := sha256.Sum256(data)
	c.mu.Lock()
	ref, ok := c.verdicts[sum]
	c.mu.Unlock()
	if ok {
		return ref
	}
	ref = externalRef(data)
	c.mu.Lock()
	if c.verdicts == nil || len(c.verdicts) >= maxVerdicts {
		c.verdicts = map[[sha256.Size]byte]string{}
	}
	c.verdicts[sum] = ref
	c.parsed++
	c.mu.Unlock()
	return ref
}

// archiveVerdict is why the chart archive data may not be loaded
// (checkSchemas), "" when it may, remembered by data's digest; an archive
// Helm cannot load is left to Helm, which reports it.
func (c *Confiner) archiveVerdict(data []byte) string {
	sum := sha256.Sum256(data)
	if c != nil {
		c.mu.Lock()
		msg, ok := c.archives[sum]
		c.mu.Unlock()
		if ok {
			return msg
		}
	}
	msg := ""
	if ch, err := loader.LoadArchive(bytes.NewReader(data)); err == nil {
		if err := c.checkSchemas(ch); err != nil {
			msg = err.Error()
		}
	}
	if c != nil {
		c.mu.Lock()
		if c.archives == nil || len(c.archives) >= maxVerdicts {
			c.archives = map[[sha256.Size]byte]string{}
		}
		c.archives[sum] = msg
		c.mu.Unlock()
	}
	return msg
}

// Check is Confined(root, dir), the verdicts on schemas seen before
// remembered.
func (c *Confiner) Check(root, dir string) error {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(absRoot); err == nil {
		absRoot = real
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	if real, err := filepath.EvalSymlinks(absDir); err == nil {
		seen[real] = true
	}
	return c.walk(absRoot, absDir, "", seen)
}

// walk checks the entries under absDir, naming them prefix+their path in
// it. Helm's loader walks a linked directory too: one inside absRoot is
// walked as well (once: seen holds those walked), its links judged alike.
func (c *Confiner) walk(absRoot, absDir, prefix string, seen map[string]bool) error {
	return filepath.WalkDir(absDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(absDir, p)
		rel = prefix + filepath.ToSlash(rel)
		if d.Type()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("%s is a dangling symbolic link", rel)
			}
			if r, err := filepath.Rel(absRoot, real); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				return fmt.Errorf("%s is a symbolic link that leads out of the repository", rel)
			}
			fi, err := os.Stat(real)
			if err != nil {
				return nil
			}
			if fi.IsDir() {
				if seen[real] {
					return nil
				}
				seen[real] = true
				return c.walk(absRoot, real, rel+"/", seen)
			}
			// A file's link: Helm reads the target under the link's name
			// (a values.schema.json, a charts/*.tgz), checked as that file.
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".tgz") && path.Base(path.Dir(rel)) == "charts" {
			// A subchart vendored as an archive: Helm loads it, and
			// validates values against its schema, unpacked.
			data, err := readBounded(p, rel)
			if err != nil {
				return err
			}
			if msg := c.archiveVerdict(data); msg != "" {
				return fmt.Errorf("%s: %s", rel, msg)
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".schema.json") {
			return nil
		}
		data, err := readBounded(p, rel)
		if err != nil {
			return err
		}
		if ref := c.externalRef(data); ref != "" {
			return fmt.Errorf("%s has a $ref to %s, outside the chart", rel, ref)
		}
		return nil
	})
}

// readBounded reads the file p (rel in the chart), at most what Helm's
// loader reads of a whole chart (archive.MaxDecompressedChartSize): a
// larger one is an error, as it is Helm's, before it is held in memory.
func readBounded(p, rel string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, archive.MaxDecompressedChartSize+1))
	if err == nil && int64(len(data)) > archive.MaxDecompressedChartSize {
		err = fmt.Errorf("%s is larger than a chart Helm loads (%d bytes)", rel, archive.MaxDecompressedChartSize)
	}
	return data, err
}

// externalRef is the first "$ref" of a JSON schema that does not point
// inside the document ("#…"), or "".
func externalRef(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		// Not JSON: helm lint reports it; nothing is fetched.
		return ""
	}
	var find func(v any) string
	find = func(v any) string {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && (k == "$ref" || k == "$dynamicRef" || k == "$schema" && !isMetaSchema(s)) && !strings.HasPrefix(s, "#") {
					return s
				}
				if r := find(c); r != "" {
					return r
				}
			}
		case []any:
			for _, c := range x {
				if r := find(c); r != "" {
					return r
				}
			}
		}
		return ""
	}
	return find(doc)
}

// isMetaSchema says whether a $schema is one of the JSON Schema drafts,
// which the validator knows without fetching them.
func isMetaSchema(s string) bool {
	s = strings.TrimSuffix(strings.TrimSuffix(s, "#"), "/")
	for _, d := range []string{"json-schema.org/draft-04/schema", "json-schema.org/draft-06/schema", "json-schema.org/draft-07/schema",
		"json-schema.org/draft/2019-09/schema", "json-schema.org/draft/2020-12/schema", "json-schema.org/schema"} {
		if strings.HasSuffix(s, d) {
			return true
		}
	}
	return false
}
