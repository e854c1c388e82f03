package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-gitops/kubectl-gitops/test/childproc"
)

// Options chooses what Start runs.
type Options struct {
	// ControllerManager also runs kube-controller-manager with the namespace,
	// serviceaccount, token, garbage-collector, root-CA and
	// clusterrole-aggregation controllers. Without it namespaces never finish
	// deleting, no "default" ServiceAccount appears, and the built-in
	// admin/edit/view ClusterRoles stay empty.
	ControllerManager bool
	// CRDs installs the pinned Argo CD, Flux and Sealed Secrets CRDs.
	CRDs bool
	// Paths overrides where binaries and CRDs are found (default: Locate).
	Paths *Paths
	// FeatureGates is kube-apiserver's --feature-gates (e.g.
	// "CBORServingAndStorage=true"); empty for the defaults.
	FeatureGates string
	// Cleanup, when set, is what the package's TestMain removes once the
	// tests are done (a binary built for them, say): RunTests calls it
	// after stopping the control plane, also when SIGINT or SIGTERM
	// interrupts the tests, where RunTests exits 130 itself and TestMain's
	// code after it never runs.
	Cleanup func()
}

// ControlPlane is a running etcd + kube-apiserver (+ controller-manager).
type ControlPlane struct {
	// Dir holds certificates, kubeconfig, logs and etcd's data; Stop removes it.
	Dir string
	// Kubeconfig is the path of an admin kubeconfig (context "kubectl-gitops-local").
	Kubeconfig string
	// Server is the API server URL.
	Server string
	Paths  Paths

	ca    *authority
	procs []*process
	once  sync.Once

	// controllers: kube-controller-manager runs (namespaces finish
	// deleting). nsRuns counts the namespaces Namespace created, by name.
	controllers bool
	nsMu        sync.Mutex
	nsRuns      map[string]int
}

// ContextName is the kubeconfig context Start writes.
const ContextName = "kubectl-gitops-local"

// dirPrefix names the temp directories; Start sweeps stale ones.
const dirPrefix = "kubectl-gitops-cp-"

type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Start builds nothing: it runs the cached binaries (see Locate) and returns
// once the API server is ready (and, with the controller-manager, once the
// default ServiceAccount and aggregated ClusterRoles exist). On error
// everything started is stopped and removed.
func Start(ctx context.Context, opts Options) (cp *ControlPlane, err error) {
	paths := opts.Paths
	if paths == nil {
		p, err := Locate(ctx)
		if err != nil {
			return nil, err
		}
		paths = &p
	}
	base := tempBase()
	childproc.SweepStale(base, dirPrefix)
	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating control-plane directory: %w", err)
	}
	cp = &ControlPlane{Dir: dir, Paths: *paths, controllers: opts.ControllerManager}
	defer func() {
		if err != nil {
			_ = cp.Stop()
			cp = nil
		}
	}()
	if err := childproc.Claim(dir); err != nil {
		return cp, err
	}
	if cp.ca, err = newAuthority(); err != nil {
		return cp, fmt.Errorf("creating CA: %w", err)
	}
	if err := writePKI(dir, cp.ca); err != nil {
		return cp, err
	}
	ports, err := childproc.FreePorts(3)
	if err != nil {
		return cp, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	cp.Server = "https://127.0.0.1:" + strconv.Itoa(ports[2])

	etcd, err := cp.spawn("etcd",
		"--name=default",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--initial-cluster=default=http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	if err != nil {
		return cp, err
	}
	if err := waitFor(ctx, etcd, 30*time.Second, func() bool {
		return httpOK(http.DefaultClient, etcdURL+"/health", `"health":"true"`)
	}); err != nil {
		return cp, fmt.Errorf("waiting for etcd: %w", err)
	}

	p := func(name string) string { return filepath.Join(dir, name) }
	apiArgs := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--tls-cert-file=" + p("serving.crt"),
		"--tls-private-key-file=" + p("serving.key"),
		"--client-ca-file=" + p("ca.crt"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p("sa.pub"),
		"--service-account-signing-key-file=" + p("sa.key"),
		"--api-audiences=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	}
	if !opts.ControllerManager {
		// Nothing would create the default ServiceAccount Pods need.
		apiArgs = append(apiArgs, "--disable-admission-plugins=ServiceAccount")
	}
	if opts.FeatureGates != "" {
		apiArgs = append(apiArgs, "--feature-gates="+opts.FeatureGates)
	}
	apiserver, err := cp.spawn("kube-apiserver", apiArgs...)
	if err != nil {
		return cp, err
	}

	cp.Kubeconfig = p("kubeconfig")
	if err := cp.writeKubeconfig(cp.Kubeconfig, "kubectl-gitops-admin", []string{"system:masters"}); err != nil {
		return cp, err
	}
	adminHTTP, err := cp.httpClient("kubectl-gitops-admin", "system:masters")
	if err != nil {
		return cp, err
	}
	if err := waitFor(ctx, apiserver, 60*time.Second, func() bool {
		return httpOK(adminHTTP, cp.Server+"/readyz", "ok")
	}); err != nil {
		return cp, fmt.Errorf("waiting for kube-apiserver /readyz: %w", err)
	}

	if opts.ControllerManager {
		kcmConfig := p("controller-manager.kubeconfig")
		// system:masters keeps the test setup small; a real cluster gives each
		// controller its own ServiceAccount.
		if err := cp.writeKubeconfig(kcmConfig, "system:kube-controller-manager", []string{"system:masters"}); err != nil {
			return cp, err
		}
		if _, err := cp.spawn("kube-controller-manager",
			"--kubeconfig="+kcmConfig,
			"--controllers=namespace-controller,serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller",
			"--leader-elect=false",
			"--secure-port=0",
			"--service-account-private-key-file="+p("sa.key"),
			"--root-ca-file="+p("ca.crt"),
			"--use-service-account-credentials=false",
		); err != nil {
			return cp, err
		}
		if err := cp.waitControllers(ctx); err != nil {
			return cp, err
		}
	}
	if opts.CRDs {
		if err := cp.InstallCRDs(ctx); err != nil {
			return cp, err
		}
	}
	return cp, nil
}

// RESTConfig returns a fresh admin client configuration.
func (cp *ControlPlane) RESTConfig() *rest.Config {
	cfg, err := cp.UserConfig("kubectl-gitops-admin", "system:masters")
	if err != nil {
		panic(err) // the CA and its key are in memory; issuing cannot fail in practice
	}
	return cfg
}

// UserConfig returns a client configuration authenticated by a client
// certificate for user in groups, signed by the cluster CA.
func (cp *ControlPlane) UserConfig(user string, groups ...string) (*rest.Config, error) {
	certPEM, keyPEM, err := cp.ca.issue(user, groups, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("issuing client certificate for %s: %w", user, err)
	}
	return &rest.Config{
		Host: cp.Server,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: cp.ca.certPEM, CertData: certPEM, KeyData: keyPEM,
		},
		QPS: 200, Burst: 400,
	}, nil
}

// WriteUserKubeconfig writes a kubeconfig for user in groups to path.
func (cp *ControlPlane) WriteUserKubeconfig(path, user string, groups ...string) error {
	return cp.writeKubeconfig(path, user, groups)
}

func (cp *ControlPlane) writeKubeconfig(path, user string, groups []string) error {
	certPEM, keyPEM, err := cp.ca.issue(user, groups, nil, nil)
	if err != nil {
		return fmt.Errorf("issuing client certificate for %s: %w", user, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[ContextName] = &clientcmdapi.Cluster{Server: cp.Server, CertificateAuthorityData: cp.ca.certPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts[ContextName] = &clientcmdapi.Context{Cluster: ContextName, AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = ContextName
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return nil
}

func (cp *ControlPlane) httpClient(user string, groups ...string) (*http.Client, error) {
	certPEM, keyPEM, err := cp.ca.issue(user, groups, nil, nil)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cp.ca.cert)
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12,
		}},
	}, nil
}

// Kubectl returns a command running the cached kubectl against this cluster.
func (cp *ControlPlane) Kubectl(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(cp.Paths.BinDir, "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.Kubeconfig)
	return cmd
}

// PIDs returns the process IDs of the running components.
func (cp *ControlPlane) PIDs() []int {
	var pids []int
	for _, p := range cp.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

// Stop terminates every component (SIGTERM, then SIGKILL after 10 s), in
// reverse start order, and
// removes Dir. It is safe to call more than once.
func (cp *ControlPlane) Stop() error {
	var errs []error
	cp.once.Do(func() {
		// Reverse start order: clients of the API server first, etcd last,
		// so no component waits on one already gone.
		for i := len(cp.procs) - 1; i >= 0; i-- {
			p := cp.procs[i]
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if cp.Dir != "" {
			if err := os.RemoveAll(cp.Dir); err != nil {
				errs = append(errs, fmt.Errorf("removing %s: %w", cp.Dir, err))
			}
		}
	})
	return errors.Join(errs...)
}

func (cp *ControlPlane) spawn(name string, args ...string) (*process, error) {
	logPath := filepath.Join(cp.Dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", logPath, err)
	}
	cmd := exec.Command(filepath.Join(cp.Paths.BinDir, name), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childproc.SysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	cp.procs = append(cp.procs, p)
	return p, nil
}

// waitFor polls ready until it is true, the process exits, ctx ends or the
// timeout passes. Errors carry the tail of the process's log.
func waitFor(ctx context.Context, p *process, timeout time.Duration, ready func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			exit := p.err
			if exit == nil {
				exit = errors.New("exit status 0")
			}
			return fmt.Errorf("%s exited (%w):\n%s", p.name, exit, childproc.Tail(p.log, 20))
		case <-deadline.C:
			return fmt.Errorf("%s not ready after %s:\n%s", p.name, timeout, childproc.Tail(p.log, 20))
		case <-tick.C:
		}
	}
}

func httpOK(c *http.Client, url, want string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && strings.Contains(string(body), want)
}

// tempBase prefers tmpfs for etcd's data (fast, and never on a real disk).
func tempBase() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", ".probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// ServingCertificate issues a TLS serving certificate for 127.0.0.1 signed
// by the cluster CA, for servers the API server calls (admission webhooks),
// and returns it with the CA bundle to configure them with.
func (cp *ControlPlane) ServingCertificate() (tls.Certificate, []byte, error) {
	certPEM, keyPEM, err := cp.ca.issue("webhook", nil, []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"})
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	return pair, cp.ca.certPEM, err
}
