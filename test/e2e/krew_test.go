package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// What the release tests stamp, so two runs (and any checkout) agree.
const (
	releaseVersion = "v0.0.0-e2e"
	releaseEpoch   = 1767225600 // 2026-01-01T00:00:00Z
)

// The release archives for this machine, as hack/release.sh names them: the
// per-verb form and the multicall binary for Flux.
var (
	hostArchive     = fmt.Sprintf("kubectl-gitops_%s_%s_%s.tar.gz", releaseVersion, runtime.GOOS, runtime.GOARCH)
	hostFluxArchive = fmt.Sprintf("flux-gitops_%s_%s_%s.tar.gz", releaseVersion, runtime.GOOS, runtime.GOARCH)
)

// krewTools returns the directory holding the real krew and
// validate-krew-manifest built by hack/krew-tools.sh. It skips the test when
// they are not built, unless the environment requires every real part.
func krewTools(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "bash", "../../hack/krew-tools.sh", "env").Output()
	if err != nil {
		t.Fatalf("hack/krew-tools.sh env: %v", err)
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vals[k] = v
		}
	}
	dir := vals["KUBECTL_GITOPS_KREW_BIN"]
	if vals["KUBECTL_GITOPS_KREW_BIN_READY"] != "1" {
		msg := "krew v0.4.3 is not built in " + dir + " (run 'make krew-tools' or 'hack/krew-tools.sh build')"
		if os.Getenv(controlplane.EnvRequire) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// release runs hack/release.sh for this machine's platform into a fresh
// directory and returns it.
func release(t *testing.T) string {
	t.Helper()
	return releaseAt(t, releaseVersion, "") // the default GitHub releases URL
}

// releaseAt runs hack/release.sh for version, with archive URIs under baseURL.
func releaseAt(t *testing.T, version, baseURL string) string {
	t.Helper()
	dist := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "bash", "../../hack/release.sh", "--host")
	cmd.Env = append(os.Environ(),
		"DIST="+dist,
		"VERSION="+version,
		"COMMIT=0123456789abcdef0123456789abcdef01234567",
		"DATE=2026-01-01T00:00:00Z",
		fmt.Sprintf("SOURCE_DATE_EPOCH=%d", releaseEpoch),
		"RELEASE_BASE_URL="+baseURL,
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/release.sh: %v\n%s", err, out)
	}
	return dist
}

// runIn runs name with args and exactly the PATH given (no system
// directories), KUBECONFIG set to the test control plane's and extra env.
func runIn(t *testing.T, cp *controlplane.ControlPlane, pathDirs []string, extra []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "KUBECONFIG", "HOME", "KREW_ROOT", "KUBECTL_PLUGINS_PATH":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env,
		"PATH="+strings.Join(pathDirs, string(os.PathListSeparator)),
		"KUBECONFIG="+cp.Kubeconfig,
		"HOME="+t.TempDir(),
		"NO_COLOR=1",
	)
	cmd.Env = append(cmd.Env, extra...)
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestRelease runs hack/release.sh for this platform and checks what it
// made: reproducible, installable by the real krew, in step with the
// krew-release-bot template, and its argocd-gitops run by the real argocd
// CLI. The subtests share the first run.
func TestRelease(t *testing.T) {
	dist := release(t)
	t.Run("reproducible", func(t *testing.T) { testReproducible(t, dist) })
	t.Run("krew install", func(t *testing.T) { testKrewInstall(t, dist) })
	t.Run("krew-release-bot template", func(t *testing.T) { testKrewReleaseBotTemplate(t, dist) })
	t.Run("krew custom index and upgrade", func(t *testing.T) { testKrewCustomIndex(t, dist) })
	t.Run("argocd plugin", func(t *testing.T) { testArgoCDPlugin(t, dist) })
}

// The whole krew path a user takes, offline: validate the rendered manifest
// with krew's own validator, install from the local archive into a fresh
// KREW_ROOT, use the suite through kubectl's plugin lookup with nothing but
// krew's bin directory (and kubectl's) on PATH, then uninstall.
func testKrewInstall(t *testing.T, dist string) {
	tools := krewTools(t)
	cp := controlplane.ForTest(t)
	manifest := filepath.Join(dist, "krew", "gitops.yaml")
	archive := filepath.Join(dist, hostArchive)

	// krew's own validation (structure, semver, selectors, bin in files).
	out, err := exec.CommandContext(t.Context(), filepath.Join(tools, "validate-krew-manifest"),
		"-manifest", manifest, "-skip-install").CombinedOutput()
	if err != nil {
		t.Fatalf("validate-krew-manifest: %v\n%s", err, out)
	}

	// A krew root with an empty default index, so list and uninstall work
	// offline; krew itself linked as kubectl-krew.
	krewRoot := t.TempDir()
	indexDir := filepath.Join(krewRoot, "index", "default")
	if err := os.MkdirAll(indexDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), "git", "init", "-q", indexDir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	krewLink := t.TempDir()
	if err := os.Symlink(filepath.Join(tools, "krew"), filepath.Join(krewLink, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}
	krewBin := filepath.Join(krewRoot, "bin")
	kubectlDir := cp.Paths.BinDir
	krewEnv := []string{"KREW_ROOT=" + krewRoot, "KREW_NO_UPGRADE_CHECK=1"}
	krewPath := []string{krewLink, krewBin, kubectlDir, "/usr/bin", "/bin"}
	k := kubectl(cp)

	r := runIn(t, cp, krewPath, krewEnv, k, "krew", "install", "--manifest="+manifest, "--archive="+archive)
	if r.code != 0 {
		t.Fatalf("krew install: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	// The caveats are shown on install.
	if !strings.Contains(r.stdout+r.stderr, "kubectl_complete-gitops") {
		t.Errorf("krew install did not show the completion caveat:\n%s%s", r.stdout, r.stderr)
	}
	store := filepath.Join(krewRoot, "store", "gitops", releaseVersion)
	for _, f := range []string{"kubectl-gitops", "kubectl-gitops-drift", "kubectl-gitops-promote",
		"kubectl-gitops-tenant", "kubectl-gitops-seal", "kubectl-gitops-repo", "kubectl_complete-gitops", "LICENSE", "README.md"} {
		if _, err := os.Stat(filepath.Join(store, f)); err != nil {
			t.Errorf("store lacks %s: %v", f, err)
		}
	}
	linked, err := os.ReadDir(krewBin)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range linked {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"kubectl-gitops"}) {
		t.Errorf("krew linked %v, want only kubectl-gitops", names)
	}

	// From here on: only krew's bin directory and kubectl's.
	path := []string{krewBin, kubectlDir}
	r = runIn(t, cp, path, nil, k, "gitops", "drift", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage:\n  kubectl gitops drift (-f FILENAME") {
		t.Errorf("kubectl gitops drift --help: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runIn(t, cp, path, nil, k, "gitops")
	for _, verb := range []string{"drift ", "promote ", "repo ", "seal ", "tenant "} {
		if !strings.Contains(r.stdout, verb) {
			t.Errorf("kubectl gitops does not list %q from the store:\n%s", verb, r.stdout)
		}
	}
	r = runIn(t, cp, path, nil, k, "gitops", "version", "-o", "json")
	var rep version.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
		t.Fatalf("kubectl gitops version -o json: exit %d, %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	if rep.ClientVersion.Version != releaseVersion || rep.ClientVersion.BuildDate != "2026-01-01T00:00:00Z" ||
		rep.ClientVersion.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version not stamped by the release: %+v", rep.ClientVersion)
	}

	// A real drift against the control plane, through the dispatcher in the store.
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(app, []byte(`apiVersion: v1
kind: Namespace
metadata: {name: krew-install}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: krew-install}
data: {mode: production}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runIn(t, cp, path, nil, k, "apply", "--server-side", "-f", app); r.code != 0 {
		t.Fatalf("apply: %s", r.stderr)
	}
	if r := runIn(t, cp, path, nil, k, "gitops", "drift", "-f", app); r.code != 0 {
		t.Errorf("drift in sync: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r := runIn(t, cp, path, nil, k, "patch", "-n", "krew-install", "configmap/settings", "-p", `{"data":{"mode":"debug"}}`); r.code != 0 {
		t.Fatalf("patch: %s", r.stderr)
	}
	r = runIn(t, cp, path, nil, k, "gitops", "drift", "-f", app)
	if r.code != 1 || !strings.Contains(r.stdout, "ConfigMap krew-install/settings: modified") {
		t.Errorf("drift: exit %d, want 1 and the modified ConfigMap\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	// kubectl's plugin completion through the shipped helper, linked onto
	// PATH as the caveats say.
	compDir := t.TempDir()
	if err := os.Symlink(filepath.Join(store, "kubectl_complete-gitops"), filepath.Join(compDir, "kubectl_complete-gitops")); err != nil {
		t.Fatal(err)
	}
	cpath := []string{krewBin, kubectlDir, compDir}
	r = runIn(t, cp, cpath, nil, k, "__complete", "gitops", "dr")
	if !strings.Contains(r.stdout, "drift\t") {
		t.Errorf("kubectl __complete gitops dr: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runIn(t, cp, cpath, nil, k, "__complete", "gitops", "drift", "--context", "")
	if !strings.Contains(r.stdout, controlplane.ContextName+"\n") {
		t.Errorf("kubectl __complete gitops drift --context: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	// Uninstall leaves nothing behind.
	r = runIn(t, cp, krewPath, krewEnv, k, "krew", "uninstall", "gitops")
	if r.code != 0 {
		t.Fatalf("krew uninstall: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	for _, p := range []string{filepath.Join(krewRoot, "store", "gitops"), filepath.Join(krewBin, "kubectl-gitops"),
		filepath.Join(krewRoot, "receipts", "gitops.yaml")} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after uninstall (%v)", p, err)
		}
	}
	r = runIn(t, cp, krewPath, krewEnv, k, "krew", "list")
	if r.code != 0 || strings.Contains(r.stdout, "gitops") {
		t.Errorf("krew list after uninstall: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r := runIn(t, cp, path, nil, k, "gitops", "--help"); r.code == 0 {
		t.Errorf("kubectl gitops still runs after uninstall:\n%s", r.stdout)
	}
}

// A second release run gives byte-identical archives, checksums and
// manifest, and the archive is laid out as documented: sorted, flat, owner
// 0:0, the fixed mtime, executables 0755.
func testReproducible(t *testing.T, first string) {
	second := release(t)
	var files []string
	err := filepath.WalkDir(first, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(first, p)
		files = append(files, rel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"checksums.txt", hostArchive, hostFluxArchive, filepath.Join("krew", "gitops.yaml"),
		filepath.Join("flux", "gitops.yaml"), filepath.Join("flux", "catalog.yaml")}
	slices.Sort(want)
	slices.Sort(files)
	if !slices.Equal(files, want) {
		t.Fatalf("release wrote %v, want %v", files, want)
	}
	for _, f := range files {
		a, b := sha256File(t, filepath.Join(first, f)), sha256File(t, filepath.Join(second, f))
		if a != b {
			t.Errorf("%s differs between two runs: %s vs %s", f, a, b)
		}
	}
	sums, err := os.ReadFile(filepath.Join(first, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256File(t, filepath.Join(first, hostFluxArchive)) + "  " + hostFluxArchive + "\n" +
		sha256File(t, filepath.Join(first, hostArchive)) + "  " + hostArchive + "\n"; string(sums) != want {
		t.Errorf("checksums.txt = %q, want %q", sums, want)
	}

	type entry struct {
		Name     string
		Mode     int64
		UID, GID int
		Uname    string
		ModTime  time.Time
	}
	epoch := time.Unix(releaseEpoch, 0).UTC()
	entries := func(archive string, executables ...string) {
		t.Helper()
		f, err := os.Open(filepath.Join(first, archive))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("%s: gzip header carries name %q / time %v", archive, zr.Name, zr.ModTime)
		}
		var got []entry
		tr := tar.NewReader(zr)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, entry{hdr.Name, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Uname, hdr.ModTime.UTC()})
		}
		var want []entry
		for _, n := range []string{"LICENSE", "README.md"} {
			want = append(want, entry{Name: n, Mode: 0o644, ModTime: epoch})
		}
		for _, n := range executables {
			want = append(want, entry{Name: n, Mode: 0o755, ModTime: epoch})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s entries (-want +got):\n%s", archive, diff)
		}
	}
	entries(hostArchive, "argocd-gitops", "kubectl-gitops", "kubectl-gitops-drift", "kubectl-gitops-promote", "kubectl-gitops-repo", "kubectl-gitops-seal",
		"kubectl-gitops-tenant", "kubectl_complete-gitops", "kubectl_complete-gitops-drift", "kubectl_complete-gitops-promote",
		"kubectl_complete-gitops-repo", "kubectl_complete-gitops-seal", "kubectl_complete-gitops-tenant")
	entries(hostFluxArchive, "flux-gitops")
}

// krew/.krew.yaml, rendered as krew-release-bot renders it, is a valid
// manifest that agrees with what hack/release.sh renders from
// krew/gitops.yaml.tmpl: same text, and for this platform the same uri,
// sha256, bin and files.
func testKrewReleaseBotTemplate(t *testing.T, dist string) {
	tools := krewTools(t)
	funcs := template.FuncMap{
		// As the bot does, but the archive comes from dist instead of a download.
		"addURIAndSha": func(url, tag string) (string, error) {
			var b strings.Builder
			ut, err := template.New("url").Parse(url)
			if err != nil {
				return "", err
			}
			if err := ut.Execute(&b, struct{ TagName string }{tag}); err != nil {
				return "", err
			}
			uri := b.String()
			sum := sha256.Sum256([]byte(uri)) // a placeholder for archives not built here
			sha := hex.EncodeToString(sum[:])
			if local := filepath.Join(dist, path.Base(uri)); fileExists(local) {
				sha = sha256File(t, local)
			}
			return fmt.Sprintf("uri: %s\n    sha256: %s", uri, sha), nil
		},
	}
	bt, err := template.New(".krew.yaml").Funcs(funcs).ParseFiles("../../krew/.krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rendered bytes.Buffer
	if err := bt.Execute(&rendered, struct{ TagName string }{releaseVersion}); err != nil {
		t.Fatal(err)
	}
	botManifest := filepath.Join(t.TempDir(), "gitops.yaml")
	if err := os.WriteFile(botManifest, rendered.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), filepath.Join(tools, "validate-krew-manifest"),
		"-manifest", botManifest, "-skip-install").CombinedOutput()
	if err != nil {
		t.Fatalf("validate-krew-manifest on the rendered bot template: %v\n%s", err, out)
	}

	type platform struct {
		Selector map[string]any `json:"selector"`
		URI      string         `json:"uri"`
		SHA256   string         `json:"sha256"`
		Bin      string         `json:"bin"`
		Files    []any          `json:"files"`
	}
	type plugin struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       struct {
			Version          string     `json:"version"`
			Homepage         string     `json:"homepage"`
			ShortDescription string     `json:"shortDescription"`
			Description      string     `json:"description"`
			Caveats          string     `json:"caveats"`
			Platforms        []platform `json:"platforms"`
		} `json:"spec"`
	}
	load := func(data []byte) plugin {
		var p plugin
		if err := yaml.UnmarshalStrict(data, &p); err != nil {
			t.Fatalf("parsing manifest: %v\n%s", err, data)
		}
		return p
	}
	relData, err := os.ReadFile(filepath.Join(dist, "krew", "gitops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bot, rel := load(rendered.Bytes()), load(relData)
	host := map[string]any{"matchLabels": map[string]any{"os": runtime.GOOS, "arch": runtime.GOARCH}}
	pick := func(ps []platform) []platform {
		var out []platform
		for _, p := range ps {
			if cmp.Equal(p.Selector, host) {
				out = append(out, p)
			}
		}
		return out
	}
	botHost, relHost := pick(bot.Spec.Platforms), pick(rel.Spec.Platforms)
	if len(botHost) != 1 || len(relHost) != 1 {
		t.Fatalf("platform entries for %s/%s: %d in the bot template, %d in the release manifest", runtime.GOOS, runtime.GOARCH, len(botHost), len(relHost))
	}
	if diff := cmp.Diff(relHost, botHost); diff != "" {
		t.Errorf("platform entry (-release +bot template):\n%s", diff)
	}
	if len(bot.Spec.Platforms) != 6 {
		t.Errorf("bot template has %d platforms, want 6 (linux, darwin, windows × amd64, arm64)", len(bot.Spec.Platforms))
	}
	bot.Spec.Platforms, rel.Spec.Platforms = nil, nil
	if diff := cmp.Diff(rel, bot); diff != "" {
		t.Errorf("manifest text (-release +bot template):\n%s", diff)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// With a PATH install (every binary and the completion helpers on PATH, as
// the archive and `make install` lay them out), kubectl runs
// kubectl-gitops-drift itself and asks kubectl_complete-gitops-drift.
func TestCompletionHelpersOnPath(t *testing.T) {
	cp := controlplane.ForTest(t)
	helpers, err := filepath.Abs("../../krew/completion")
	if err != nil {
		t.Fatal(err)
	}
	path := []string{binDir, helpers, cp.Paths.BinDir}
	r := runIn(t, cp, path, nil, kubectl(cp), "__complete", "gitops", "drift", "--context", "")
	if !strings.Contains(r.stdout, controlplane.ContextName+"\n") || !strings.Contains(r.stderr, "kubectl_complete-gitops-drift") {
		t.Errorf("kubectl __complete gitops drift --context: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runIn(t, cp, path, nil, kubectl(cp), "__complete", "gitops", "seal", "--conte")
	if !strings.Contains(r.stdout, "--context") {
		t.Errorf("kubectl __complete gitops seal --conte: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// git runs git in dir with a fixed identity.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", append([]string{"-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid",
		"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// What a user of a custom index does (docs/install.md): add the index, install
// from it, upgrade when the index gets a new version, uninstall. The index is
// a local Git repository and the archives are served over HTTP from the
// release directories, so krew downloads and verifies them as it would from
// GitHub.
func testKrewCustomIndex(t *testing.T, dist string) {
	tools := krewTools(t)
	cp := controlplane.ForTest(t)
	const newVersion = "v0.0.1-e2e"
	dists := map[string]string{releaseVersion: dist}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		version, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		dir, ok := dists[version]
		if !ok || strings.ContainsAny(name, "/\\") {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(dir, name))
	}))
	defer srv.Close()
	// The first version's manifest, re-rendered for the local server from
	// the same archive; the second version is a release of its own.
	tool := filepath.Join(t.TempDir(), "releasetool")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", tool, "../../hack/releasetool").CombinedOutput(); err != nil {
		t.Fatalf("building releasetool: %v\n%s", err, out)
	}
	oldManifest := filepath.Join(t.TempDir(), "gitops.yaml")
	if out, err := exec.CommandContext(t.Context(), tool, "manifest", "-template", "../../krew/gitops.yaml.tmpl",
		"-version", releaseVersion, "-base-url", srv.URL+"/"+releaseVersion, "-o", oldManifest,
		filepath.Join(dist, hostArchive)).CombinedOutput(); err != nil {
		t.Fatalf("releasetool manifest: %v\n%s", err, out)
	}
	newDist := releaseAt(t, newVersion, srv.URL+"/"+newVersion)
	dists[newVersion] = newDist

	// The custom index, and a stand-in for the central index (krew updates
	// every index before an upgrade, so it must be fetchable too).
	index, central := t.TempDir(), t.TempDir()
	git(t, central, "init", "-q")
	git(t, central, "commit", "-q", "--allow-empty", "-m", "empty index")
	git(t, index, "init", "-q")
	if err := os.MkdirAll(filepath.Join(index, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, oldManifest, filepath.Join(index, "plugins", "gitops.yaml"))
	git(t, index, "add", "plugins/gitops.yaml")
	git(t, index, "commit", "-q", "-m", "gitops "+releaseVersion)

	krewRoot := t.TempDir()
	if err := os.MkdirAll(filepath.Join(krewRoot, "index"), 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, filepath.Join(krewRoot, "index"), "clone", "-q", central, "default")
	krewLink := t.TempDir()
	if err := os.Symlink(filepath.Join(tools, "krew"), filepath.Join(krewLink, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}
	krewBin := filepath.Join(krewRoot, "bin")
	env := []string{"KREW_ROOT=" + krewRoot, "KREW_NO_UPGRADE_CHECK=1"}
	krewPath := []string{krewLink, krewBin, cp.Paths.BinDir, "/usr/bin", "/bin"}
	path := []string{krewBin, cp.Paths.BinDir}
	k := kubectl(cp)
	krew := func(args ...string) {
		t.Helper()
		if r := runIn(t, cp, krewPath, env, k, append([]string{"krew"}, args...)...); r.code != 0 {
			t.Fatalf("kubectl krew %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
		}
	}
	installedVersion := func() string {
		t.Helper()
		r := runIn(t, cp, path, nil, k, "gitops", "version", "-o", "json")
		var rep version.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); r.code != 0 || err != nil {
			t.Fatalf("kubectl gitops version -o json: exit %d, %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
		}
		return rep.ClientVersion.Version
	}

	krew("index", "add", "e2e", index)
	krew("install", "e2e/gitops")
	if v := installedVersion(); v != releaseVersion {
		t.Errorf("installed version %s, want %s", v, releaseVersion)
	}

	copyFile(t, filepath.Join(newDist, "krew", "gitops.yaml"), filepath.Join(index, "plugins", "gitops.yaml"))
	git(t, index, "commit", "-q", "-am", "gitops "+newVersion)
	krew("upgrade", "gitops")
	if v := installedVersion(); v != newVersion {
		t.Errorf("version after upgrade %s, want %s", v, newVersion)
	}
	if _, err := os.Stat(filepath.Join(krewRoot, "store", "gitops", releaseVersion)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old version still in the store after upgrade (%v)", err)
	}
	if r := runIn(t, cp, path, nil, k, "gitops", "drift", "--help"); r.code != 0 {
		t.Errorf("kubectl gitops drift --help after upgrade: exit %d\n%s", r.code, r.stderr)
	}

	krew("uninstall", "gitops")
	if _, err := os.Stat(filepath.Join(krewRoot, "store", "gitops")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("store not removed by uninstall (%v)", err)
	}
}
