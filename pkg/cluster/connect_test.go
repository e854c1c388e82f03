package cluster

import (
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestNewClientsetFollowsThePolicy checks the typed client that seal and
// the CLI plumbing use against the real API server: no client-side rate
// limiter (client-go's default is a 5 QPS token bucket), the config's
// timeout (what --request-timeout sets) as the HTTP client's, and a
// limiter the caller asks for kept.
func TestNewClientsetFollowsThePolicy(t *testing.T) {
	cp := controlplane.ForTest(t)
	cfg := cp.RESTConfig()
	// As the kubeconfig flags build it: no QPS of its own (the control
	// plane's config sets one).
	cfg.QPS, cfg.Burst, cfg.RateLimiter = 0, 0, nil
	cfg.Timeout = 7 * time.Second
	cs, err := NewClientset(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("server version: %v", err)
	}
	rc, ok := cs.CoreV1().RESTClient().(*rest.RESTClient)
	if !ok {
		t.Fatalf("REST client is %T", cs.CoreV1().RESTClient())
	}
	if rl := rc.GetRateLimiter(); rl != nil {
		t.Errorf("client-side rate limiter %T, want none", rl)
	}
	if rc.Client.Timeout != cfg.Timeout {
		t.Errorf("request timeout %v, want the config's %v", rc.Client.Timeout, cfg.Timeout)
	}
	if cfg.QPS != 0 {
		t.Errorf("the caller's config was changed: QPS %v", cfg.QPS)
	}

	cfg.QPS, cfg.Burst = 50, 100
	cs, err = NewClientset(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rl := cs.CoreV1().RESTClient().GetRateLimiter(); rl == nil || rl.QPS() != 50 {
		t.Errorf("rate limiter %v, want the 50 QPS the config asks for", rl)
	}
}
