package cluster

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Deleter deletes live objects.
type Deleter interface {
	// Delete deletes the object with background propagation (dependents are
	// garbage-collected after it is gone, as kubectl delete does). A missing
	// object is an error satisfying apierrors.IsNotFound.
	Delete(ctx context.Context, m *meta.RESTMapping, namespace, name string) error
}

// Patcher changes live objects with a JSON patch.
type Patcher interface {
	// JSONPatch applies an RFC 6902 JSON patch to the object and returns
	// the result (with opts.DryRun, what the object would become). A failed
	// "test" operation is an error satisfying apierrors.IsInvalid, as an
	// admission refusal often is. It is how fields that server-side apply
	// keeps for other managers are removed.
	JSONPatch(ctx context.Context, m *meta.RESTMapping, namespace, name string, patch []byte, opts PatchOptions) (*unstructured.Unstructured, error)
}

// PatchOptions are the options of one JSON patch.
type PatchOptions struct {
	FieldManager string
	DryRun       bool
}

var _ interface {
	Deleter
	Patcher
} = (*Client)(nil)

// Delete implements Deleter.
func (c *Client) Delete(ctx context.Context, m *meta.RESTMapping, namespace, name string) error {
	bg := metav1.DeletePropagationBackground
	return c.resource(m, namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
}

// JSONPatch implements Patcher.
func (c *Client) JSONPatch(ctx context.Context, m *meta.RESTMapping, namespace, name string, patch []byte, opts PatchOptions) (*unstructured.Unstructured, error) {
	po := metav1.PatchOptions{FieldManager: opts.FieldManager}
	if opts.DryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	return c.resource(m, namespace).Patch(ctx, name, types.JSONPatchType, patch, po)
}
