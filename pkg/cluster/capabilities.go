package cluster

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/client-go/discovery"
)

// ServerCapabilities returns what a Helm chart's templates see of the
// cluster (.Capabilities): the API server's version ("v1.37.2") and the
// API versions it serves, each "group/version" and "group/version/Kind",
// sorted. Groups that fail discovery are left out, as Helm leaves them.
func (c *Client) ServerCapabilities(ctx context.Context) (string, []string, error) {
	v, err := c.disco.ServerVersionWithContext(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("reading the server version: %w", err)
	}
	_, lists, err := c.disco.ServerGroupsAndResourcesWithContext(ctx)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return "", nil, fmt.Errorf("reading the served API versions: %w", err)
	}
	seen := map[string]bool{}
	for _, l := range lists {
		seen[l.GroupVersion] = true
		for _, r := range l.APIResources {
			seen[l.GroupVersion+"/"+r.Kind] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return v.GitVersion, out, nil
}
