package cluster

import (
	"context"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster/lite"
)

// ServiceProxy reads from a Service through the API server's service proxy,
// as kubeseal fetches the sealed-secrets controller's certificate.
type ServiceProxy interface {
	// ServiceProxyGet GETs path from port (a port name or number) of the
	// Service namespace/name over scheme ("http" or "https"), through
	// /api/v1/namespaces/NS/services/SCHEME:NAME:PORT/proxy/PATH (RBAC: get
	// on services/proxy). API errors are returned as they are
	// (apierrors.IsNotFound, IsForbidden…), for the caller to wrap.
	ServiceProxyGet(ctx context.Context, namespace, name, scheme, port, path string) ([]byte, error)
}

var _ ServiceProxy = (*Client)(nil)

// ServiceProxyGet implements ServiceProxy through the client's REST client
// (one HTTP connection pool, the policy of Config).
func (c *Client) ServiceProxyGet(ctx context.Context, namespace, name, scheme, port, path string) ([]byte, error) {
	return lite.ServiceProxyGet(ctx, c.rest, namespace, name, scheme, port, path)
}
