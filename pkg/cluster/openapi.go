package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// SchemaReader reads the API server's published schemas.
type SchemaReader interface {
	// OpenAPIV3Paths reads the index /openapi/v3: the server-relative URL
	// of each group-version's document, by group-version. A URL carries
	// the hash of its document: it changes when the document does (a CRD
	// updated), so a document read from it can be kept as long as the
	// index gives the same URL.
	OpenAPIV3Paths(ctx context.Context) (map[schema.GroupVersion]string, error)
	// OpenAPIV3Document reads the document at a URL OpenAPIV3Paths gave,
	// as JSON.
	OpenAPIV3Document(ctx context.Context, serverRelativeURL string) ([]byte, error)
}

var _ SchemaReader = (*Client)(nil)

// OpenAPIV3Paths implements SchemaReader. Paths of the index that name no
// group-version (version, .well-known/…) are left out.
func (c *Client) OpenAPIV3Paths(ctx context.Context) (map[schema.GroupVersion]string, error) {
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
	paths := make(map[schema.GroupVersion]string, len(index.Paths))
	for key, p := range index.Paths {
		if p.ServerRelativeURL == "" {
			continue
		}
		parts := strings.Split(key, "/")
		switch {
		case len(parts) == 2 && parts[0] == "api":
			paths[schema.GroupVersion{Version: parts[1]}] = p.ServerRelativeURL
		case len(parts) == 3 && parts[0] == "apis":
			paths[schema.GroupVersion{Group: parts[1], Version: parts[2]}] = p.ServerRelativeURL
		}
	}
	return paths, nil
}

// OpenAPIV3Document implements SchemaReader.
func (c *Client) OpenAPIV3Document(ctx context.Context, serverRelativeURL string) ([]byte, error) {
	u, err := url.Parse(serverRelativeURL)
	if err != nil {
		return nil, fmt.Errorf("reading the OpenAPI schema at %s: %w", serverRelativeURL, err)
	}
	req := c.rest.Get().AbsPath(u.Path).SetHeader("Accept", "application/json")
	for k, vs := range u.Query() {
		for _, v := range vs {
			req = req.Param(k, v)
		}
	}
	doc, err := req.Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("reading the OpenAPI schema at %s: %w", u.Path, err)
	}
	return doc, nil
}

// OpenAPIV3 returns the OpenAPI v3 document the server publishes for gv
// (/openapi/v3/apis/<group>/<version>, or /openapi/v3/api/v1), as JSON, or
// an error wrapping ErrKindNotServed when it publishes none: it reads the
// index, then the document at the URL the index gives (with its hash).
// Callers that read several documents, or the same one more than once,
// read the index once with OpenAPIV3Paths instead.
func (c *Client) OpenAPIV3(ctx context.Context, gv schema.GroupVersion) ([]byte, error) {
	paths, err := c.OpenAPIV3Paths(ctx)
	if err != nil {
		return nil, err
	}
	p, ok := paths[gv]
	if !ok {
		return nil, fmt.Errorf("reading the OpenAPI schema of %s: %w", gv, ErrKindNotServed)
	}
	return c.OpenAPIV3Document(ctx, p)
}
