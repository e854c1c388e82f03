package drift

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/ignore"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/textdiff"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// ReportAPIVersion and ReportKind identify the JSON/YAML report schema
// (docs/drift.md).
const (
	ReportAPIVersion = "gitops.kubectl-gitops.dev/v1alpha1"
	ReportKind       = "DriftReport"
)

// JSONReport is the -o json / -o yaml schema. Field names are stable.
type JSONReport struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Mode       string         `json:"mode"`
	Summary    map[string]int `json:"summary"`
	Objects    []JSONObject   `json:"objects"`
	Warnings   []string       `json:"warnings,omitempty"`
	// ServerCompared (hybrid mode only) counts the objects the local pass
	// could not decide, by reason: the server compared them.
	ServerCompared map[string]int `json:"serverCompared,omitempty"`
}

// JSONObject is one object of the report.
type JSONObject struct {
	APIVersion   string       `json:"apiVersion"`
	Kind         string       `json:"kind"`
	Namespace    string       `json:"namespace,omitempty"`
	Name         string       `json:"name"`
	Source       string       `json:"source,omitempty"`
	Status       string       `json:"status"`
	Reason       string       `json:"reason,omitempty"`
	FieldManager string       `json:"fieldManager,omitempty"`
	Changes      []JSONChange `json:"changes,omitempty"`
}

// JSONChange is one drifted field.
type JSONChange struct {
	Path     string          `json:"path"`
	Pointer  string          `json:"pointer"`
	Type     string          `json:"type"`
	Live     any             `json:"live,omitempty"`
	Desired  any             `json:"desired,omitempty"`
	Note     string          `json:"note,omitempty"`
	Managers []objdiff.Owner `json:"managers,omitempty"`
}

func toJSON(rep *compare.Report) JSONReport {
	out := toJSONHead(rep)
	for i := range rep.Objects {
		out.Objects = append(out.Objects, toJSONObject(&rep.Objects[i]))
	}
	return out
}

// toJSONHead is toJSON without the objects (an empty list); the summary
// counts them.
func toJSONHead(rep *compare.Report) JSONReport {
	out := JSONReport{APIVersion: ReportAPIVersion, Kind: ReportKind, Mode: string(rep.Mode), Summary: map[string]int{}, Objects: []JSONObject{}, Warnings: rep.Warnings}
	if rep.Mode == compare.ModeHybrid {
		out.ServerCompared = map[string]int{}
		for reason, n := range rep.ServerReasons {
			out.ServerCompared[reason] = n
		}
	}
	for _, s := range []compare.Status{compare.StatusUnchanged, compare.StatusModified, compare.StatusMissing, compare.StatusExtraneous, compare.StatusSkipped, compare.StatusError} {
		out.Summary[string(s)] = 0
	}
	for s, n := range rep.Counts() {
		out.Summary[string(s)] = n
	}
	return out
}

func toJSONObject(o *compare.ObjectReport) JSONObject {
	jo := JSONObject{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Source: o.Source,
		Status: string(o.Status), Reason: o.Reason, FieldManager: o.FieldManager}
	for _, c := range o.Changes {
		jo.Changes = append(jo.Changes, JSONChange{Path: c.Path.String(), Pointer: c.Path.Pointer(), Type: string(c.Type),
			Live: c.Live, Desired: c.Desired, Note: c.Note, Managers: c.Owners})
	}
	return jo
}

// writeReport writes rep with -o json or -o yaml: the bytes
// cli.WriteData(w, format, toJSON(rep)) writes, but converting and
// encoding one object at a time, so that the document is never held whole
// (16 MB of JSON at 50,000 objects, and several times that while encoding
// it, or as the YAML converter's tree). The document without its objects is
// encoded as before; the objects are written where its empty list is.
func writeReport(w io.Writer, format string, rep *compare.Report) error {
	var head bytes.Buffer
	if err := cli.WriteData(&head, format, toJSONHead(rep)); err != nil {
		return err
	}
	// The empty list, in either encoding, where the document has its
	// "objects" key: at the top level, which only these keys are.
	empty, open, closing := "\n  \"objects\": []", "\n  \"objects\": [", "\n  ]"
	if format == cli.FormatYAML {
		empty, open, closing = "\nobjects: []\n", "\nobjects:\n", ""
	}
	if len(rep.Objects) == 0 {
		_, err := w.Write(head.Bytes())
		return err
	}
	before, after, ok := bytes.Cut(head.Bytes(), []byte(empty))
	if !ok {
		return fmt.Errorf("writing the report: no objects list in its %s encoding", format)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	// put writes parts, stopping at the first error (a closed pipe ends
	// the encoding too).
	put := func(parts ...[]byte) error {
		for _, p := range parts {
			if _, err := bw.Write(p); err != nil {
				return err
			}
		}
		return nil
	}
	if err := put(before, []byte(open)); err != nil {
		return err
	}
	for i := range rep.Objects {
		jo := toJSONObject(&rep.Objects[i])
		var sep []byte
		var data []byte
		var err error
		if format == cli.FormatYAML {
			// A one-item list at the top level is the item as the
			// whole list, at the top level, has it.
			data, err = yaml.Marshal([]JSONObject{jo})
		} else {
			// Indented as json.Encoder.SetIndent("", "  ") indents
			// the objects list's items: two levels deep.
			data, err = json.MarshalIndent(jo, "    ", "  ")
			sep = []byte(",\n    ")
			if i == 0 {
				sep = sep[1:]
			}
		}
		if err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
		if err := put(sep, data); err != nil {
			return err
		}
	}
	if err := put([]byte(closing), after); err != nil {
		return err
	}
	return bw.Flush()
}

func render(w, errw io.Writer, rep *compare.Report, format string, color, noHeaders bool) error {
	switch format {
	case "json", "yaml":
		return writeReport(w, format, rep)
	case "summary", "wide":
		return renderSummary(w, rep, noHeaders, format == "wide")
	case "markdown":
		return renderMarkdown(w, rep)
	case "name":
		reportErrors(errw, rep)
		return renderNames(w, rep)
	default:
		reportErrors(errw, rep)
		if ext := strings.TrimSpace(os.Getenv("KUBECTL_EXTERNAL_DIFF")); ext != "" {
			return externalDiff(w, errw, rep, ext)
		}
		return renderDiff(w, rep, color)
	}
}

// renderNames writes the drifted objects one per line as kubectl get -o name
// does (cli-runtime's NamePrinter: lowercase kind, dot group, slash name, no
// namespace), so the output can be piped to kubectl get.
func renderNames(w io.Writer, rep *compare.Report) error {
	p := &printers.NamePrinter{}
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if !o.Drifted() {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(o.APIVersion)
		u.SetKind(o.Kind)
		u.SetName(o.Name)
		if err := p.PrintObj(u, w); err != nil {
			return fmt.Errorf("printing %s: %w", objectID(o), err)
		}
	}
	return nil
}

func objectID(o *compare.ObjectReport) string {
	id := o.APIVersion + " " + o.Kind + " "
	if o.Namespace != "" {
		id += o.Namespace + "/"
	}
	return id + o.Name
}

func reportErrors(w io.Writer, rep *compare.Report) {
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if o.Status == compare.StatusError {
			fmt.Fprintf(w, "error: %s (%s): %s\n", objectID(o), o.Source, o.Reason)
		}
	}
}

func toYAML(obj map[string]any) string {
	if obj == nil {
		return ""
	}
	data, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Sprintf("# cannot render: %v\n", err)
	}
	return string(data)
}

// fileName names an object in diff headers and external-diff files the way
// kubectl diff does: group.version.Kind.namespace.name.
func fileName(o *compare.ObjectReport) string {
	gv := strings.ReplaceAll(o.APIVersion, "/", ".")
	parts := []string{gv, o.Kind}
	if o.Namespace != "" {
		parts = append(parts, o.Namespace)
	}
	return strings.Join(append(parts, o.Name), ".")
}

func renderDiff(w io.Writer, rep *compare.Report, color bool) error {
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if !o.Drifted() {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# %s: %s", objectID(o), o.Status)
		if o.Source != "" {
			fmt.Fprintf(&b, " (%s)", o.Source)
		}
		b.WriteString("\n")
		if o.Reason != "" {
			fmt.Fprintf(&b, "#   %s\n", o.Reason)
		}
		for _, c := range o.Changes {
			fmt.Fprintf(&b, "#   %s\n", describeChange(c))
		}
		d := textdiff.Unified("live/"+fileName(o), "git/"+fileName(o), toYAML(o.Live), toYAML(o.After), 3)
		if color {
			d = textdiff.Colorize(d)
		}
		b.WriteString(d)
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

func scalar(v any) string {
	if v == nil {
		return "(unset)"
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSuffix(buf.String(), "\n")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	return s
}

func describeChange(c objdiff.Change) string {
	var s string
	switch c.Type {
	case objdiff.Missing:
		s = fmt.Sprintf("%s: missing in the cluster (Git: %s)", c.Path, scalar(c.Desired))
	case objdiff.Extra:
		s = fmt.Sprintf("%s: %s, %s", c.Path, scalar(c.Live), c.Note)
		if c.Note == "" {
			s = fmt.Sprintf("%s: %s, not in Git", c.Path, scalar(c.Live))
		}
	case objdiff.Reordered:
		s = fmt.Sprintf("%s: order %s in Git, %s live", c.Path, scalar(c.Desired), scalar(c.Live))
	default:
		s = fmt.Sprintf("%s: %s in Git, %s live", c.Path, scalar(c.Desired), scalar(c.Live))
	}
	if len(c.Owners) > 0 {
		s += ", by " + c.Owners[0].String()
		if n := len(c.Owners) - 1; n > 0 {
			s += fmt.Sprintf(" (+%d more)", n)
		}
	}
	return s
}

func who(o *compare.ObjectReport) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range o.Changes {
		if len(c.Owners) == 0 {
			continue
		}
		m := c.Owners[0].Manager
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func changedPaths(o *compare.ObjectReport) string {
	var ps []string
	for _, c := range o.Changes {
		ps = append(ps, c.Path.String())
	}
	if len(ps) > 3 {
		ps = append(ps[:3], fmt.Sprintf("+%d more", len(ps)-3))
	}
	return strings.Join(ps, ",")
}

// renderSummary prints the -o summary table and its totals line; with
// noHeaders, as 'kubectl get --no-headers', the rows only.
// renderSummary writes the -o summary table; wide (-o wide) adds SOURCE,
// where Git declares each object, on the right.
func renderSummary(w io.Writer, rep *compare.Report, noHeaders, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if !noHeaders {
		header := "KIND\tNAMESPACE\tNAME\tSTATUS\tCHANGED\tWHO"
		if wide {
			header += "\tSOURCE"
		}
		fmt.Fprintln(tw, header)
	}
	for i := range rep.Objects {
		o := &rep.Objects[i]
		changed := changedPaths(o)
		if o.Status == compare.StatusError || o.Status == compare.StatusSkipped {
			changed = o.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s", kindGroup(o), dash(o.Namespace), o.Name, o.Status, dash(changed), dash(who(o)))
		if wide {
			fmt.Fprintf(tw, "\t%s", dash(o.Source))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil || noHeaders {
		return err
	}
	_, err := fmt.Fprintln(w, summaryLine(rep))
	return err
}

func kindGroup(o *compare.ObjectReport) string {
	if g, _, ok := strings.Cut(o.APIVersion, "/"); ok {
		return o.Kind + "." + g
	}
	return o.Kind
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func summaryLine(rep *compare.Report) string {
	c := rep.Counts()
	return fmt.Sprintf("%d objects: %d unchanged, %d modified, %d missing, %d extraneous, %d skipped, %d errors",
		len(rep.Objects), c[compare.StatusUnchanged], c[compare.StatusModified], c[compare.StatusMissing],
		c[compare.StatusExtraneous], c[compare.StatusSkipped], c[compare.StatusError])
}

// renderMarkdown writes the -o markdown report (and the pull request
// comment's body) section by section through a buffer, so that the diffs
// of many drifted objects are never held as one string.
func renderMarkdown(w io.Writer, rep *compare.Report) error {
	b := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprint(b, "### kubectl gitops drift\n\n")
	if !rep.Drifted() && !rep.Errored() {
		fmt.Fprint(b, "No drift: the cluster matches Git.\n\n")
	}
	fmt.Fprint(b, summaryLine(rep)+"\n\n")
	fmt.Fprint(b, "| Kind | Namespace | Name | Status | Changed | Who |\n|---|---|---|---|---|---|\n")
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if o.Status == compare.StatusUnchanged {
			continue
		}
		changed := changedPaths(o)
		if o.Status == compare.StatusError || o.Status == compare.StatusSkipped {
			changed = o.Reason
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", mdEscape(kindGroup(o)), mdEscape(dash(o.Namespace)),
			mdEscape(o.Name), o.Status, mdEscape(dash(changed)), mdEscape(dash(who(o))))
	}
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if !o.Drifted() {
			continue
		}
		fmt.Fprintf(b, "\n<details><summary>%s: %s</summary>\n\n", mdEscape(objectID(o)), o.Status)
		for _, c := range o.Changes {
			fmt.Fprintf(b, "- `%s`\n", strings.ReplaceAll(describeChange(c), "`", "'"))
		}
		d := textdiff.Unified("live/"+fileName(o), "git/"+fileName(o), toYAML(o.Live), toYAML(o.After), 3)
		fmt.Fprintf(b, "\n```diff\n%s```\n\n</details>\n", d)
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprint(b, "\n**Warnings**\n\n")
		for _, wn := range rep.Warnings {
			fmt.Fprintf(b, "- %s\n", mdEscape(wn))
		}
	}
	// A bufio.Writer keeps its first write error and returns it here.
	return b.Flush()
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// externalDiff writes the (masked) live and Git versions into two temporary
// directories and runs KUBECTL_EXTERNAL_DIFF on them, as kubectl diff does.
// Its exit status 1 means "differences", not failure.
func externalDiff(w, errw io.Writer, rep *compare.Report, command string) error {
	root, err := os.MkdirTemp("", "kubectl-gitops-drift-")
	if err != nil {
		return fmt.Errorf("creating diff directory: %w", err)
	}
	defer os.RemoveAll(root)
	live, merged := filepath.Join(root, "LIVE"), filepath.Join(root, "MERGED")
	for _, d := range []string{live, merged} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("creating diff directory: %w", err)
		}
	}
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if !o.Drifted() {
			continue
		}
		if err := os.WriteFile(filepath.Join(live, fileName(o)), []byte(toYAML(o.Live)), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(merged, fileName(o)), []byte(toYAML(o.After)), 0o600); err != nil {
			return err
		}
	}
	prog, args, dropped := externalDiffCommand(command)
	for _, a := range dropped {
		fmt.Fprintf(errw, "warning: KUBECTL_EXTERNAL_DIFF: argument %s ignored: as kubectl diff, only letters, digits, '-' and '=' are passed on\n", redact.Quote(a))
	}
	cmd := exec.Command(prog, append([]string{live, merged}, args...)...)
	cmd.Stdout, cmd.Stderr = w, errw
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("running KUBECTL_EXTERNAL_DIFF %q: %w", command, err)
	}
	return nil
}

// externalDiffArg is what kubectl diff passes on of KUBECTL_EXTERNAL_DIFF's
// arguments (k8s.io/kubectl v0.37.2 pkg/cmd/diff DiffProgram.getCommand):
// letters, digits, '-' and '='. Flags such as -u, -N or --color=always pass;
// paths, quotes, globs, '$' and ';' do not.
var externalDiffArg = regexp.MustCompile(`^[a-zA-Z0-9-=]+$`)

// externalDiffCommand splits KUBECTL_EXTERNAL_DIFF as kubectl diff does: the
// first word is the program (looked up on PATH), the other words are its
// arguments if externalDiffArg allows them, else dropped (returned so the
// caller can say so; kubectl drops them silently). Words are separated by
// white space (kubectl splits on single spaces and drops the empty words
// that makes, so only tabs and newlines differ). As kubectl, the caller
// passes the two directories first, then these arguments.
func externalDiffCommand(value string) (prog string, args, dropped []string) {
	words := strings.Fields(value)
	if len(words) == 0 {
		return "", nil, nil
	}
	for _, w := range words[1:] {
		if externalDiffArg.MatchString(w) {
			args = append(args, w)
		} else {
			dropped = append(dropped, w)
		}
	}
	return words[0], args, dropped
}

// ruleView is how --list-ignore-rules shows a rule in JSON and YAML.
type ruleView struct {
	Name                  string   `json:"name"`
	Source                string   `json:"source"`
	Description           string   `json:"description,omitempty"`
	Targets               []string `json:"targets"`
	JSONPointers          []string `json:"jsonPointers,omitempty"`
	JQPathExpressions     []string `json:"jqPathExpressions,omitempty"`
	ManagedFieldsManagers []string `json:"managedFieldsManagers,omitempty"`
	OwnedBy               []string `json:"ownedBy,omitempty"`
}

// writeRules prints the ignore rules in force: a table by default, every
// detail with -o json or -o yaml.
func writeRules(w io.Writer, set *ignore.Set, format string) error {
	var views []ruleView
	for _, r := range set.Rules() {
		v := ruleView{Name: r.Name, Source: r.Source, Description: r.Description, Targets: []string{},
			JSONPointers: r.JSONPointers, JQPathExpressions: r.JQPathExpressions,
			ManagedFieldsManagers: r.ManagedFieldsManagers, OwnedBy: r.OwnedBy}
		for i := range r.Targets {
			v.Targets = append(v.Targets, r.Targets[i].String())
		}
		views = append(views, v)
	}
	switch format {
	case "json", "yaml":
		return cli.WriteData(w, format, views)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tFIELDS")
	for _, v := range views {
		fields := append(append([]string{}, v.JSONPointers...), v.JQPathExpressions...)
		for _, m := range v.ManagedFieldsManagers {
			fields = append(fields, "(managed by "+m+")")
		}
		if len(v.OwnedBy) > 0 {
			fields = append(fields, "(when owned by "+strings.Join(v.OwnedBy, ",")+")")
		}
		name := v.Name
		if name == v.Source {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, v.Source, dash(strings.Join(fields, " ")))
	}
	return tw.Flush()
}

// progress returns a callback drawing "compared N/M objects" on a terminal.
func progress(w io.Writer) func(done, total int) {
	last := time.Time{}
	return func(done, total int) {
		if time.Since(last) < 100*time.Millisecond && done < total {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "\r\033[Kcompared %d/%d objects", done, total)
	}
}
