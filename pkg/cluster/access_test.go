package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// ReviewAccess asks the real authorizer: a binding made meanwhile turns a
// denial into an allowance with RBAC's reason, and an invalid review is the
// server's error.
func TestReviewAccessAsksTheAuthorizer(t *testing.T) {
	cp := controlplane.ForTest(t)
	ctx := context.Background()
	c, err := New(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	spec := authorizationv1.SubjectAccessReviewSpec{
		User: "reviewed-user", Groups: []string{"system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "secrets"},
	}
	st, err := c.ReviewAccess(ctx, spec)
	if err != nil || st.Allowed {
		t.Fatalf("before any binding: %+v, %v; want denied", st, err)
	}
	cs := kubernetes.NewForConfigOrDie(cp.RESTConfig())
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "review-access", Namespace: "default"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "reviewed-user"}},
	}
	if _, err := cs.RbacV1().RoleBindings("default").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().RoleBindings("default").Delete(context.Background(), rb.Name, metav1.DeleteOptions{})
	})
	// RBAC's authorizer reads bindings from an informer: a new binding is
	// seen a moment later (kubectl auth can-i waits the same way).
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err = c.ReviewAccess(ctx, spec)
		if err != nil || st.Allowed || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || !st.Allowed || !strings.Contains(st.Reason, `RoleBinding "review-access/default"`) {
		t.Fatalf("after the binding: %+v, %v; want allowed by the RoleBinding", st, err)
	}
	if _, err := c.ReviewAccess(ctx, authorizationv1.SubjectAccessReviewSpec{}); !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
		t.Errorf("an empty review: %v, want the server's invalid-request error", err)
	}
}
