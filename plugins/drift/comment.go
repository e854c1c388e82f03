package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/prcomment"
)

// CommentFlags post the Markdown report as one pull-request comment
// (plugins/internal/prcomment, shared with repo lint).
type CommentFlags struct {
	comment prcomment.Flags
}

func (o *Options) addCommentFlags(f *pflag.FlagSet) {
	o.comment.AddFlags(f, "drift", "report", "derived from the sources and the kubeconfig context")
}

// validateComment checks the comment flags: a pull-request comment is
// public to the repository's readers, so Secret values are never shown.
func (o *Options) validateComment() error {
	if !o.comment.Enabled() {
		return nil
	}
	if err := o.comment.Validate(); err != nil {
		return err
	}
	switch {
	case o.ShowSecrets:
		return cli.Usagef("--show-secrets cannot be combined with --comment-on-pr: the comment would publish Secret values")
	case o.fleetMode() || o.remediating() || o.Adopt || o.ListIgnoreRules:
		return cli.Usagef("--comment-on-pr works with a drift report only (not with --contexts, --fix, --prune, --adopt or --list-ignore-rules)")
	}
	return nil
}

// prepareComment resolves the forge, its token and the client before the
// comparison runs, so a run that cannot comment fails early.
func (o *Options) prepareComment(ctx context.Context) error { return o.comment.Prepare(ctx) }

// commentKey is the hidden marker of this run's comment: the user's
// --comment-key, or a digest of the sources and the kubeconfig context, so
// that runs on other sources or clusters keep their own comment.
func (o *Options) commentKey() string {
	key := o.comment.CommentKey
	if key == "" {
		h := sha256.New()
		ctxName := ""
		if o.env.ConfigFlags.Context != nil {
			ctxName = *o.env.ConfigFlags.Context
		}
		for _, part := range [][]string{o.Filenames, {o.Kustomize, o.Repo, o.Revision, o.Path, o.Selector, ctxName, fmt.Sprint(o.AllArgoApps, o.AllFlux)}, o.ArgoApps, o.FluxKustomizations} {
			fmt.Fprintf(h, "%q\n", part)
		}
		key = hex.EncodeToString(h.Sum(nil))[:12]
	}
	return prcomment.Marker("drift", key)
}

// postComment posts the Markdown report written by md. A failure is
// reported on stderr and makes the run exit 2; otherwise runErr (the drift
// result) decides the exit code.
func (o *Options) postComment(ctx context.Context, runErr error, md func(w io.Writer) error) error {
	return o.comment.Post(ctx, o.Streams.ErrOut, o.commentKey(), runErr, md)
}
