package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/kubectl-gitops/kubectl-gitops/test/chartrepo"
)

// The charts served: two versions of each, so that a version range has a
// choice to make.
var charts = []struct {
	key    string
	module chartrepo.Module
}{
	{"SS", chartrepo.SealedSecrets},
	{"MS", chartrepo.MetricsServer},
}

// serveCmd packages the charts, serves them and writes what gen needs to
// the env file (written last: the script waits for it), then serves until
// interrupted.
func serveCmd(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the archives")
	envFile := fs.String("env", "", "file to write the URLs and versions to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *envFile == "" {
		return fmt.Errorf("-dir and -env are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	repoDir := filepath.Join(*dir, "repo")
	var env strings.Builder
	var archives []string
	for _, c := range charts {
		src, err := chartrepo.ModuleChart(c.module)
		if err != nil {
			return err
		}
		ch, err := loader.LoadDir(src)
		if err != nil {
			return err
		}
		v := ch.Metadata.Version
		// An older version beside it: same chart, lower version.
		old, err := chartrepo.Package(src, repoDir, "0.1.0")
		if err != nil {
			return err
		}
		cur, err := chartrepo.Package(src, repoDir, "")
		if err != nil {
			return err
		}
		archives = append(archives, old, cur)
		fmt.Fprintf(&env, "%s_NAME=%s\n%s_VERSION=%s\n%s_ARCHIVE=%s\n", c.key, ch.Metadata.Name, c.key, v, c.key, cur)
	}
	httpRepo, err := chartrepo.ServeHTTP(repoDir)
	if err != nil {
		return err
	}
	defer func() { _ = httpRepo.Close() }()
	oci, err := chartrepo.ServeOCI()
	if err != nil {
		return err
	}
	defer func() { _ = oci.Close() }()
	for _, a := range archives {
		if _, _, err := chartrepo.Push(oci.Host(), "charts", a, filepath.Join(*dir, "registry.json")); err != nil {
			return err
		}
	}
	fmt.Fprintf(&env, "HTTP_URL=%s\nOCI_HOST=%s\n", httpRepo.URL, oci.Host())
	tmp := *envFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(env.String()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *envFile); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// readEnv reads serve's env file.
func readEnv(p string) (map[string]string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if ok {
			out[k] = v
		}
	}
	return out, nil
}
