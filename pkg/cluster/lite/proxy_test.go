package lite_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster/lite"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestServiceProxyGet: a GET through the API server's service proxy, by
// port name and by port number, reaches the Service's endpoint with the
// path asked for; a missing Service is an apierrors.IsNotFound error. What
// the endpoint answers is cluster data: a body longer than the bound asked
// for (an error's body too) is an error wrapping ErrResponseTooLarge, read
// no further than the bound.
func TestServiceProxyGet(t *testing.T) {
	cp := controlplane.ForTest(t)
	ctx := t.Context()
	ip := controlplane.NonLoopbackIP(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	const bound = 1 << 20
	var sent atomic.Int64 // bytes the endpoint wrote to the flood paths
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flood", "/flood-error":
			// Far more than the bound, without a Content-Length.
			if r.URL.Path == "/flood-error" {
				w.WriteHeader(http.StatusInternalServerError)
			}
			chunk := []byte(strings.Repeat("x", 64<<10))
			for range 1024 { // 64 MiB
				n, err := w.Write(chunk)
				sent.Add(int64(n))
				if err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		default:
			_, _ = w.Write([]byte("path " + r.URL.Path))
		}
	}))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	port := int32(ln.Addr().(*net.TCPAddr).Port)

	cs, err := kubernetes.NewForConfig(lite.Config(cp.RESTConfig()))
	if err != nil {
		t.Fatal(err)
	}
	const ns = "proxy-get"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// No kubelet runs here: the Pod's IP is written through its status, a
	// selector-less Service gets a manual EndpointSlice.
	pod, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "server"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "server", Image: "server"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "named"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "numbered"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}},
	} {
		if _, err := cs.CoreV1().Services(ns).Create(ctx, &svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		name := svc.Spec.Ports[0].Name
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: svc.Name + "-manual", Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "server"}}},
			Ports: []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
		}
		if _, err := cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	c, err := lite.New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, port string }{{"named", "http"}, {"numbered", "8080"}} {
		var got string
		deadline := time.Now().Add(20 * time.Second)
		for {
			data, err := c.ServiceProxyGet(ctx, ns, tt.name, "http", tt.port, "/v1/cert.pem", bound)
			if err == nil {
				got = string(data)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET through the proxy of %s port %s: %v", tt.name, tt.port, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if got != "path /v1/cert.pem" {
			t.Errorf("service %s port %s: the endpoint answered %q, want the path /v1/cert.pem", tt.name, tt.port, got)
		}
	}

	_, err = c.ServiceProxyGet(ctx, ns, "missing", "http", strconv.Itoa(8080), "/v1/cert.pem", bound)
	if !apierrors.IsNotFound(err) {
		t.Errorf("missing Service: %v, want a NotFound error", err)
	}

	for _, path := range []string{"/flood", "/flood-error"} {
		data, err := c.ServiceProxyGet(ctx, ns, "named", "http", "http", path, bound)
		if !errors.Is(err, lite.ErrResponseTooLarge) {
			t.Errorf("%s: %d bytes, %v, want an error wrapping ErrResponseTooLarge", path, len(data), err)
		} else if !strings.Contains(err.Error(), "service proxy-get/named port http") || !strings.Contains(err.Error(), "1048576 bytes") {
			t.Errorf("%s: %v, want the Service and the bound named", path, err)
		}
	}
	// The endpoint was stopped long before its 64 MiB (the proxy and the
	// connection buffer some).
	if n := sent.Load(); n >= 32<<20 {
		t.Errorf("the endpoint wrote %d bytes: the client read past its bound", n)
	}
}
