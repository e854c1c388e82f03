package promote

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// defaultRequestTimeout bounds each request to an environment's cluster
// when --request-timeout is not given, so that a cluster that never answers
// cannot stall a gate or `status`: client-go would otherwise wait without
// end (32 s per discovery request). --request-timeout=0 means no limit, as
// in kubectl.
const defaultRequestTimeout = 15 * time.Second

// kubeClusters opens the cluster of each environment: its context, or the
// kubeconfig flags' (--context, --kubeconfig, …) for environments that set
// none. One client per context; safe for concurrent use.
type kubeClusters struct {
	env *cli.Env
	// timeoutGiven tells whether --request-timeout was given.
	timeoutGiven func() bool

	mu      sync.Mutex
	clients map[string]*cluster.Client
}

func newKubeClusters(env *cli.Env, timeoutGiven func() bool) *kubeClusters {
	return &kubeClusters{env: env, timeoutGiven: timeoutGiven, clients: map[string]*cluster.Client{}}
}

// clientConfig is the kubeconfig of an environment's context.
func (k *kubeClusters) clientConfig(env *promotion.Environment) (clientcmd.ClientConfig, error) {
	if env.Context == "" {
		return k.env.ConfigFlags.ToRawKubeConfigLoader(), nil
	}
	raw, err := k.env.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	if _, ok := raw.Contexts[env.Context]; !ok {
		return nil, fmt.Errorf("context %q of environment %s is not in the kubeconfig", env.Context, env.Name)
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: env.Context}
	if t := k.env.ConfigFlags.Timeout; t != nil {
		overrides.Timeout = *t
	}
	return clientcmd.NewDefaultClientConfig(raw, overrides), nil
}

// restConfig is the REST config of an environment's cluster, with
// defaultRequestTimeout unless --request-timeout is given.
func (k *kubeClusters) restConfig(env *promotion.Environment) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if env.Context == "" {
		cfg, err = k.env.ConfigFlags.ToRESTConfig()
	} else {
		var cc clientcmd.ClientConfig
		if cc, err = k.clientConfig(env); err == nil {
			cfg, err = cc.ClientConfig()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig of environment %s: %w", env.Name, err)
	}
	if cfg.Timeout == 0 && !k.timeoutGiven() {
		cfg = rest.CopyConfig(cfg)
		cfg.Timeout = defaultRequestTimeout
	}
	return cfg, nil
}

// opener returns the function that opens an environment's cluster as the
// one client of its context, seen as T: cluster.Reader for
// promoter.Engine.Cluster, driftCluster for the drift gate (driftGate).
func opener[T any](k *kubeClusters, as func(*cluster.Client) T) func(context.Context, *promotion.Environment) (T, error) {
	return func(_ context.Context, env *promotion.Environment) (T, error) {
		cl, err := k.client(env)
		if err != nil {
			var none T
			return none, err
		}
		return as(cl), nil
	}
}

// client is the one client of the environment's context.
func (k *kubeClusters) client(env *promotion.Environment) (*cluster.Client, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if cl, ok := k.clients[env.Context]; ok {
		return cl, nil
	}
	cfg, err := k.restConfig(env)
	if err != nil {
		return nil, err
	}
	cl, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	k.clients[env.Context] = cl
	return cl, nil
}

// namespace is promoter.Engine.DefaultNamespace: the namespace of the
// environment's context (for environments without one, -n/--namespace or
// the current context's), "default" when the context sets none, as kubectl.
func (k *kubeClusters) namespace(_ context.Context, env *promotion.Environment) (string, error) {
	cc, err := k.clientConfig(env)
	if err != nil {
		return "", err
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return "", fmt.Errorf("reading the namespace of the context of %s: %w", env.Name, err)
	}
	return ns, nil
}
