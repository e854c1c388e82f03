package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// fluxPluginManifest is Flux's cli.fluxcd.io/v1beta1 Plugin as the Flux CLI
// v2.9.5 declares it (pkg/plugin/types.go), read strictly: a field Flux does
// not know fails the test.
type fluxPluginManifest struct {
	APIVersion  string `json:"apiVersion"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Homepage    string `json:"homepage"`
	Source      string `json:"source"`
	Bin         string `json:"bin"`
	Versions    []struct {
		Version   string `json:"version"`
		Platforms []struct {
			OS          string `json:"os"`
			Arch        string `json:"arch"`
			URL         string `json:"url"`
			Checksum    string `json:"checksum"`
			ExtractPath string `json:"extractPath"`
		} `json:"platforms"`
	} `json:"versions"`
}

// TestFluxPlugin is what a Flux user does (docs/install.md), with the real
// Flux CLI v2.9.5: the catalog (`make release`'s dist/flux/) and the
// archives are served over HTTP; `flux plugin install gitops` from it into a
// fresh FLUXCD_PLUGINS, `flux plugin search` and `list`, `flux gitops drift` against the
// real control plane with nothing of the suite on PATH, completion through
// flux, `flux plugin update` to a second release and `flux plugin
// uninstall`. A tampered archive is refused by flux's checksum check, on
// install and on update, and leaves no binary behind.
func TestFluxPlugin(t *testing.T) {
	flux := peertools.Require(t, peertools.Flux, "flux")
	cp := controlplane.ForTest(t)

	const oldVersion, newVersion = "v0.0.0-e2e", "v0.0.1-e2e"
	catalog := t.TempDir()
	dists := map[string]string{}
	var tamper atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dirName, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		dir, ok := dists[dirName]
		if dirName == "catalog" {
			dir, ok = catalog, true
		}
		if !ok || name == "" || strings.ContainsAny(name, "/\\") {
			http.NotFound(w, r)
			return
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if tamper.Load() && strings.HasPrefix(name, "flux-gitops_") {
			data[len(data)/2] ^= 0xff // one flipped byte in the middle of the archive
		}
		_, _ = w.Write(data)
	}))
	// The archives' URLs name the server, which starts once dists is filled.
	base := "http://" + srv.Listener.Addr().String()
	oldDist := releaseAt(t, oldVersion, base+"/"+oldVersion)
	newDist := releaseAt(t, newVersion, base+"/"+newVersion)
	dists[oldVersion], dists[newVersion] = oldDist, newDist
	srv.Start()
	defer srv.Close()
	publish := func(dist string) {
		t.Helper()
		for _, f := range []string{"gitops.yaml", "catalog.yaml"} {
			copyFile(t, filepath.Join(dist, "flux", f), filepath.Join(catalog, f))
		}
	}

	// The manifest as Flux's schema has it, from the same archive and
	// checksum as checksums.txt.
	data, err := os.ReadFile(filepath.Join(oldDist, "flux", "gitops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m fluxPluginManifest
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatalf("dist/flux/gitops.yaml: %v\n%s", err, data)
	}
	if m.APIVersion != "cli.fluxcd.io/v1beta1" || m.Kind != "Plugin" || m.Name != "gitops" || m.Bin != "flux-gitops" ||
		len(m.Versions) != 1 || m.Versions[0].Version != "0.0.0-e2e" || len(m.Versions[0].Platforms) != 1 {
		t.Fatalf("dist/flux/gitops.yaml has the wrong shape:\n%s", data)
	}
	archive := "flux-gitops_" + oldVersion + "_" + runtime.GOOS + "_" + runtime.GOARCH + ".tar.gz"
	p := m.Versions[0].Platforms[0]
	if p.OS != runtime.GOOS || p.Arch != runtime.GOARCH || p.URL != srv.URL+"/"+oldVersion+"/"+archive || p.ExtractPath != "flux-gitops" {
		t.Errorf("platform entry %+v", p)
	}
	sums, err := os.ReadFile(filepath.Join(oldDist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256File(t, filepath.Join(oldDist, archive)); p.Checksum != "sha256:"+sum || !strings.Contains(string(sums), sum+"  "+archive+"\n") {
		t.Errorf("checksum %s: archive sha256 %s, checksums.txt:\n%s", p.Checksum, sum, sums)
	}

	plugins := t.TempDir()
	bin := filepath.Join(plugins, "flux-gitops")
	receipt := filepath.Join(plugins, "flux-gitops.yaml")
	env := []string{"FLUXCD_PLUGINS=" + plugins, "FLUXCD_PLUGIN_CATALOG=" + srv.URL + "/catalog/"}
	// Nothing of the suite on PATH: the one installed file must do.
	path := []string{"/usr/bin", "/bin"}
	fluxRun := func(args ...string) result {
		t.Helper()
		return runIn(t, cp, path, env, flux, args...)
	}
	mustFlux := func(args ...string) result {
		t.Helper()
		r := fluxRun(args...)
		if r.code != 0 {
			t.Fatalf("flux %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
		}
		return r
	}
	installedVersion := func() string {
		t.Helper()
		r := mustFlux("gitops", "version", "-o", "json")
		var rep version.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("flux gitops version -o json: %v\n%s", err, r.stdout)
		}
		return rep.ClientVersion.Version
	}

	publish(oldDist)

	t.Run("tampered archive refused on install", func(t *testing.T) {
		tamper.Store(true)
		defer tamper.Store(false)
		r := fluxRun("plugin", "install", "gitops")
		if r.code == 0 || !strings.Contains(r.stderr+r.stdout, "checksum verification failed") {
			t.Errorf("flux plugin install of a tampered archive: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		for _, f := range []string{bin, receipt} {
			if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after a refused install (%v)", f, err)
			}
		}
	})

	// catalog.yaml, as `flux plugin search` reads it.
	if r := mustFlux("plugin", "search", "drift"); !strings.Contains(r.stdout, "gitops") {
		t.Errorf("flux plugin search drift does not find gitops:\n%s%s", r.stdout, r.stderr)
	}
	mustFlux("plugin", "install", "gitops")
	if r := mustFlux("plugin", "search", "gitops"); !strings.Contains(r.stdout, "0.0.0-e2e") {
		t.Errorf("flux plugin search gitops does not show the installed version:\n%s", r.stdout)
	}
	if r := mustFlux("plugin", "list"); !strings.Contains(r.stdout, "gitops") || !strings.Contains(r.stdout, "0.0.0-e2e") || !strings.Contains(r.stdout, bin) {
		t.Errorf("flux plugin list:\n%s", r.stdout)
	}
	if v := installedVersion(); v != oldVersion {
		t.Errorf("installed version %s, want %s", v, oldVersion)
	}

	t.Run("drift", func(t *testing.T) {
		dir := t.TempDir()
		manifest := filepath.Join(dir, "app.yaml")
		if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Namespace
metadata: {name: flux-plugin}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: flux-plugin}
data: {mode: production}
`), 0o644); err != nil {
			t.Fatal(err)
		}
		k := kubectl(cp)
		if r := run(t, cp, nil, k, "apply", "--server-side", "-f", manifest); r.code != 0 {
			t.Fatalf("apply: %s", r.stderr)
		}
		if r := mustFlux("gitops", "drift", "--help"); !strings.Contains(r.stdout, "Usage:\n  flux gitops drift ") {
			t.Errorf("flux gitops drift --help does not name flux gitops drift:\n%s", r.stdout)
		}
		if r := fluxRun("gitops", "drift", "-f", manifest); r.code != 0 {
			t.Errorf("in sync: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if r := run(t, cp, nil, k, "patch", "-n", "flux-plugin", "configmap/settings", "-p", `{"data":{"mode":"debug"}}`); r.code != 0 {
			t.Fatalf("patch: %s", r.stderr)
		}
		if r := fluxRun("gitops", "drift", "-f", manifest); r.code != 1 || !strings.Contains(r.stdout, "settings") {
			t.Errorf("drift: exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		r := fluxRun("gitops", "drift", "-f", manifest, "--mode=fast")
		if r.code != 2 || !strings.Contains(r.stderr, "See 'flux gitops drift --help'") {
			t.Errorf("bad flag: exit %d, want 2 and a hint naming flux gitops drift\nstderr: %s", r.code, r.stderr)
		}
	})

	t.Run("completion", func(t *testing.T) {
		// flux completes a plugin's arguments by running it with cobra's
		// __complete (internal/plugin/completion.go): verbs, then a verb's flags.
		if r := mustFlux("__complete", "gitops", "dr"); !strings.Contains(r.stdout, "drift") {
			t.Errorf("flux __complete gitops dr:\n%s", r.stdout)
		}
		if r := mustFlux("__complete", "gitops", "drift", "--exit-c"); !strings.Contains(r.stdout, "--exit-code") {
			t.Errorf("flux __complete gitops drift --exit-c:\n%s", r.stdout)
		}
	})

	publish(newDist)

	t.Run("tampered archive refused on update", func(t *testing.T) {
		tamper.Store(true)
		defer tamper.Store(false)
		before := sha256File(t, bin)
		r := fluxRun("plugin", "update", "gitops")
		// flux v2.9.5 reports a failed update but exits 0 (it goes on to the
		// next plugin): what counts is that nothing was replaced.
		if !strings.Contains(r.stderr+r.stdout, "checksum verification failed") {
			t.Errorf("flux plugin update to a tampered archive: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if sha256File(t, bin) != before {
			t.Error("the installed binary changed after a refused update")
		}
		if v := installedVersion(); v != oldVersion {
			t.Errorf("version after a refused update %s, want %s", v, oldVersion)
		}
	})

	mustFlux("plugin", "update", "gitops")
	if v := installedVersion(); v != newVersion {
		t.Errorf("version after update %s, want %s", v, newVersion)
	}
	if r := mustFlux("plugin", "list"); !strings.Contains(r.stdout, "0.0.1-e2e") {
		t.Errorf("flux plugin list after update:\n%s", r.stdout)
	}

	mustFlux("plugin", "uninstall", "gitops")
	for _, f := range []string{bin, receipt} {
		if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after uninstall (%v)", f, err)
		}
	}
	if r := fluxRun("gitops", "version"); r.code == 0 {
		t.Errorf("flux gitops still runs after uninstall:\n%s", r.stdout)
	}
}
