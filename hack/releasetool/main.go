// Command releasetool packs reproducible release archives and renders the
// krew manifest for hack/release.sh. It exists so the release does not depend
// on the flags of the host's tar, zip, gzip or sha256sum (GNU and BSD differ).
//
//	releasetool pack -o ARCHIVE -mtime EPOCH FILE...
//	    writes a .tar.gz or .zip holding FILEs under their base names, sorted,
//	    with the given modification time, owner 0:0 and mode 0755 for
//	    executables, 0644 otherwise: identical inputs give identical bytes.
//	releasetool manifest -template T -version V -base-url U -o OUT ARCHIVE...
//	    renders the krew manifest template with one platform per archive
//	    (os and arch from the archive name, sha256 and files from its content).
//	releasetool flux -version V -base-url U -o DIR ARCHIVE...
//	    writes the Flux CLI plugin catalog into DIR: gitops.yaml (a
//	    cli.fluxcd.io/v1beta1 Plugin with one platform per flux-gitops_*
//	    archive: url, sha256 checksum and extractPath) and catalog.yaml (the
//	    PluginCatalog `flux plugin search` reads).
//	releasetool checksums FILE...
//	    prints "sha256  name" lines, as sha256sum does.
//
// It imports only the standard library.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "releasetool:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: releasetool pack|manifest|flux|checksums …")
	}
	switch args[0] {
	case "pack":
		return pack(args[1:])
	case "manifest":
		return manifest(args[1:])
	case "flux":
		return flux(args[1:])
	case "checksums":
		return checksums(args[1:], stdout)
	default:
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
}

// zipEpoch is the earliest time a zip (MS-DOS) timestamp can hold.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

type entry struct {
	name string
	mode int64
	data []byte
}

func readEntries(files []string) ([]entry, error) {
	entries := make([]entry, 0, len(files))
	seen := map[string]bool{}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("reading %s: not a regular file", f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		name := filepath.Base(f)
		if seen[name] {
			return nil, fmt.Errorf("two files named %s", name)
		}
		seen[name] = true
		mode := int64(0o644)
		if fi.Mode()&0o111 != 0 {
			mode = 0o755
		}
		entries = append(entries, entry{name: name, mode: mode, data: data})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return entries, nil
}

func pack(args []string) error {
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	out := fs.String("o", "", "archive to write (.tar.gz or .zip)")
	epoch := fs.Int64("mtime", 0, "modification time of every entry, in seconds since 1970")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return errors.New("pack: -o and at least one file are required")
	}
	entries, err := readEntries(fs.Args())
	if err != nil {
		return err
	}
	mtime := time.Unix(*epoch, 0).UTC()
	var buf bytes.Buffer
	switch {
	case strings.HasSuffix(*out, ".tar.gz"):
		err = writeTarGz(&buf, entries, mtime)
	case strings.HasSuffix(*out, ".zip"):
		if mtime.Before(zipEpoch) {
			mtime = zipEpoch
		}
		err = writeZip(&buf, entries, mtime)
	default:
		return fmt.Errorf("pack: %s: want .tar.gz or .zip", *out)
	}
	if err != nil {
		return fmt.Errorf("packing %s: %w", *out, err)
	}
	return os.WriteFile(*out, buf.Bytes(), 0o644)
}

func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	// No name and no time in the gzip header (like gzip -n).
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.name,
			Mode:     e.mode,
			Size:     int64(len(e.data)),
			ModTime:  mtime,
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(os.FileMode(e.mode))
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := f.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// archiveName is <kind>_<version>_<os>_<arch>.<tar.gz|zip>, where kind is
// kubectl-gitops (the per-verb form, for krew and by hand) or flux-gitops (the
// multicall binary alone, for Flux's plugin installer).
var archiveName = regexp.MustCompile(`^(kubectl-gitops|flux-gitops)_(.+)_([a-z0-9]+)_([a-z0-9]+)\.(tar\.gz|zip)$`)

// parseArchiveName splits an archive's base name into kind, os, arch and
// extension.
func parseArchiveName(name string) (kind, goos, goarch, ext string, ok bool) {
	g := archiveName.FindStringSubmatch(name)
	if g == nil {
		return "", "", "", "", false
	}
	return g[1], g[3], g[4], g[5], true
}

// krewSkip are archive entries krew does not install: argocd-gitops is for
// an archive unpacked onto PATH; a krew user links ~/.krew/bin/kubectl-gitops
// as argocd-gitops instead, which survives upgrades (docs/install.md).
var krewSkip = map[string]bool{"argocd-gitops": true, "argocd-gitops.exe": true}

// Platform is one entry of the krew manifest.
type Platform struct {
	OS, Arch string
	URI      string
	SHA256   string
	Bin      string
	Files    []string
}

// Manifest is what the krew manifest template is rendered with.
type Manifest struct {
	Version   string
	Platforms []Platform
}

func manifest(args []string) error {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	tmpl := fs.String("template", "", "krew manifest template")
	version := fs.String("version", "", "plugin version, with a leading v")
	baseURL := fs.String("base-url", "", "URL the archives are published under")
	out := fs.String("o", "", "manifest to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tmpl == "" || *version == "" || *baseURL == "" || *out == "" || fs.NArg() == 0 {
		return errors.New("manifest: -template, -version, -base-url, -o and at least one archive are required")
	}
	t, err := template.New(filepath.Base(*tmpl)).Option("missingkey=error").ParseFiles(*tmpl)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", *tmpl, err)
	}
	m := Manifest{Version: *version}
	for _, a := range fs.Args() {
		p, err := platform(a, strings.TrimSuffix(*baseURL, "/"), "kubectl-gitops")
		if err != nil {
			return err
		}
		p.Files = slices.DeleteFunc(p.Files, func(f string) bool { return krewSkip[f] })
		m.Platforms = append(m.Platforms, p)
	}
	sort.Slice(m.Platforms, func(i, j int) bool {
		return m.Platforms[i].OS+"/"+m.Platforms[i].Arch < m.Platforms[j].OS+"/"+m.Platforms[j].Arch
	})
	var buf bytes.Buffer
	if err := t.Execute(&buf, m); err != nil {
		return fmt.Errorf("rendering %s: %w", *tmpl, err)
	}
	return os.WriteFile(*out, buf.Bytes(), 0o644)
}

// platform describes archive, which must be of the given kind and hold the
// binary named kind (kind.exe on Windows).
func platform(archive, baseURL, wantKind string) (Platform, error) {
	name := filepath.Base(archive)
	kind, goos, goarch, ext, ok := parseArchiveName(name)
	if !ok || kind != wantKind {
		return Platform{}, fmt.Errorf("%s: not named %s_<version>_<os>_<arch>.<tar.gz|zip>", name, wantKind)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		return Platform{}, fmt.Errorf("reading %s: %w", archive, err)
	}
	sum := sha256.Sum256(data)
	p := Platform{OS: goos, Arch: goarch, URI: baseURL + "/" + name, SHA256: hex.EncodeToString(sum[:]), Bin: kind}
	if p.OS == "windows" {
		p.Bin += ".exe"
	}
	if ext == "zip" {
		p.Files, err = zipNames(data)
	} else {
		p.Files, err = tarGzNames(data)
	}
	if err != nil {
		return Platform{}, fmt.Errorf("listing %s: %w", archive, err)
	}
	found := false
	for _, f := range p.Files {
		found = found || f == p.Bin
	}
	if !found {
		return Platform{}, fmt.Errorf("%s lacks %s", name, p.Bin)
	}
	return p, nil
}

func zipNames(data []byte) ([]string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	return names, nil
}

func tarGzNames(data []byte) ([]string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return nil, err
		}
		names = append(names, hdr.Name)
	}
}

func checksums(files []string, w io.Writer) error {
	sorted := append([]string(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return filepath.Base(sorted[i]) < filepath.Base(sorted[j]) })
	for _, f := range sorted {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(w, "%s  %s\n", hex.EncodeToString(sum[:]), filepath.Base(f))
	}
	return nil
}

// The Flux plugin's text fields (cli.fluxcd.io/v1beta1 Plugin and
// PluginCatalog, as the Flux CLI v2.9 reads them: pkg/plugin/types.go of
// github.com/fluxcd/flux2/v2).
const (
	fluxAPIVersion  = "cli.fluxcd.io/v1beta1"
	fluxName        = "gitops"
	fluxBin         = "flux-gitops"
	fluxDescription = "GitOps drift, promotion, tenants and secrets (kubectl-gitops as `flux gitops`)"
	fluxHomepage    = "https://github.com/kubectl-gitops/kubectl-gitops/blob/main/docs/install.md"
	fluxSource      = "https://github.com/kubectl-gitops/kubectl-gitops"
	fluxLicense     = "Apache-2.0"
)

// flux writes the Flux plugin manifest (DIR/gitops.yaml) and catalog
// (DIR/catalog.yaml) for the flux-gitops archives. Flux fetches
// <catalog base>/gitops.yaml, picks versions[0] for the latest, the platform
// for its os/arch, downloads url, compares its sha256 with checksum before
// extracting anything, then extracts extractPath as DIR/flux-gitops.
// Versions are written without the leading v, as Flux's own catalog does
// (`flux plugin install gitops@0.1.0`).
func flux(args []string) error {
	fs := flag.NewFlagSet("flux", flag.ContinueOnError)
	version := fs.String("version", "", "plugin version (a leading v is dropped)")
	baseURL := fs.String("base-url", "", "URL the archives are published under")
	out := fs.String("o", "", "directory to write gitops.yaml and catalog.yaml to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *version == "" || *baseURL == "" || *out == "" || fs.NArg() == 0 {
		return errors.New("flux: -version, -base-url, -o and at least one archive are required")
	}
	var plats []Platform
	for _, a := range fs.Args() {
		p, err := platform(a, strings.TrimSuffix(*baseURL, "/"), fluxBin)
		if err != nil {
			return err
		}
		plats = append(plats, p)
	}
	sort.Slice(plats, func(i, j int) bool { return plats[i].OS+"/"+plats[i].Arch < plats[j].OS+"/"+plats[j].Arch })

	// YAML written by hand (the tool links the standard library only);
	// every string is double-quoted with strconv.Quote, which YAML reads as
	// the same string for the ASCII text written here.
	q := strconv.Quote
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Flux CLI plugin manifest of the kubectl-gitops suite, rendered by hack/release.sh.\n")
	fmt.Fprintf(&b, "apiVersion: %s\nkind: Plugin\nname: %s\ndescription: %s\nhomepage: %s\nsource: %s\nbin: %s\n",
		q(fluxAPIVersion), q(fluxName), q(fluxDescription), q(fluxHomepage), q(fluxSource), q(fluxBin))
	fmt.Fprintf(&b, "versions:\n- version: %s\n  platforms:\n", q(strings.TrimPrefix(*version, "v")))
	for _, p := range plats {
		fmt.Fprintf(&b, "  - os: %s\n    arch: %s\n    url: %s\n    checksum: %s\n    extractPath: %s\n",
			q(p.OS), q(p.Arch), q(p.URI), q("sha256:"+p.SHA256), q(p.Bin))
	}
	var c bytes.Buffer
	fmt.Fprintf(&c, "# Flux CLI plugin catalog (`flux plugin search`) of the kubectl-gitops suite, rendered by hack/release.sh.\n")
	fmt.Fprintf(&c, "apiVersion: %s\nkind: PluginCatalog\nplugins:\n- name: %s\n  description: %s\n  homepage: %s\n  source: %s\n  license: %s\n",
		q(fluxAPIVersion), q(fluxName), q(fluxDescription), q(fluxHomepage), q(fluxSource), q(fluxLicense))
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, fluxName+".yaml"), b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*out, "catalog.yaml"), c.Bytes(), 0o644)
}
