package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// EventCreator creates core/v1 Events.
type EventCreator interface {
	// CreateEvent creates ev in its namespace (ev.Namespace; "default" when
	// empty, as for events about cluster-scoped objects).
	CreateEvent(ctx context.Context, ev *corev1.Event) error
}

var _ EventCreator = (*Client)(nil)

var eventsResource = schema.GroupVersionResource{Version: "v1", Resource: "events"}

// CreateEvent implements EventCreator through the client's dynamic client.
// API errors are returned as they are (apierrors.IsForbidden, IsNotFound for
// a missing namespace, IsInvalid…), wrapped.
func (c *Client) CreateEvent(ctx context.Context, ev *corev1.Event) error {
	ns := ev.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	ev = ev.DeepCopy()
	ev.Namespace = ns
	ev.APIVersion, ev.Kind = "v1", "Event"
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ev)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	if _, err := c.dyn.Resource(eventsResource).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: content}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating event %s in namespace %s: %w", ev.Reason, ns, err)
	}
	return nil
}
