package cluster

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Config is the suite's one client policy, applied to a copy of cfg by
// every client this package builds (New, NewClientset):
//   - no client-side rate limit unless cfg asks for one (a RateLimiter or a
//     QPS): callers bound their concurrency and the API server's priority
//     and fairness paces requests (client-go's default of 5 requests per
//     second would make a 5,000-object comparison take minutes);
//   - the per-request timeout is cfg.Timeout, which the kubeconfig flags set
//     from --request-timeout; none is added here;
//   - warnings go to the handler cfg names, else to client-go's default
//     (printed on stderr, as kubectl does); none is added here.
func Config(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	if cfg.RateLimiter == nil && cfg.QPS == 0 {
		cfg.QPS = -1
	}
	return cfg
}

// NewClientset builds a typed client under Config's policy, for callers
// that need typed resources or discovery (the server's version, a Service
// proxy) rather than Reader and Applier.
func NewClientset(cfg *rest.Config) (kubernetes.Interface, error) {
	cs, err := kubernetes.NewForConfig(Config(cfg))
	if err != nil {
		return nil, fmt.Errorf("creating client: %w", err)
	}
	return cs, nil
}
