package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/test/hung"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

var configMapGVK = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}

// TestMappingHonoursContext: discovery against an API server that never
// answers ends with the caller's context (it used to wait for discovery's
// own 32 s timeout, whatever the context), and so does a second caller
// waiting for the first.
func TestMappingHonoursContext(t *testing.T) {
	c, err := New(&rest.Config{Host: "http://" + hung.Listen(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := c.Mapping(ctx, configMapGVK)
			errs <- err
		}()
	}
	for range 2 {
		select {
		case err := <-errs:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Mapping = %v, want the context's deadline", err)
			}
		case <-time.After(10 * time.Second):
			// Far below the 32 s discovery timeout.
			t.Fatal("Mapping still running 10s after its context's 500ms deadline")
		}
	}
}

// TestMappingAfterCancel: a Mapping cut short by its context leaves no
// broken discovery behind; the next call resolves the kind.
func TestMappingAfterCancel(t *testing.T) {
	cp := controlplane.ForTest(t)
	c, err := New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Mapping(ctx, configMapGVK); !errors.Is(err, context.Canceled) {
		t.Fatalf("Mapping with a cancelled context = %v, want context.Canceled", err)
	}
	m, err := c.Mapping(context.Background(), configMapGVK)
	if err != nil {
		t.Fatal(err)
	}
	if m.Resource.Resource != "configmaps" {
		t.Errorf("mapping %v", m.Resource)
	}
}
