package chartrepo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// Real charts other people wrote, shipped inside Go modules.
var (
	// SealedSecrets is Bitnami's sealed-secrets chart (a CRD in crds/).
	SealedSecrets = Module{Path: "github.com/bitnami-labs/sealed-secrets", Version: "v0.40.0", Dir: "helm/sealed-secrets"}
	// MetricsServer is Kubernetes SIGs' metrics-server chart.
	MetricsServer = Module{Path: "sigs.k8s.io/metrics-server", Version: "v0.8.0", Dir: "charts/metrics-server"}
)

// Module names a chart directory inside a Go module.
type Module struct {
	Path, Version, Dir string
}

// ModuleChart returns the directory of m's chart, downloading the module
// with `go mod download` (into the module cache) when needed.
func ModuleChart(m Module) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("go", "mod", "download", "-json", m.Path+"@"+m.Version)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w: %s", m.Path, m.Version, err, stderr.Bytes())
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: no directory in %s", m.Path, m.Version, out)
	}
	dir := filepath.Join(mod.Dir, filepath.FromSlash(m.Dir))
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		return "", fmt.Errorf("chart of %s@%s: %w", m.Path, m.Version, err)
	}
	return dir, nil
}

// Package packages the chart directory src into dir with Helm's own code
// (as helm package does), with its version set to version ("" keeps
// Chart.yaml's), and returns the archive's path.
func Package(src, dir, version string) (string, error) {
	ch, err := loader.LoadDir(src)
	if err != nil {
		return "", fmt.Errorf("loading chart %s: %w", src, err)
	}
	if version != "" {
		ch.Metadata.Version = version
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p, err := chartutil.Save(ch, dir)
	if err != nil {
		return "", fmt.Errorf("packaging chart %s: %w", src, err)
	}
	return p, nil
}

// Server is a loopback HTTP server.
type Server struct {
	// URL is http://127.0.0.1:port.
	URL string
	srv *http.Server
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Host is the server's host:port.
func (s *Server) Host() string { return s.URL[len("http://"):] }

// Serve serves h on loopback: a test's own handler in front of a chart
// repository or OCIHandler (authentication, a Recorder).
func Serve(h http.Handler) (*Server, error) { return serve(h) }

func serve(h http.Handler) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	s := &Server{URL: "http://" + l.Addr().String(), srv: &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// ServeHTTP serves the chart archives in dir as an HTTP chart repository:
// it writes dir/index.yaml with Helm's repo.IndexDirectory (the archives'
// URLs relative to it) and serves the directory.
func ServeHTTP(dir string) (*Server, error) {
	if err := WriteIndex(dir, ""); err != nil {
		return nil, err
	}
	return serve(http.FileServer(http.Dir(dir)))
}

// WriteIndex writes dir/index.yaml for the chart archives in dir with
// Helm's repo.IndexDirectory, their URLs under baseURL ("" for URLs
// relative to the index).
func WriteIndex(dir, baseURL string) error {
	idx, err := repo.IndexDirectory(dir, baseURL)
	if err != nil {
		return fmt.Errorf("indexing %s: %w", dir, err)
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		return fmt.Errorf("writing the index: %w", err)
	}
	return nil
}

// OCIHandler is go-containerregistry's in-process registry (plain HTTP,
// no authentication), to Serve behind a test's own handler.
func OCIHandler() http.Handler {
	return ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
}

// Recorder records the path and the Authorization header ("" when none)
// of every request to the handler it wraps. Its zero value is ready.
type Recorder struct {
	mu           sync.Mutex
	paths, auths []string
}

// Wrap records each request, then passes it to h.
func (r *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})
}

// Requests returns the paths and Authorization headers seen so far, in
// order (one of each per request).
func (r *Recorder) Requests() (paths, auths []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...), append([]string(nil), r.auths...)
}

// Reset forgets the requests seen so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paths, r.auths = nil, nil
}

// ServeOCI starts go-containerregistry's in-process registry on loopback
// (plain HTTP, no authentication).
func ServeOCI() (*Server, error) {
	return serve(OCIHandler())
}

// Push pushes the chart archive to oci://host/repository/<chart
// name>:<version> with Helm's own push code (registry.Client.Push, plain
// HTTP; credentials, of which there are none, kept in credentialsFile)
// and returns the chart's reference without its tag and the manifest's
// digest.
func Push(host, repository, archive, credentialsFile string) (ref, digest string, err error) {
	data, err := os.ReadFile(archive)
	if err != nil {
		return "", "", err
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return "", "", fmt.Errorf("loading %s: %w", archive, err)
	}
	c, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(io.Discard),
		registry.ClientOptCredentialsFile(credentialsFile))
	if err != nil {
		return "", "", fmt.Errorf("helm registry client: %w", err)
	}
	ref = host + "/" + repository + "/" + ch.Metadata.Name
	res, err := c.Push(data, ref+":"+ch.Metadata.Version)
	if err != nil {
		return "", "", fmt.Errorf("helm push %s: %w", archive, err)
	}
	return ref, res.Manifest.Digest, nil
}
