package seal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/childproc"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// controllerNamespace is where the test runs the real controller (kubeseal's
// default, so the in-cluster certificate fetch uses the defaults too).
const controllerNamespace = "kube-system"

// startController runs the real sealed-secrets controller against the test
// control plane. The controller only supports in-cluster configuration (a
// ServiceAccount token at /var/run/secrets/kubernetes.io/serviceaccount), so
// it runs in a private mount namespace (unshare, root) where that directory
// holds a token minted for a ServiceAccount bound to cluster-admin. It
// returns the address of its HTTP server.
func startController(t *testing.T, cp *controlplane.ControlPlane) string {
	t.Helper()
	bin := peertools.Require(t, peertools.SealedSecrets, "controller")
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		msg := "running the sealed-secrets controller out of cluster needs unshare and root (it reads its token from a fixed path)"
		if os.Getenv("KUBECTL_GITOPS_REQUIRE_CLUSTER") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	kubectl(t, cp, "", "create", "serviceaccount", "sealed-secrets-controller", "-n", controllerNamespace)
	kubectl(t, cp, "", "create", "clusterrolebinding", "sealed-secrets-controller", "--clusterrole=cluster-admin", "--serviceaccount="+controllerNamespace+":sealed-secrets-controller")
	token := strings.TrimSpace(kubectl(t, cp, "", "create", "token", "sealed-secrets-controller", "-n", controllerNamespace, "--duration=1h"))

	sa := t.TempDir()
	cfg := cp.RESTConfig()
	ca := cfg.CAData
	if len(ca) == 0 {
		var err error
		if ca, err = os.ReadFile(cfg.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string][]byte{"token": []byte(token), "ca.crt": ca, "namespace": []byte(controllerNamespace)} {
		if err := os.WriteFile(filepath.Join(sa, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(cp.Server)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(u.Host)
	// Both ports at once: two separate probes could return the same port.
	ports, err := childproc.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	httpPort, metricsPort := strconv.Itoa(ports[0]), strconv.Itoa(ports[1])
	script := `set -e
mount -t tmpfs none /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
cp "$SA"/token "$SA"/ca.crt "$SA"/namespace /run/secrets/kubernetes.io/serviceaccount/
exec "$CONTROLLER" --listen-addr ":$HTTP_PORT" --listen-metrics-addr "127.0.0.1:$METRICS_PORT" --key-size 2048 --key-renew-period 0`
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	logPath := filepath.Join(t.TempDir(), "controller.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "SA="+sa, "CONTROLLER="+bin, "HTTP_PORT="+httpPort, "METRICS_PORT="+metricsPort,
		"KUBERNETES_SERVICE_HOST="+host, "KUBERNETES_SERVICE_PORT="+port, "POD_NAMESPACE="+controllerNamespace)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the controller: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("controller log:\n%s", b)
		}
	})
	return httpPort
}

// waitFor polls cond every 200 ms until it is true or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// kubectlMaybe runs kubectl and returns its stdout, which callers parse
// (a token, JSON, a certificate): its stderr (klog lines, API warnings,
// client-side throttling under load) is only in the error.
func kubectlMaybe(cp *controlplane.ControlPlane, stdin string, args ...string) (string, error) {
	cmd := cp.Kubectl(context.Background(), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func kubectl(t *testing.T, cp *controlplane.ControlPlane, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectlMaybe(cp, stdin, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// TestKubectlHelperParsesStdoutOnly: what the controller tests parse from
// kubectl (the ServiceAccount token handed to the controller, the JSON of
// its key Secret, the certificate through the proxy) is kubectl's stdout;
// its stderr (klog lines, API warnings, client-side throttling under load)
// is not part of it. -v=6 makes kubectl log every request to stderr.
func TestKubectlHelperParsesStdoutOnly(t *testing.T) {
	cp := controlplane.ForTest(t)
	if got := kubectl(t, cp, "", "get", "namespace", "default", "-o", "jsonpath={.metadata.name}", "-v=6"); got != "default" {
		t.Fatalf("kubectl output %q, want %q", got, "default")
	}
	_, err := kubectlMaybe(cp, "", "get", "namespace", "no-such-namespace", "-v=6")
	if err == nil || !strings.Contains(err.Error(), `namespaces "no-such-namespace" not found`) {
		t.Fatalf("error %v does not carry kubectl's stderr", err)
	}
}

// controllerCert waits for the key Secret the controller creates and
// returns its certificate.
func controllerCert(t *testing.T, cp *controlplane.ControlPlane) []byte {
	t.Helper()
	var cert []byte
	waitFor(t, 90*time.Second, "the controller's key Secret", func() bool {
		out, err := kubectlMaybe(cp, "", "get", "secrets", "-n", controllerNamespace, "-l", "sealedsecrets.bitnami.com/sealed-secrets-key=active", "-o", "json")
		if err != nil {
			return false
		}
		var l struct {
			Items []struct {
				Data map[string]string `json:"data"`
			} `json:"items"`
		}
		if json.Unmarshal([]byte(out), &l) != nil || len(l.Items) == 0 {
			return false
		}
		cert, err = base64.StdEncoding.DecodeString(l.Items[0].Data["tls.crt"])
		return err == nil && len(cert) > 0
	})
	return cert
}

func TestRealControllerUnsealsOurSealedSecrets(t *testing.T) {
	cp := controlplane.ForTest(t)
	httpPort := startController(t, cp)
	cert := controllerCert(t, cp)
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	const ns = "seal-e2e"
	kubectl(t, cp, "", "create", "namespace", ns)

	binary := []byte{0, 1, 2, 0xff, '\n'}
	writeTestFile(t, dir, "bin", binary)
	for _, scope := range []string{"strict", "namespace-wide", "cluster-wide"} {
		name := "db-" + scope
		secret := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: %s
  labels: {app: db}
  annotations: {team: payments}
type: kubernetes.io/basic-auth
data:
  binary: %s
stringData:
  password: %s
  username: admin
`, name, ns, base64.StdEncoding.EncodeToString(binary), canary)
		in := writeTestFile(t, dir, name+".yaml", []byte(secret))
		res := runSeal(t, cp, "", "-f", in, "--cert", certFile, "--scope", scope)
		if res.code != 0 {
			t.Fatalf("seal %s: exit %d: %s", scope, res.code, res.stderr)
		}
		if strings.Contains(res.stdout, canary) {
			t.Fatalf("plaintext in the SealedSecret")
		}
		kubectl(t, cp, res.stdout, "apply", "-f", "-")
		var got map[string]string
		var typ string
		waitFor(t, 60*time.Second, "the controller to create Secret "+name, func() bool {
			out, err := kubectlMaybe(cp, "", "get", "secret", name, "-n", ns, "-o", "json")
			if err != nil {
				return false
			}
			var s struct {
				Type string            `json:"type"`
				Data map[string]string `json:"data"`
			}
			if json.Unmarshal([]byte(out), &s) != nil {
				return false
			}
			got, typ = s.Data, s.Type
			return true
		})
		want := map[string]string{
			"binary":   base64.StdEncoding.EncodeToString(binary),
			"password": base64.StdEncoding.EncodeToString([]byte(canary)),
			"username": base64.StdEncoding.EncodeToString([]byte("admin")),
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: Secret data made by the controller (-want +got):\n%s", scope, d)
		}
		if typ != "kubernetes.io/basic-auth" {
			t.Errorf("%s: type %q", scope, typ)
		}
	}

	// A strict SealedSecret renamed must be refused by the controller too.
	res := runSeal(t, cp, "", "--name", "renamed-src", "-n", ns, "--from-file", "password="+filepath.Join(dir, "bin"), "--cert", certFile)
	if res.code != 0 {
		t.Fatalf("seal: %s", res.stderr)
	}
	kubectl(t, cp, strings.ReplaceAll(res.stdout, "name: renamed-src", "name: renamed-dst"), "apply", "-f", "-")
	// Wait for the controller's own decision (its Synced condition), not
	// for a fixed time: a busy machine could still be queueing the object
	// and the check below would then prove nothing.
	var synced string
	waitFor(t, 60*time.Second, "the controller's Synced condition on SealedSecret renamed-dst", func() bool {
		out, err := kubectlMaybe(cp, "", "get", "sealedsecret", "renamed-dst", "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="Synced")].status} {.status.conditions[?(@.type=="Synced")].message}`)
		synced = out
		return err == nil && (strings.HasPrefix(out, "False ") || strings.HasPrefix(out, "True "))
	})
	if !strings.HasPrefix(synced, "False ") || !strings.Contains(synced, "no key could decrypt secret") {
		t.Errorf("the controller did not refuse the renamed strict SealedSecret as undecryptable: Synced %q", synced)
	}
	if _, err := kubectlMaybe(cp, "", "get", "secret", "renamed-dst", "-n", ns); err == nil {
		t.Errorf("the controller unsealed a strict SealedSecret under another name")
	}

	t.Run("certificate fetched through the API server proxy", func(t *testing.T) {
		ip := controlplane.NonLoopbackIP(t)
		// The API server proxies only to endpoints backed by a Pod with that
		// IP. No kubelet runs here: the test creates the Pod and writes its
		// status (podIPs) itself, through the status subresource.
		kubectl(t, cp, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: sealed-secrets-controller, namespace: %s}
spec:
  containers: [{name: controller, image: bitnami/sealed-secrets-controller}]
`, controllerNamespace), "apply", "-f", "-")
		kubectl(t, cp, "", "patch", "pod", "sealed-secrets-controller", "-n", controllerNamespace, "--subresource=status", "--type=merge",
			"-p", fmt.Sprintf(`{"status":{"podIP":%q,"podIPs":[{"ip":%q}]}}`, ip, ip))
		// A selector-less Service with a manual EndpointSlice pointing at the
		// controller, as kubeseal finds it: services/proxy, port by name.
		kubectl(t, cp, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: sealed-secrets-controller, namespace: %[1]s}
spec:
  ports: [{name: http, port: 8080, targetPort: %[2]s}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: sealed-secrets-controller-manual
  namespace: %[1]s
  labels: {kubernetes.io/service-name: sealed-secrets-controller}
addressType: IPv4
endpoints:
- addresses: [%[3]s]
  targetRef: {kind: Pod, namespace: %[1]s, name: sealed-secrets-controller}
ports: [{name: http, port: %[2]s}]
`, controllerNamespace, httpPort, ip), "apply", "-f", "-")
		var last string
		waitFor(t, 20*time.Second, "the API server to proxy to the controller", func() bool {
			out, err := kubectlMaybe(cp, "", "get", "--raw", "/api/v1/namespaces/"+controllerNamespace+"/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem")
			last = out
			return err == nil
		})
		if !strings.Contains(last, "BEGIN CERTIFICATE") {
			t.Fatalf("the proxy did not return the certificate: %.200s", last)
		}
		in := writeTestFile(t, dir, "fetched.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: fetched, namespace: "+ns+"}\nstringData: {password: "+canary+"}\n"))
		res := runSeal(t, cp, "", "-f", in) // format inferred: no --cert, a reachable controller
		if res.code != 0 {
			t.Fatalf("seal with the in-cluster certificate: exit %d: %s", res.code, res.stderr)
		}
		kubectl(t, cp, res.stdout, "apply", "-f", "-")
		waitFor(t, 60*time.Second, "Secret fetched", func() bool {
			out, err := kubectlMaybe(cp, "", "get", "secret", "fetched", "-n", ns, "-o", "jsonpath={.data.password}")
			return err == nil && out == base64.StdEncoding.EncodeToString([]byte(canary))
		})

		// With the controller reachable, a .sops.yaml that cannot be used
		// must not send the file to it: exit 2 naming the config's line,
		// and -i leaves the plaintext file as it was.
		work := t.TempDir()
		writeTestFile(t, work, ".sops.yaml", []byte("creation_rules:\n  - path_regex: fetched\\.yaml$\n    encrypted_regex: ^(data|stringData$\n    age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"))
		plain := read(t, in)
		local := writeTestFile(t, work, "fetched.yaml", []byte(plain))
		t.Chdir(work)
		res = runSeal(t, cp, "", "-f", "fetched.yaml", "-i")
		if res.code != 2 || !strings.Contains(res.stderr, ".sops.yaml:3: creation rule 1: invalid regular expression") {
			t.Errorf("broken .sops.yaml with a reachable controller: exit %d, want 2 naming .sops.yaml:3: %s", res.code, res.stderr)
		}
		if read(t, local) != plain {
			t.Errorf("the file was rewritten:\n%s", read(t, local))
		}
	})
}

func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
