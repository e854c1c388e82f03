package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
)

// SelfAccessReviewer asks the API server's authorizer whether the client's
// own user may do something: a SelfSubjectAccessReview, which any user may
// create.
type SelfAccessReviewer interface {
	// ReviewSelfAccess reports whether the user may do what attrs say.
	ReviewSelfAccess(ctx context.Context, attrs authorizationv1.ResourceAttributes) (bool, error)
}

var _ SelfAccessReviewer = (*Client)(nil)

var selfSubjectAccessReviews = []string{"apis", authorizationv1.SchemeGroupVersion.Group, authorizationv1.SchemeGroupVersion.Version, "selfsubjectaccessreviews"}

// ReviewSelfAccess implements SelfAccessReviewer, through the client's one
// connection pool like ReviewAccess.
func (c *Client) ReviewSelfAccess(ctx context.Context, attrs authorizationv1.ResourceAttributes) (bool, error) {
	ssar := authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}
	ssar.APIVersion, ssar.Kind = authorizationv1.SchemeGroupVersion.String(), "SelfSubjectAccessReview"
	data, err := json.Marshal(&ssar)
	if err != nil {
		return false, fmt.Errorf("encoding self access review: %w", err)
	}
	body, _, err := rawBody(c.rest.Post().AbsPath(selfSubjectAccessReviews...).SetHeader("Content-Type", "application/json").Body(data).Do(ctx))
	if err != nil {
		return false, fmt.Errorf("creating self access review: %w", err)
	}
	var out authorizationv1.SelfSubjectAccessReview
	if err := json.Unmarshal(body, &out); err != nil {
		return false, fmt.Errorf("decoding self access review: %w", err)
	}
	return out.Status.Allowed && !out.Status.Denied, nil
}
