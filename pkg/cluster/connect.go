package cluster

import (
	"k8s.io/client-go/rest"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster/lite"
)

// Config is the suite's one client policy (lite.Config), applied to a copy
// of cfg by every client this package builds: no client-side rate limit
// unless cfg asks for one, cfg.Timeout (--request-timeout) as the
// per-request timeout, and warnings to cfg's handler else client-go's
// default. A caller that needs a typed client builds it from Config(cfg);
// none is built here, so that a binary linking this package's policy need
// not link client-go's typed clientset.
func Config(cfg *rest.Config) *rest.Config { return lite.Config(cfg) }
