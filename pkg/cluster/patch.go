package cluster

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Patch sends a patch of type pt (a JSON merge or strategic merge patch, as
// client-side kubectl apply computes) to one object: what `kubectl apply`
// without --server-side does, for callers that must act as a client-side
// applier (e.g. dry-running an object as Argo CD's default sync would).
func (c *Client) Patch(ctx context.Context, m *meta.RESTMapping, namespace, name string, pt types.PatchType, data []byte, opts PatchOptions) (*unstructured.Unstructured, error) {
	ns := namespaceOf(m, namespace)
	if err := validPathSegments(ns, name); err != nil {
		return nil, err
	}
	po := metav1.PatchOptions{FieldManager: opts.FieldManager}
	if opts.DryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	res := c.rest.Patch(pt).
		AbsPath(urlSegments(m.Resource, ns, name)...).
		Body(data).
		SpecificallyVersionedParams(&po, parameterCodec, versionV1).
		Do(ctx)
	return decodeObject(res, true)
}
