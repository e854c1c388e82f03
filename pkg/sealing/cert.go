package sealing

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// Defaults of kubeseal for finding the controller.
const (
	DefaultControllerNamespace = "kube-system"
	DefaultControllerName      = "sealed-secrets-controller"
)

// maxCertSize bounds what is read from a certificate source: a file, a
// URL, the controller through the API server's service proxy (cluster
// data: whatever answers on the Service's port). A certificate PEM is a
// few KB.
const maxCertSize = 1 << 20

// Certificate is a controller's public certificate.
type Certificate struct {
	Cert *x509.Certificate
	Key  *rsa.PublicKey
	// PEM is the certificate as read.
	PEM []byte
}

// ParseCertificate reads the first PEM certificate in data, which must hold
// an RSA public key (as kubeseal requires).
func ParseCertificate(data []byte) (*Certificate, error) {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing the certificate: %w", err)
		}
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("the certificate's key is %T, not RSA", c.PublicKey)
		}
		return &Certificate{Cert: c, Key: k, PEM: pem.EncodeToMemory(b)}, nil
	}
}

// CheckValidity reports an expired or not-yet-valid certificate, unless
// allowInvalid. kubeseal refuses expired certificates; we also refuse those
// not valid yet, which usually means a wrong clock or a wrong file.
func (c *Certificate) CheckValidity(now time.Time, allowInvalid bool) error {
	if allowInvalid {
		return nil
	}
	switch {
	case now.After(c.Cert.NotAfter):
		return fmt.Errorf("the certificate expired on %s (use --allow-expired-cert to seal anyway)", c.Cert.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.Cert.NotBefore):
		return fmt.Errorf("the certificate is not valid before %s (use --allow-expired-cert to seal anyway)", c.Cert.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// ReadCertificate loads a certificate from a file path, a file:// URL or an
// http(s):// URL (through client, default http.DefaultClient; give it a
// Timeout: ctx alone does not bound a server that hangs). The user
// information and query tokens of a URL never appear in errors.
func ReadCertificate(ctx context.Context, source string, client *http.Client) (*Certificate, error) {
	data, err := readSource(ctx, source, client)
	if err != nil {
		return nil, redact.MaskError(err, gitrepo.RedactURL)
	}
	c, err := ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", gitrepo.RedactURL(source), err)
	}
	return c, nil
}

func readSource(ctx context.Context, source string, client *http.Client) ([]byte, error) {
	u, err := url.Parse(source)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") {
		data, err := os.ReadFile(source)
		if err != nil {
			return nil, fmt.Errorf("reading the certificate: %w", err)
		}
		return data, nil
	}
	if u.Scheme == "file" {
		data, err := os.ReadFile(u.Path)
		if err != nil {
			return nil, fmt.Errorf("reading the certificate: %w", err)
		}
		return data, nil
	}
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching the certificate: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// Not the *url.Error itself: callers take that for the API server.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("fetching the certificate from %s: %w", source, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the certificate from %s: %s", source, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCertSize+1))
	if err == nil && len(data) > maxCertSize {
		err = fmt.Errorf("the response is larger than %d bytes", maxCertSize)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching the certificate from %s: %w", source, err)
	}
	return data, nil
}

// ControllerClient is what FetchCertificate needs of the cluster: the
// controller's Service, and a GET through the API server's service proxy.
// Both of the suite's clients satisfy it (pkg/cluster's Client and
// pkg/cluster/lite's, which seal uses: it needs no discovery); the methods
// are those of cluster.Reader's Get and cluster.ServiceProxy, named here so
// that this package does not link pkg/cluster.
type ControllerClient interface {
	// Get returns the live object, or an error satisfying apierrors.IsNotFound.
	Get(ctx context.Context, m *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error)
	// ServiceProxyGet GETs path from port (a name or number) of the Service
	// namespace/name over scheme, through the API server's service proxy,
	// reading at most limit bytes of the response (a longer one is an
	// error).
	ServiceProxyGet(ctx context.Context, namespace, name, scheme, port, path string, limit int64) ([]byte, error)
}

// serviceMapping is the controller's Service: core v1, served by every API
// server, so it is not discovered (kubeseal's typed client does not either).
var serviceMapping = &meta.RESTMapping{
	Resource:         schema.GroupVersionResource{Version: "v1", Resource: "services"},
	GroupVersionKind: schema.GroupVersionKind{Version: "v1", Kind: "Service"},
	Scope:            meta.RESTScopeNamespace,
}

// FetchCertificate gets the controller's current certificate the way
// kubeseal does: the Service's first port name (else its number), then
// GET /v1/cert.pem through the API server's service proxy, reading at
// most maxCertSize bytes. RBAC: get on services and services/proxy
// in the controller's namespace.
func FetchCertificate(ctx context.Context, cl ControllerClient, namespace, name string) (*Certificate, error) {
	svc, err := cl.Get(ctx, serviceMapping, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("finding the sealed-secrets controller (--controller-namespace %s, --controller-name %s): %w", namespace, name, err)
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) == 0 {
		return nil, fmt.Errorf("the Service %s/%s has no ports", namespace, name)
	}
	first, _ := ports[0].(map[string]any)
	port, _, _ := unstructured.NestedString(first, "name")
	if port == "" {
		n, _, _ := unstructured.NestedFieldNoCopy(first, "port")
		port = fmt.Sprint(n)
	}
	data, err := cl.ServiceProxyGet(ctx, namespace, name, "http", port, "/v1/cert.pem", maxCertSize)
	if err == nil && len(data) > maxCertSize {
		err = fmt.Errorf("the response is larger than %d bytes", maxCertSize)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching the certificate from the controller %s/%s: %w", namespace, name, err)
	}
	c, err := ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("certificate from the controller %s/%s: %w", namespace, name, err)
	}
	return c, nil
}
