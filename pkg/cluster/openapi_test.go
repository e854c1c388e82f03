package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestOpenAPIV3 reads the group-version documents the real server
// publishes: the core group's and a named group's hold their kinds'
// schemas; a group-version the server does not serve is ErrKindNotServed;
// a cancelled context ends the read.
func TestOpenAPIV3(t *testing.T) {
	cp := controlplane.ForTest(t)
	c, err := New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for gv, schemaName := range map[schema.GroupVersion]string{
		{Version: "v1"}:                "io.k8s.api.core.v1.ConfigMap",
		{Group: "apps", Version: "v1"}: "io.k8s.api.apps.v1.Deployment",
	} {
		raw, err := c.OpenAPIV3(t.Context(), gv)
		if err != nil {
			t.Fatalf("%s: %v", gv, err)
		}
		var doc struct {
			Components struct{ Schemas map[string]json.RawMessage } `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: not JSON: %v", gv, err)
		}
		if _, ok := doc.Components.Schemas[schemaName]; !ok {
			t.Errorf("%s: no schema %s among %d", gv, schemaName, len(doc.Components.Schemas))
		}
	}
	if _, err := c.OpenAPIV3(t.Context(), schema.GroupVersion{Group: "example.com", Version: "v9"}); !errors.Is(err, ErrKindNotServed) {
		t.Errorf("unserved group-version: %v, want ErrKindNotServed", err)
	}
	// The index gives each document a URL with its hash, the same while
	// the document does not change.
	paths, err := c.OpenAPIV3Paths(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.OpenAPIV3Paths(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, gv := range []schema.GroupVersion{{Version: "v1"}, {Group: "apps", Version: "v1"}} {
		if p := paths[gv]; !strings.Contains(p, "hash=") || again[gv] != p {
			t.Errorf("%s: URL %q then %q, want the same, with a hash", gv, p, again[gv])
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.OpenAPIV3(ctx, schema.GroupVersion{Version: "v1"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}
