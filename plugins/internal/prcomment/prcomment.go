package prcomment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/forge"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitrepo"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/promotion"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Flags post a Markdown report as one pull-request comment.
type Flags struct {
	CommentOnPR     int
	CommentKey      string
	ForgeRemote     string
	ForgeType       string
	ForgeURL        string
	TrustForgeHosts []string
	AllowHTTPForge  bool

	commenter forge.Commenter // set by Prepare
}

// AddFlags registers the flags. The help names the verb, what it posts
// ("report") and how --comment-key defaults.
func (o *Flags) AddFlags(f *pflag.FlagSet, verb, what, keyDefault string) {
	f.IntVar(&o.CommentOnPR, "comment-on-pr", 0, "Also post the "+what+", as Markdown, as one comment on this pull (merge) request, updated on the next run (token from GITHUB_TOKEN, GITLAB_TOKEN or GITEA_TOKEN)")
	f.StringVar(&o.CommentKey, "comment-key", "", "What tells this run's comment from other "+verb+" comments on the pull request (default: "+keyDefault+")")
	f.StringVar(&o.ForgeRemote, "forge-remote", "origin", "Git remote (of the repository in the current directory), or remote URL, naming the forge repository of --comment-on-pr")
	f.StringVar(&o.ForgeType, "forge-type", "", "Forge of --forge-remote when its host does not tell: github, gitlab, gitea or forgejo")
	f.StringVar(&o.ForgeURL, "forge-url", "", "Web or API root of the forge (default: derived from the remote)")
	f.StringSliceVar(&o.TrustForgeHosts, "trust-forge-host", nil, "A forge API host other than the remote's that may receive the forge token (repeatable; also "+forge.TrustHostsEnv+", comma-separated)")
	f.BoolVar(&o.AllowHTTPForge, "allow-http-forge", false, "Send the forge token over plain http to a host that is not a loopback address")
}

// Enabled tells whether a comment was asked for.
func (o *Flags) Enabled() bool { return o.CommentOnPR != 0 }

// Validate checks the number and --comment-key.
func (o *Flags) Validate() error {
	switch {
	case o.CommentOnPR < 0:
		return cli.Usagef("--comment-on-pr must be a pull request number")
	case o.CommentKey != "" && !forge.ValidMarker(Marker("verb", o.CommentKey)):
		return cli.Usagef("--comment-key %q: use letters, digits and . _ : / @ + = -", o.CommentKey)
	}
	return nil
}

// Marker is the hidden marker of a verb's comment with key.
func Marker(verb, key string) string { return "kubectl-gitops:" + verb + ":" + key }

// Prepare resolves the forge, its token and the client, so that a run
// that cannot comment fails before it does its work. The token is only
// read when it may go to the forge's API (forge.CheckTokenTarget).
func (o *Flags) Prepare(ctx context.Context) error {
	if o.CommentOnPR == 0 {
		return nil
	}
	remoteURL := o.ForgeRemote
	if !strings.Contains(remoteURL, "://") && !strings.Contains(remoteURL, "@") {
		repo, err := gitrepo.Open(ctx, ".")
		if err != nil {
			return fmt.Errorf("finding the forge of --comment-on-pr (run in a checkout, or give --forge-remote URL): %w", err)
		}
		if remoteURL, err = repo.RemoteURL(ctx, o.ForgeRemote); err != nil {
			return fmt.Errorf("finding the forge of --comment-on-pr: %w", err)
		}
	}
	remoteURL = gitrepo.RedactURL(remoteURL)
	cfg := forge.Config{URL: o.ForgeURL}
	if o.ForgeType != "" {
		var err error
		if cfg.Kind, err = forge.ParseKind(o.ForgeType); err != nil {
			return &cli.UsageError{Err: fmt.Errorf("--forge-type: %w", err)}
		}
	}
	fr, err := forge.ParseRemote(remoteURL, cfg)
	if err != nil {
		return fmt.Errorf("recognising the forge of %s (set --forge-type): %w", remoteURL, err)
	}
	trust := forge.Trust{Hosts: o.TrustForgeHosts, AllowHTTP: o.AllowHTTPForge}
	for _, h := range strings.Split(os.Getenv(forge.TrustHostsEnv), ",") {
		if h = strings.TrimSpace(h); h != "" {
			trust.Hosts = append(trust.Hosts, h)
		}
	}
	if err := forge.CheckTokenTarget(fr, remoteURL, trust); err != nil {
		var te *forge.TokenTargetError
		hint := ""
		if errors.As(err, &te) && te.Insecure {
			hint = " or pass --allow-http-forge"
		} else if errors.As(err, &te) {
			hint = fmt.Sprintf(" or confirm it with --trust-forge-host %s (or %s)", te.Host, forge.TrustHostsEnv)
		}
		return fmt.Errorf("commenting on pull request %d of %s: %w (no token is sent: use https%s)", o.CommentOnPR, remoteURL, err, hint)
	}
	tokenEnv := promotion.DefaultTokenEnv(promotion.ForgeType(fr.Kind))
	token := os.Getenv(tokenEnv)
	if token == "" {
		return fmt.Errorf("commenting on pull request %d of %s: no token in %s", o.CommentOnPR, remoteURL, tokenEnv)
	}
	o.commenter = forge.NewCommenter(fr, token, nil)
	return nil
}

// Post posts the Markdown report written by md as the comment carrying
// marker. A failure is reported on errOut and makes the run exit 2;
// otherwise runErr (the verb's result) decides the exit code.
func (o *Flags) Post(ctx context.Context, errOut io.Writer, marker string, runErr error, md func(w io.Writer) error) error {
	if o.commenter == nil {
		return runErr
	}
	var b bytes.Buffer
	err := md(&b)
	if err == nil {
		var c forge.Comment
		if c, err = o.commenter.UpsertComment(ctx, o.CommentOnPR, marker, b.String()); err == nil {
			verb := "added"
			if c.Updated {
				verb = "updated"
			}
			if c.Truncated {
				verb += " (truncated to the forge's limit)"
			}
			fmt.Fprintf(errOut, "comment %s on pull request %d: %s\n", verb, o.CommentOnPR, c.URL)
			return runErr
		}
	}
	err = fmt.Errorf("commenting on pull request %d: %w", o.CommentOnPR, err)
	if runErr == nil || errors.As(runErr, new(*cli.FindingsError)) {
		return err
	}
	fmt.Fprintln(errOut, "error:", err)
	return runErr
}
