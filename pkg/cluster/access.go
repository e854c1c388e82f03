package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
)

// AccessReviewer asks the API server's authorizer whether a subject may do
// something: a SubjectAccessReview, so every RBAC binding and any webhook
// authorizer the server runs count.
type AccessReviewer interface {
	// ReviewAccess returns the authorizer's answer to spec.
	ReviewAccess(ctx context.Context, spec authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error)
}

var _ AccessReviewer = (*Client)(nil)

// subjectAccessReviews is the path SubjectAccessReviews are created at.
var subjectAccessReviews = []string{"apis", authorizationv1.SchemeGroupVersion.Group, authorizationv1.SchemeGroupVersion.Version, "subjectaccessreviews"}

// ReviewAccess implements AccessReviewer. It goes through the client's one
// HTTP connection pool and, like every request of Client, is not paced on
// the client side: callers bound their concurrency and the server's
// priority and fairness paces them (a review is cheap for the server, and a
// client limiter made a tenant's few hundred reviews take seconds).
func (c *Client) ReviewAccess(ctx context.Context, spec authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
	sar := authorizationv1.SubjectAccessReview{Spec: spec}
	sar.APIVersion, sar.Kind = authorizationv1.SchemeGroupVersion.String(), "SubjectAccessReview"
	data, err := json.Marshal(&sar)
	if err != nil {
		return authorizationv1.SubjectAccessReviewStatus{}, fmt.Errorf("encoding access review: %w", err)
	}
	body, _, err := rawBody(c.rest.Post().AbsPath(subjectAccessReviews...).SetHeader("Content-Type", "application/json").Body(data).Do(ctx))
	if err != nil {
		return authorizationv1.SubjectAccessReviewStatus{}, fmt.Errorf("creating access review: %w", err)
	}
	var out authorizationv1.SubjectAccessReview
	if err := json.Unmarshal(body, &out); err != nil {
		return authorizationv1.SubjectAccessReviewStatus{}, fmt.Errorf("decoding access review: %w", err)
	}
	return out.Status, nil
}
