package sopsfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// IdentitySources says where age identities come from, in the order sops
// reads them. Getenv is os.Getenv in production.
type IdentitySources struct {
	// Files are identity files given explicitly (--age-identity).
	Files  []string
	Getenv func(string) string
	// NoDefault skips $XDG_CONFIG_HOME/sops/age/keys.txt.
	NoDefault bool
}

// LoadIdentities returns the age identities from, in order: the explicit
// files, SOPS_AGE_KEY (the keys themselves), SOPS_AGE_KEY_FILE, and the
// default keys file when it exists. Errors never contain key material.
func LoadIdentities(src IdentitySources) ([]age.Identity, error) {
	getenv := src.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var ids []age.Identity
	readFile := func(p string, what string) error {
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading age identities (%s): %w", what, err)
		}
		got, err := age.ParseIdentities(strings.NewReader(string(data)))
		if err != nil {
			return fmt.Errorf("parsing age identities in %s (%s): %w", p, what, err)
		}
		ids = append(ids, got...)
		return nil
	}
	for _, f := range src.Files {
		if err := readFile(f, "identity file"); err != nil {
			return nil, err
		}
	}
	if k := getenv("SOPS_AGE_KEY"); k != "" {
		got, err := age.ParseIdentities(strings.NewReader(k))
		if err != nil {
			return nil, fmt.Errorf("parsing age identities in SOPS_AGE_KEY: %w", err)
		}
		ids = append(ids, got...)
	}
	if f := getenv("SOPS_AGE_KEY_FILE"); f != "" {
		if err := readFile(f, "SOPS_AGE_KEY_FILE"); err != nil {
			return nil, err
		}
	}
	if !src.NoDefault {
		if p := defaultKeysFile(getenv); p != "" {
			if _, err := os.Stat(p); err == nil {
				if err := readFile(p, "default keys file"); err != nil {
					return nil, err
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("reading age identities: %w", err)
			}
		}
	}
	return ids, nil
}

func defaultKeysFile(getenv func(string) string) string {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "sops", "age", "keys.txt")
}
