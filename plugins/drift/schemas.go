package drift

import (
	"sync"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
)

// schemaCaches hold the OpenAPI v3 schemas of each cluster connection of a
// run, so that every source compared with one cluster (several sources,
// --all-flux, drift status, each check of drift watch) reads and decodes
// each document once. One per client: a fleet's clusters never share
// schemas. compare.Schemas drop a document when the server's index gives
// it a new hash (a CRD updated), so drift watch keeps them across checks.
type schemaCaches struct {
	mu sync.Mutex
	m  map[*cluster.Client]*compare.Schemas
}

func newSchemaCaches() *schemaCaches {
	return &schemaCaches{m: map[*cluster.Client]*compare.Schemas{}}
}

// of returns client's schemas (nil, when c is: each comparison reads its
// own).
func (c *schemaCaches) of(client *cluster.Client) *compare.Schemas {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[client]
	if !ok {
		s = compare.NewSchemas(client)
		c.m[client] = s
	}
	return s
}

// forget drops client's schemas, once nothing compares with it any more
// (a fleet's cluster checked).
func (c *schemaCaches) forget(client *cluster.Client) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, client)
}
