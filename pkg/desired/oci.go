package desired

import (
	"context"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitopsapi"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/gitsource"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ocisource"
)

// operatorOCI fetches and renders a Flux Kustomization whose source is an
// OCIRepository: the artifact is pulled as source-controller pulls it (or
// read from the directory or registry --repo-override names) and the
// Kustomization's path is read from it.
func (f *Fetcher) operatorOCI(ctx context.Context, s Source, op *gitopsapi.Source, explicit bool, namespaced func(*unstructured.Unstructured) bool) Source {
	o := op.OCI
	path, _ := gitsource.CleanPath(op.Path)
	spec := ocisource.Spec{URL: o.URL,
		Ref:           ocisource.Ref{Tag: o.Tag, Semver: o.Semver, SemverFilter: o.SemverFilter, Digest: o.Digest},
		LayerSelector: ocisource.LayerSelector{MediaType: o.LayerMediaType, Operation: o.LayerOperation},
		Insecure:      o.Insecure, Provider: o.Provider, DockerConfigJSON: o.DockerConfigJSON, UserDockerConfig: true, Ignore: o.Ignore}
	s.Origin = Origin{RepoURL: gitsource.RedactURL(o.URL), Revision: ociRefLabel(o), Path: path}
	if f.opts.AppliedRevision {
		if d := appliedDigest(op.Status.Revision); d != "" {
			spec.Ref = ocisource.Ref{Digest: d}
			s.Origin.Revision = op.Status.Revision
		} else {
			s.Warnings = append(s.Warnings, "the operator reports no applied revision: comparing with "+ociRefLabel(o))
		}
	}
	if skip := op.Skip(); skip != "" {
		s.Skip = skip
		s.SkipIsError = op.Problem != "" || (op.Unsupported != "" && explicit)
		return s
	}
	var root string
	local := OverrideURL(f.opts.RepoOverrides, o.URL)
	if local != o.URL && !strings.HasPrefix(local, ocisource.URLPrefix) {
		// A directory holding the unpacked artifact.
		dir := strings.TrimPrefix(local, "file://")
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return skipError(s, fmt.Errorf("%s (overridden by --repo-override) is not a directory", dir))
		}
		if err := checkLinks(dir, path); err != nil {
			return skipError(s, err)
		}
		root, s.Origin.Revision = dir, "directory "+dir+" (--repo-override)"
	} else {
		spec.URL = local
		art, err := f.pull(ctx, spec)
		if err != nil {
			if local != o.URL {
				err = fmt.Errorf("%w (%s overridden by --repo-override)", err, gitsource.RedactURL(o.URL))
			}
			return skipError(s, err)
		}
		root = art.Root
		label := s.Origin.Revision
		s.Origin.Revision, s.Origin.Commit = art.Revision, art.Revision
		if spec.Ref.Digest != "" && spec.Ref.Digest != o.Digest {
			// Pulled by the digest Flux applied: its revision names the tag.
			s.Origin.Revision, s.Origin.Commit = op.Status.Revision, op.Status.Revision
		}
		if !f.opts.AppliedRevision && o.Semver != "" {
			s.Origin.Revision += " (" + label + ")"
		}
		if applied := op.Status.Revision; applied != "" && applied != art.Revision && !f.opts.AppliedRevision {
			s.Warnings = append(s.Warnings, fmt.Sprintf("Flux last applied %s; comparing with %s, what the registry serves now", applied, art.Revision))
		}
		for _, l := range art.SkippedLinks {
			s.Warnings = append(s.Warnings, "skipped symbolic link "+l+" in the artifact (Flux skips them)")
		}
	}
	s.Root = root
	set, err := gitopsapi.Render(ctx, op, root)
	if err != nil {
		return skipError(s, err)
	}
	s.Desired = FromSet(set, op, namespaced)
	s.Warnings = append(s.Warnings, SkippedWarnings(set)...)
	return s
}

// pull pulls each artifact once.
func (f *Fetcher) pull(ctx context.Context, spec ocisource.Spec) (*ocisource.Artifact, error) {
	ignore := "<nil>"
	if spec.Ignore != nil {
		ignore = *spec.Ignore
	}
	key := fmt.Sprintf("%s\x00%+v\x00%+v\x00%v\x00%s\x00%s\x00%s", spec.URL, spec.Ref, spec.LayerSelector, spec.Insecure, spec.Provider, ignore, spec.DockerConfigJSON)
	return f.cache.pull(ctx, key, spec)
}

// ociRefLabel says which artifact spec.ref asks for, as source-controller
// resolves it.
func ociRefLabel(o *gitopsapi.OCISource) string {
	switch {
	case o.Digest != "":
		return o.Digest
	case o.Semver != "":
		l := "semver " + o.Semver
		if o.SemverFilter != "" {
			l += ", filter " + o.SemverFilter
		}
		return l
	case o.Tag != "":
		return o.Tag
	}
	return "latest"
}

// appliedDigest returns the digest of a Flux OCI revision
// ("<tag>@sha256:<hex>" or "sha256:<hex>"), "" when it has none.
func appliedDigest(rev string) string {
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		rev = rev[i+1:]
	}
	hex, ok := strings.CutPrefix(rev, "sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return ""
	}
	return rev
}
