package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// SchemaReader reads the API server's published schemas.
type SchemaReader interface {
	// OpenAPIV3 returns the OpenAPI v3 document the server publishes for
	// gv (/openapi/v3/apis/<group>/<version>, or /openapi/v3/api/v1), as
	// JSON, or an error wrapping ErrKindNotServed when it publishes none.
	OpenAPIV3(ctx context.Context, gv schema.GroupVersion) ([]byte, error)
}

var _ SchemaReader = (*Client)(nil)

// OpenAPIV3 implements SchemaReader: it reads the index /openapi/v3, then
// the group-version's document at the URL the index gives (with its hash).
func (c *Client) OpenAPIV3(ctx context.Context, gv schema.GroupVersion) ([]byte, error) {
	raw, err := c.rest.Get().AbsPath("/openapi/v3").Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("reading /openapi/v3: %w", err)
	}
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("reading /openapi/v3: %w", err)
	}
	key := "apis/" + gv.Group + "/" + gv.Version
	if gv.Group == "" {
		key = "api/" + gv.Version
	}
	p, ok := index.Paths[key]
	if !ok || p.ServerRelativeURL == "" {
		return nil, fmt.Errorf("reading the OpenAPI schema of %s: %w", gv, ErrKindNotServed)
	}
	u, err := url.Parse(p.ServerRelativeURL)
	if err != nil {
		return nil, fmt.Errorf("reading the OpenAPI schema of %s: %w", gv, err)
	}
	req := c.rest.Get().AbsPath(u.Path).SetHeader("Accept", "application/json")
	for k, vs := range u.Query() {
		for _, v := range vs {
			req = req.Param(k, v)
		}
	}
	doc, err := req.Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("reading the OpenAPI schema of %s: %w", gv, err)
	}
	return doc, nil
}
