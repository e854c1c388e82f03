package cluster

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster/lite"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestLiteNewFollowsThePolicy checks the client (pkg/cluster/lite) that
// seal and the CLI plumbing build, against the real API server (this
// package's control plane): no client-side rate limiter (client-go's
// default is a 5 QPS token bucket), the config's timeout (what
// --request-timeout sets) as the HTTP client's, a limiter the caller asks
// for kept, and GET and /version answered.
func TestLiteNewFollowsThePolicy(t *testing.T) {
	cp := controlplane.ForTest(t)
	cfg := cp.RESTConfig()
	// As the kubeconfig flags build it: no QPS of its own (the control
	// plane's config sets one).
	cfg.QPS, cfg.Burst, cfg.RateLimiter = 0, 0, nil
	cfg.Timeout = 7 * time.Second
	c, err := lite.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if v, err := c.ServerVersion(ctx); err != nil || v.GitVersion == "" {
		t.Fatalf("server version: %+v, %v", v, err)
	}
	ns := &meta.RESTMapping{Resource: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, Scope: meta.RESTScopeRoot}
	if obj, err := c.Get(ctx, ns, "", "default"); err != nil || obj.GetName() != "default" {
		t.Fatalf("get namespace default: %v, %v", obj, err)
	}
	rc := c.RESTClient()
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
	if c, err = lite.New(cfg); err != nil {
		t.Fatal(err)
	}
	if rl := c.RESTClient().GetRateLimiter(); rl == nil || rl.QPS() != 50 {
		t.Errorf("rate limiter %v, want the 50 QPS the config asks for", rl)
	}
}

// TestNewFollowsThePolicy checks every client cluster.New builds — the REST
// and dynamic client it shares with pkg/cluster/lite, and the discovery
// client behind its REST mapper — against the real API server: no
// client-side rate limiter when the config asks for none, as the kubeconfig
// flags build it (issue 17.6: the server's priority and fairness paces
// requests, not a limiter of ours; client-go's default is a 5 QPS token
// bucket), and the limiter a config asks for kept.
func TestNewFollowsThePolicy(t *testing.T) {
	cp := controlplane.ForTest(t)
	cfg := cp.RESTConfig()
	cfg.QPS, cfg.Burst, cfg.RateLimiter = 0, 0, nil
	limiters := func(c *Client) map[string]float32 {
		t.Helper()
		// Discovery answers: the mapper's client is the one that served it.
		if _, err := c.Mapping(t.Context(), schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}); err != nil {
			t.Fatal(err)
		}
		qps := map[string]float32{}
		for name, rc := range map[string]rest.Interface{"REST and dynamic": c.rest, "discovery": c.disco.RESTClient()} {
			if rl := rc.GetRateLimiter(); rl != nil {
				qps[name] = rl.QPS()
			}
		}
		return qps
	}

	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := limiters(c); len(got) != 0 {
		t.Errorf("client-side rate limiters (QPS by client) %v, want none", got)
	}
	if cfg.QPS != 0 {
		t.Errorf("the caller's config was changed: QPS %v", cfg.QPS)
	}

	cfg.QPS, cfg.Burst = 50, 100
	if c, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	if got := limiters(c); got["REST and dynamic"] != 50 || got["discovery"] != 50 {
		t.Errorf("rate limiters (QPS by client) %v, want the 50 QPS the config asks for on both", got)
	}
}
