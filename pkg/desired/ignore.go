package desired

import (
	"os"
	"path/filepath"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
)

// IgnoreFile is where a repository keeps the ignore rules of its desired
// state, relative to its top directory.
const IgnoreFile = ".gitops/drift-ignore.yaml"

// LoadIgnore returns the ignore rules in force for the repository whose
// top directory is root: the built-in rules when builtin is set, plus the
// rules of file. A file given is read as given and must exist (the user
// named it); "" means root's IgnoreFile when it exists.
func LoadIgnore(root, file string, builtin bool) (*ignore.Set, error) {
	rules := &ignore.Set{}
	if builtin {
		rules = ignore.Builtin()
	}
	if file == "" {
		p := filepath.Join(root, filepath.FromSlash(IgnoreFile))
		if _, err := os.Stat(p); err != nil {
			return rules, nil
		}
		file = p
	}
	fromFile, err := ignore.LoadFile(file)
	if err != nil {
		return nil, err
	}
	return rules.Merge(fromFile), nil
}
