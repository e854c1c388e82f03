package sealing

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fakeController serves one Service and answers proxy GETs with cert,
// recording the port and path asked for. (The real API server's proxy is
// TestServiceProxyGet in pkg/cluster/lite; the real controller,
// TestRealControllerUnsealsOurSealedSecrets in plugins/seal.)
type fakeController struct {
	svc        *unstructured.Unstructured
	cert       []byte
	port, path string
	limit      int64
}

var _ ControllerClient = (*fakeController)(nil)

func (f *fakeController) Mapping(_ context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	return &meta.RESTMapping{GroupVersionKind: gvk, Resource: schema.GroupVersionResource{Version: "v1", Resource: "services"}, Scope: meta.RESTScopeNamespace}, nil
}

func (f *fakeController) Get(_ context.Context, _ *meta.RESTMapping, namespace, name string) (*unstructured.Unstructured, error) {
	if f.svc == nil || f.svc.GetNamespace() != namespace || f.svc.GetName() != name {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, name)
	}
	return f.svc, nil
}

func (f *fakeController) List(context.Context, *meta.RESTMapping, string, string) ([]unstructured.Unstructured, error) {
	return nil, errors.New("not used")
}

func (f *fakeController) ServiceProxyGet(_ context.Context, _, _, _, port, path string, limit int64) ([]byte, error) {
	f.port, f.path, f.limit = port, path, limit
	return f.cert, nil
}

func service(ports ...map[string]any) *unstructured.Unstructured {
	ps := make([]any, len(ports))
	for i, p := range ports {
		ps[i] = p
	}
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": DefaultControllerName, "namespace": DefaultControllerNamespace},
		"spec":     map[string]any{"ports": ps}}}
}

// FetchCertificate asks the cluster seam for the Service and proxies to its
// first port by name, else by number, as kubeseal does.
func TestFetchCertificatePortAsKubeseal(t *testing.T) {
	kp, _ := testKeys(t)
	for _, tt := range []struct {
		name     string
		svc      *unstructured.Unstructured
		wantPort string
		wantErr  string
	}{
		{"first port by name", service(map[string]any{"name": "http", "port": int64(8080)}, map[string]any{"name": "metrics", "port": int64(8081)}), "http", ""},
		{"unnamed port by number", service(map[string]any{"port": int64(8080)}), "8080", ""},
		{"no ports", service(), "", "has no ports"},
		{"no Service", nil, "", "finding the sealed-secrets controller (--controller-namespace kube-system, --controller-name sealed-secrets-controller)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeController{svc: tt.svc, cert: kp.certPEM}
			c, err := FetchCertificate(t.Context(), f, DefaultControllerNamespace, DefaultControllerName)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.port != tt.wantPort || f.path != "/v1/cert.pem" {
				t.Errorf("proxied to port %q path %q, want port %q path /v1/cert.pem", f.port, f.path, tt.wantPort)
			}
			if !c.Cert.Equal(kp.cert.Cert) {
				t.Error("not the controller's certificate")
			}
		})
	}
}

// TestFetchCertificateBounded: what answers on the controller's Service is
// cluster data. FetchCertificate asks the proxy for 1 MiB at most (the
// real proxy's bound is TestServiceProxyGet in pkg/cluster/lite) and
// refuses a longer answer a client returned anyway.
func TestFetchCertificateBounded(t *testing.T) {
	kp, _ := testKeys(t)
	svc := service(map[string]any{"name": "http", "port": int64(8080)})
	f := &fakeController{svc: svc, cert: kp.certPEM}
	if _, err := FetchCertificate(t.Context(), f, DefaultControllerNamespace, DefaultControllerName); err != nil {
		t.Fatal(err)
	}
	if f.limit != 1<<20 {
		t.Errorf("asked for at most %d bytes, want 1 MiB", f.limit)
	}
	f.cert = append(append([]byte{}, kp.certPEM...), make([]byte, 1<<20)...)
	_, err := FetchCertificate(t.Context(), f, DefaultControllerNamespace, DefaultControllerName)
	if err == nil || !strings.Contains(err.Error(), "fetching the certificate from the controller kube-system/sealed-secrets-controller: the response is larger than 1048576 bytes") {
		t.Errorf("a certificate of %d bytes: %v, want it refused as larger than 1048576 bytes", len(f.cert), err)
	}
}

// TestReadCertificateURLBounded: what a --cert URL answers is a server's
// data. A certificate over 1 MiB is refused, not cut at 1 MiB and then
// parsed (before, the cut made it an unclear parse error, or a certificate
// with trailing garbage dropped without a word).
func TestReadCertificateURLBounded(t *testing.T) {
	kp, _ := testKeys(t)
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"a certificate", kp.certPEM, ""},
		{"padded to exactly 1 MiB", append(append([]byte{}, kp.certPEM...), bytes.Repeat([]byte("\n"), 1<<20-len(kp.certPEM))...), ""},
		{"one byte over 1 MiB", append(append([]byte{}, kp.certPEM...), bytes.Repeat([]byte("\n"), 1<<20-len(kp.certPEM)+1)...), "the response is larger than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(tc.body) }))
			defer srv.Close()
			_, err := ReadCertificate(t.Context(), srv.URL+"/v1/cert.pem", srv.Client())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("ReadCertificate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("ReadCertificate of %d bytes: %v, want %q", len(tc.body), err, tc.want)
			}
		})
	}
}
