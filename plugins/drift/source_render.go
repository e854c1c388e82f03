package drift

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// SourcesReportKind identifies the -o json / -o yaml schema of a run with
// sources other than -f/-k: one DriftReport per source (docs/drift.md).
const SourcesReportKind = "DriftReportList"

// JSONSourcesReport is the -o json / -o yaml schema with sources.
type JSONSourcesReport struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Mode       string `json:"mode"`
	// Summary counts the objects of every compared source by status.
	Summary map[string]int `json:"summary"`
	Sources []JSONSource   `json:"sources"`
}

// JSONSource is one source and its report.
type JSONSource struct {
	// Name is "git/<url>@<revision>/<path>", "argocd/<namespace>/<name>",
	// "flux/<namespace>/<name>" or "helmrelease/<namespace>/<name>".
	Name string `json:"name"`
	// Type is git, argocd, flux or helmrelease.
	Type string `json:"type"`
	// Object is the Argo CD Application, Flux Kustomization or HelmRelease.
	Object   *JSONSourceObject `json:"object,omitempty"`
	RepoURL  string            `json:"repoURL,omitempty"`
	Revision string            `json:"revision,omitempty"`
	// Commit is the commit compared.
	Commit string `json:"commit,omitempty"`
	Path   string `json:"path,omitempty"`
	// Status is compared, skipped (Reason says why: disabled, not
	// supported) or error (Reason says what failed).
	Status   string        `json:"status"`
	Reason   string        `json:"reason,omitempty"`
	Operator *JSONOperator `json:"operator,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
	// Report is the DriftReport of the source, when compared.
	Report *JSONReport `json:"report,omitempty"`
}

// JSONSourceObject names the operator's object.
type JSONSourceObject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// JSONOperator is the operator's own view of the source.
type JSONOperator struct {
	Sync      string `json:"sync,omitempty"`
	Health    string `json:"health,omitempty"`
	Ready     string `json:"ready,omitempty"`
	Message   string `json:"message,omitempty"`
	Revision  string `json:"revision,omitempty"`
	Suspended bool   `json:"suspended,omitempty"`
}

// Source statuses in the JSON report.
const (
	sourceCompared = "compared"
	sourceSkipped  = "skipped"
	sourceError    = "error"
)

func sourceStatus(r *sourceReport) (string, string) {
	switch {
	case r.Err != nil:
		return sourceError, r.Err.Error()
	case r.Report == nil:
		return sourceSkipped, r.Source.Skip
	}
	return sourceCompared, ""
}

func toSourcesJSON(reports []sourceReport, mode string) JSONSourcesReport {
	out := JSONSourcesReport{APIVersion: ReportAPIVersion, Kind: SourcesReportKind, Mode: mode, Summary: map[string]int{}, Sources: []JSONSource{}}
	for _, s := range []compare.Status{compare.StatusUnchanged, compare.StatusModified, compare.StatusMissing, compare.StatusExtraneous, compare.StatusSkipped, compare.StatusError} {
		out.Summary[string(s)] = 0
	}
	for i := range reports {
		r := &reports[i]
		s := r.Source
		js := JSONSource{Name: s.Name, Type: s.Type, RepoURL: s.Origin.RepoURL, Revision: s.Origin.Revision,
			Commit: s.Origin.Commit, Path: s.Origin.Path, Warnings: s.Warnings}
		js.Status, js.Reason = sourceStatus(r)
		if op := s.Operator; op != nil {
			js.Object = &JSONSourceObject{Kind: op.Kind, Namespace: op.Namespace, Name: op.Name}
			js.Operator = &JSONOperator{Sync: op.Status.Sync, Health: op.Status.Health, Ready: op.Status.Ready,
				Message: op.Status.Message, Revision: op.Status.Revision, Suspended: op.Suspended}
		}
		if r.Report != nil {
			rep := toJSON(r.Report)
			js.Report = &rep
			for k, n := range r.Report.Counts() {
				out.Summary[string(k)] += n
			}
		}
		out.Sources = append(out.Sources, js)
	}
	return out
}

// describeOrigin says where a source's manifests came from, e.g.
// "https://host/repo.git@main (3f2a9c1), path apps/web".
func describeOrigin(s *source) string {
	o := s.Origin
	if o.RepoURL == "" {
		return ""
	}
	d := o.RepoURL + "@" + o.Revision
	if o.Commit != "" && !strings.HasPrefix(o.Revision, o.Commit) {
		d += " (" + short(o.Commit) + ")"
	}
	if o.Path != "" && o.Path != "." {
		d += ", path " + o.Path
	}
	return d
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// sourceHeading is the first line of a source's section in text formats.
func sourceHeading(r *sourceReport) string {
	h := r.Source.Name
	if d := describeOrigin(&r.Source); d != "" {
		h += ": " + d
	}
	status, reason := sourceStatus(r)
	switch status {
	case sourceError:
		h += " — error: " + reason
	case sourceSkipped:
		h += " — skipped: " + reason
	default:
		h += " — " + summaryLine(r.Report)
	}
	return h
}

// renderSources renders one report per source in the given format.
func renderSources(w, errw io.Writer, reports []sourceReport, format, mode string, color, noHeaders bool) error {
	switch format {
	case "json", "yaml":
		return cli.WriteData(w, format, toSourcesJSON(reports, mode))
	case "markdown":
		return renderSourcesMarkdown(w, reports)
	case "name":
		// Names only on stdout, for xargs; a source not compared is told
		// on stderr, as the object errors are.
		for i := range reports {
			r := &reports[i]
			if r.Report == nil {
				fmt.Fprintf(errw, "# source %s\n", sourceHeading(r))
				continue
			}
			reportErrors(errw, r.Report)
			if err := renderNames(w, r.Report); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range reports {
		r := &reports[i]
		if i > 0 && (format == "summary" || format == "wide") {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "# source %s\n", sourceHeading(r))
		if r.Report == nil {
			continue
		}
		switch format {
		case "summary", "wide":
			if err := renderSummary(w, r.Report, noHeaders, format == "wide"); err != nil {
				return err
			}
		default:
			reportErrors(errw, r.Report)
			if ext := strings.TrimSpace(os.Getenv("KUBECTL_EXTERNAL_DIFF")); ext != "" {
				if err := externalDiff(w, errw, r.Report, ext); err != nil {
					return err
				}
				continue
			}
			if err := renderDiff(w, r.Report, color); err != nil {
				return err
			}
		}
	}
	return nil
}

// renderSourcesMarkdown writes one section per source, for a pull-request
// comment.
func renderSourcesMarkdown(w io.Writer, reports []sourceReport) error {
	var b strings.Builder
	b.WriteString("### kubectl gitops drift\n\n")
	b.WriteString("| Source | Status |\n|---|---|\n")
	for i := range reports {
		r := &reports[i]
		status, reason := sourceStatus(r)
		if status == sourceCompared {
			reason = summaryLine(r.Report)
		}
		fmt.Fprintf(&b, "| %s | %s: %s |\n", mdEscape(r.Source.Name), status, mdEscape(reason))
	}
	for i := range reports {
		r := &reports[i]
		if r.Report == nil {
			continue
		}
		var section bytes.Buffer
		if err := renderMarkdown(&section, r.Report); err != nil {
			return err
		}
		title := "#### " + mdEscape(r.Source.Name)
		if d := describeOrigin(&r.Source); d != "" {
			title += "\n\n" + mdEscape(d)
		}
		b.WriteString("\n" + strings.Replace(section.String(), "### kubectl gitops drift", title, 1))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
