package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// Applier is the cluster a fix is applied to: server-side apply, and reads
// and JSON patches to remove the fields other managers added.
type Applier interface {
	cluster.Reader
	cluster.Applier
	cluster.Patcher
}

// Options tune a fix.
type Options struct {
	// ForceConflicts takes over fields other managers own with another
	// value. Without it such an object is not changed and its Outcome lists
	// the conflicts.
	ForceConflicts bool
	// FieldManager overrides the field manager of every object (default: the
	// one the report used, ObjectReport.FieldManager).
	FieldManager string
	// Concurrency bounds the objects fixed at once (default 8).
	Concurrency int
	// PruneConfirmed: a person confirmed deleting the objects the
	// operator deletes only once a person confirms (ObjectReport's
	// PruneConfirm: Argo CD's Prune=confirm). Without it Prune leaves
	// them, as Argo CD's sync waits for that confirmation.
	PruneConfirmed bool
}

// Action is what happened to one object.
type Action string

// Actions.
const (
	// ActionApplied: Git's state was applied (the object was created when
	// missing).
	ActionApplied Action = "applied"
	// ActionDeleted: the extraneous object was deleted.
	ActionDeleted Action = "deleted"
	// ActionConflict: other managers own fields Git sets, with other values;
	// nothing was changed (see Conflicts; ForceConflicts takes them over).
	ActionConflict Action = "conflict"
	// ActionFailed: the server refused, or the object changed since it was
	// compared; see Message.
	ActionFailed Action = "failed"
	// ActionSkipped: nothing to do (see Message), e.g. already deleted.
	ActionSkipped Action = "skipped"
)

// Conflict is a field another manager owns with a value other than Git's.
type Conflict struct {
	// Manager is the conflicting field manager, e.g. "kubectl-scale".
	Manager string
	// Field is the field, as the API server names it (".spec.replicas").
	Field string
}

// Outcome is the result of fixing or pruning one object.
type Outcome struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	Action     Action
	// FieldManager is the manager Git's state was applied as.
	FieldManager string
	// Created is true when the object was missing.
	Created bool
	// Removed are the fields other managers added that were removed with a
	// JSON patch (server-side apply keeps them).
	Removed []string
	// Conflicts lists the conflicting managers (ActionConflict).
	Conflicts []Conflict
	// Message explains a failure or a skip.
	Message string
}

// ID renders the object as "apps/v1 Deployment shop/web".
func (o *Outcome) ID() string {
	id := o.APIVersion + " " + o.Kind + " "
	if o.Namespace != "" {
		id += o.Namespace + "/"
	}
	return id + o.Name
}

// Failed reports whether the object could not be changed as asked.
func (o *Outcome) Failed() bool { return o.Action == ActionFailed || o.Action == ActionConflict }

// ConflictManagers returns the distinct conflicting managers, sorted.
func (o *Outcome) ConflictManagers() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range o.Conflicts {
		if !seen[c.Manager] {
			seen[c.Manager] = true
			out = append(out, c.Manager)
		}
	}
	sort.Strings(out)
	return out
}

// ToFix counts the objects Fix would change in rep: the modified and
// missing ones.
func ToFix(rep *compare.Report) int {
	n := 0
	for i := range rep.Objects {
		if fixable(&rep.Objects[i]) {
			n++
		}
	}
	return n
}

// ToPrune counts the objects Prune would delete in rep: the extraneous
// ones the operator's rules do not keep (NoPrune). Those marked Prune=confirm
// are counted: they are deleted when the run is confirmed (ToConfirm).
func ToPrune(rep *compare.Report) int {
	n := 0
	for i := range rep.Objects {
		if prunable(&rep.Objects[i]) {
			n++
		}
	}
	return n
}

// ToConfirm counts the objects of rep Prune deletes only with
// Options.PruneConfirmed.
func ToConfirm(rep *compare.Report) int {
	n := 0
	for i := range rep.Objects {
		if r := &rep.Objects[i]; prunable(r) && r.PruneConfirm != "" {
			n++
		}
	}
	return n
}

// prunable reports whether r is extraneous and the operator's rules do not
// keep it (NoPrune), as ToPrune counts.
func prunable(r *compare.ObjectReport) bool {
	return r.Status == compare.StatusExtraneous && r.NoPrune == ""
}

func fixable(r *compare.ObjectReport) bool {
	return r.Status == compare.StatusModified || r.Status == compare.StatusMissing
}

// Fix applies Git's state to every modified or missing object of rep (never
// to unchanged, skipped or errored ones), taking each object from desired —
// the objects the report was computed from. Namespaces and CRDs go first.
//
// Each object is server-side applied as its report's FieldManager (or
// opts.FieldManager). Fields another manager added are then gone too: they
// are removed with a JSON patch before the apply, guarded by a test of the
// object's resourceVersion and of each removed value. Both are dry-run
// before either is written, so a refused apply or removal leaves the object
// as it was. An object that is also reported in error (declared twice in
// Git, one copy invalid) is never written.
//
// Per-object problems are Outcomes (ActionConflict, ActionFailed); the error
// is for the run as a whole (context cancelled, cluster unreachable), with
// the outcomes so far. Messages and the error have the secret values of the
// comparison masked, as the report has.
func Fix(ctx context.Context, c Applier, rep *compare.Report, desired []compare.Desired, opts Options) ([]Outcome, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	var first, rest []int
	for i := range rep.Objects {
		r := &rep.Objects[i]
		if !fixable(r) {
			continue
		}
		if isFoundation(r) {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	outcomes := make([]*Outcome, len(rep.Objects))
	inError := errored(rep)
	fixOne := func(i int) error {
		r := &rep.Objects[i]
		if reason, bad := inError[identity(r)]; bad {
			out := newOutcome(r)
			out.Action, out.Message = ActionFailed, "not applied: Git's declaration of it is in error: "+reason
			outcomes[i] = out
			return nil
		}
		out, err := fix(ctx, c, r, desired, opts)
		outcomes[i] = out
		return err
	}
	var fatal error
	for _, i := range first {
		if fatal = fixOne(i); fatal != nil {
			break
		}
	}
	if fatal == nil {
		fatal = parallel(ctx, rest, opts.Concurrency, fixOne)
	}
	return sweepSecrets(rep, collect(outcomes), fatal)
}

// errored returns the reasons of the objects reported in error, by
// identity: such an object may have another, valid-looking report (the
// first of two declarations), which must not be applied either.
func errored(rep *compare.Report) map[string]string {
	out := map[string]string{}
	for i := range rep.Objects {
		r := &rep.Objects[i]
		if r.Status != compare.StatusError {
			continue
		}
		reason := r.Reason
		if r.Source != "" {
			reason = r.Source + ": " + reason
		}
		if prev, ok := out[identity(r)]; ok {
			reason = prev + "; " + reason
		}
		out[identity(r)] = reason
	}
	return out
}

// identity names an object whatever the version it is declared with.
func identity(r *compare.ObjectReport) string {
	return groupOf(r.APIVersion) + "|" + r.Kind + "|" + r.Namespace + "|" + r.Name
}

// isFoundation reports kinds other objects need first.
func isFoundation(r *compare.ObjectReport) bool {
	return (r.Kind == "Namespace" && r.APIVersion == "v1") ||
		(r.Kind == "CustomResourceDefinition" && strings.HasPrefix(r.APIVersion, "apiextensions.k8s.io/"))
}

// parallel runs fn over idxs with at most n at once, stopping at the first
// fatal error: no index is handed out once it is seen (nor once ctx is
// done), the ones running finish, and it is returned (else ctx's error).
func parallel(ctx context.Context, idxs []int, n int, fn func(int) error) error {
	var g errgroup.Group
	g.SetLimit(n)
	var failed atomic.Bool
	for _, i := range idxs {
		if failed.Load() || ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			err := fn(i)
			if err != nil {
				failed.Store(true)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func collect(outcomes []*Outcome) []Outcome {
	var out []Outcome
	for _, o := range outcomes {
		if o != nil {
			out = append(out, *o)
		}
	}
	return out
}

func newOutcome(r *compare.ObjectReport) *Outcome {
	return &Outcome{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// fix fixes one object. The error is fatal for the whole run.
func fix(ctx context.Context, c Applier, r *compare.ObjectReport, desired []compare.Desired, opts Options) (*Outcome, error) {
	out := newOutcome(r)
	d := findDesired(r, desired)
	if d == nil {
		out.Action, out.Message = ActionFailed, "not among the desired objects (was the report computed from them?)"
		return out, nil
	}
	// With the operator's tracking metadata the comparison kept, as the
	// dry-run applied it: applying as the operator must not remove it.
	obj := r.WithOperatorMetadata(d).DeepCopy()
	manager := opts.FieldManager
	if manager == "" {
		manager = r.FieldManager
	}
	if manager == "" {
		manager = compare.DefaultFieldManager
	}
	out.FieldManager = manager
	out.Created = r.Status == compare.StatusMissing
	m, err := c.Mapping(ctx, obj.GroupVersionKind())
	if err != nil {
		if errors.Is(err, cluster.ErrKindNotServed) {
			out.Action, out.Message = ActionFailed, err.Error()
			return out, nil
		}
		return out, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		obj.SetNamespace(r.Namespace)
	} else {
		obj.SetNamespace("")
	}
	ao := cluster.ApplyOptions{FieldManager: manager, Force: opts.ForceConflicts}

	removals := foreignFields(r, manager)
	if len(removals) == 0 {
		// One apply: the server takes all of it or none.
		if _, err := c.Apply(ctx, m, obj, ao); err != nil {
			return out, applyFailed(out, err)
		}
		out.Action = ActionApplied
		return out, nil
	}

	// Two writes, the removal and the apply: dry-run both before writing
	// either, so that a refusal (a conflict, an admission policy) leaves
	// the object as it was rather than half-fixed.
	rm, err := planRemoval(ctx, c, m, r, removals)
	if err != nil {
		return out, removalFailed(out, err)
	}
	dry := ao
	dry.DryRun = true
	if _, err := c.Apply(ctx, m, obj, dry); err != nil {
		return out, applyFailed(out, err)
	}
	if err := rm.run(ctx, c, m, r, manager, true); err != nil {
		return out, removalFailed(out, err)
	}
	if err := rm.run(ctx, c, m, r, manager, false); err != nil {
		return out, removalFailed(out, err)
	}
	out.Removed = rm.removed
	if _, err := c.Apply(ctx, m, obj, ao); err != nil {
		if err := applyFailed(out, err); err != nil {
			return out, err
		}
		// Only a change between the dry-run and the apply gets here.
		out.Action = ActionFailed
		out.Message = "removed " + strings.Join(rm.removed, ", ") + " but then the apply failed: " + strings.TrimPrefix(out.Message, "server-side apply: ")
		return out, nil
	}
	out.Action = ActionApplied
	return out, nil
}

// removalFailed fills out for a removal that failed and returns err when it
// is fatal.
func removalFailed(out *Outcome, err error) error {
	if fatal(err) {
		return err
	}
	out.Action, out.Message = ActionFailed, err.Error()
	return nil
}

// applyFailed fills out for a failed apply and returns err when it is fatal.
func applyFailed(out *Outcome, err error) error {
	if fatal(err) {
		return err
	}
	if apierrors.IsConflict(err) {
		if cs := conflicts(err); len(cs) > 0 {
			out.Action, out.Conflicts = ActionConflict, cs
			out.Message = "conflict with " + strings.Join(quoteAll(out.ConflictManagers()), ", ") + " (pass --force-conflicts to take the fields over)"
			return nil
		}
	}
	out.Action, out.Message = ActionFailed, "server-side apply: "+err.Error()
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

var conflictManager = regexp.MustCompile(`conflict with "([^"]*)"`)

// conflicts reads the FieldManagerConflict causes of an apply conflict.
func conflicts(err error) []Conflict {
	var st apierrors.APIStatus
	if !errors.As(err, &st) || st.Status().Details == nil {
		return nil
	}
	var out []Conflict
	for _, c := range st.Status().Details.Causes {
		if c.Type != "FieldManagerConflict" {
			continue
		}
		mgr := c.Message
		if sub := conflictManager.FindStringSubmatch(c.Message); sub != nil {
			mgr = sub[1]
		}
		out = append(out, Conflict{Manager: mgr, Field: c.Field})
	}
	return out
}

// fatal reports errors that make every further request pointless.
func fatal(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || apierrors.IsUnauthorized(err) {
		return true
	}
	var st apierrors.APIStatus
	return !errors.As(err, &st) && !errors.Is(err, errChanged)
}

// findDesired returns Git's object for r: same source, group, kind and name,
// and the same namespace unless Git's object declares none.
func findDesired(r *compare.ObjectReport, desired []compare.Desired) *unstructured.Unstructured {
	group := groupOf(r.APIVersion)
	for _, d := range desired {
		h := d.Head()
		if d.Source != r.Source || h.Kind != r.Kind || h.Name != r.Name || groupOf(h.APIVersion) != group {
			continue
		}
		if ns := h.Namespace; ns != "" && r.Namespace != "" && ns != r.Namespace {
			continue
		}
		// A packed object (compare.Pack) is parsed here, only once found.
		if o, err := d.Load(); err == nil && o != nil {
			return o
		}
	}
	return nil
}

func groupOf(apiVersion string) string {
	return schema.FromAPIVersionAndKind(apiVersion, "").Group
}

// foreignFields are the extra fields of r that applying as manager cannot
// remove: fields the live object has, Git does not set, and that manager has
// not applied (another manager added them). Fields no one owns are left to
// the apply (the server-side dry-run already shows it removes them).
func foreignFields(r *compare.ObjectReport, manager string) []objdiff.Change {
	if r.Status != compare.StatusModified {
		return nil
	}
	var out []objdiff.Change
	for _, c := range r.Changes {
		if c.Type != objdiff.Extra || len(c.Owners) == 0 || appliedBy(c.Owners, manager) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func appliedBy(owners []objdiff.Owner, manager string) bool {
	for _, o := range owners {
		if o.Manager == manager && o.Operation == "Apply" && o.Subresource == "" {
			return true
		}
	}
	return false
}

// errChanged reports a live object that changed since it was compared.
var errChanged = errors.New("changed since it was compared; run drift again")

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// removal is the JSON patch removing fields other managers added.
type removal struct {
	patch           []byte
	resourceVersion string
	removed         []string
}

// planRemoval reads the live object, checks that each field to remove still
// holds the value the report saw, and builds one JSON patch removing them,
// guarded by a test of the resourceVersion read, so that a concurrent
// change fails it.
func planRemoval(ctx context.Context, c Applier, m *meta.RESTMapping, r *compare.ObjectReport, fields []objdiff.Change) (*removal, error) {
	live, err := c.Get(ctx, m, r.Namespace, r.Name)
	if err != nil {
		if cluster.IsNotFound(err) {
			return nil, fmt.Errorf("reading the live object: %w", errChanged)
		}
		return nil, fmt.Errorf("reading the live object: %w", err)
	}
	// Later paths first, so that removing a list item does not shift the
	// index of another one to remove.
	sort.Slice(fields, func(i, j int) bool { return objpath.Compare(fields[i].Path, fields[j].Path) > 0 })
	rv := live.GetResourceVersion()
	ops := []patchOp{{Op: "test", Path: "/metadata/resourceVersion", Value: rv}}
	var removed []string
	for i, f := range fields {
		if i > 0 && fields[i-1].Path.HasPrefix(f.Path) {
			continue
		}
		v, ok := objpath.Get(live.Object, f.Path)
		if !ok || !sameAsReported(f.Live, v) {
			return nil, fmt.Errorf("%s %w", f.Path, errChanged)
		}
		ops = append(ops, patchOp{Op: "remove", Path: f.Path.Pointer()})
		removed = append(removed, f.Path.String())
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encoding the patch: %w", err)
	}
	sort.Strings(removed)
	return &removal{patch: patch, resourceVersion: rv, removed: removed}, nil
}

// run sends the removal patch (with dryRun, only to see whether the server
// would take it). A refused patch is reported as the object having changed
// only when it did (its resourceVersion moved on, or it is gone); otherwise
// with the server's own message (an admission policy, an invalid object).
func (rm *removal) run(ctx context.Context, c Applier, m *meta.RESTMapping, r *compare.ObjectReport, manager string, dryRun bool) error {
	const op = "removing fields other managers added"
	_, err := c.JSONPatch(ctx, m, r.Namespace, r.Name, rm.patch, cluster.PatchOptions{FieldManager: manager, DryRun: dryRun})
	if err == nil {
		return nil
	}
	if fatal(err) {
		return fmt.Errorf("%s: %w", op, err)
	}
	live, gerr := c.Get(ctx, m, r.Namespace, r.Name)
	switch {
	case gerr != nil && cluster.IsNotFound(gerr):
		return fmt.Errorf("%s: %w (%w)", op, errChanged, err)
	case gerr != nil:
		return fmt.Errorf("%s: %w", op, err)
	case live.GetResourceVersion() != rm.resourceVersion:
		return fmt.Errorf("%s: %w (%w)", op, errChanged, err)
	}
	if dryRun {
		return fmt.Errorf("%s (dry-run, nothing changed): %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// sameAsReported compares a value from the report with the live one. Secret
// values are masked in the report: a masked string matches any string.
func sameAsReported(reported, live any) bool {
	switch rv := reported.(type) {
	case map[string]any:
		lv, ok := live.(map[string]any)
		if !ok || len(lv) != len(rv) {
			return false
		}
		for k, v := range rv {
			w, ok := lv[k]
			if !ok || !sameAsReported(v, w) {
				return false
			}
		}
		return true
	case []any:
		lv, ok := live.([]any)
		if !ok || len(lv) != len(rv) {
			return false
		}
		for i := range rv {
			if !sameAsReported(rv[i], lv[i]) {
				return false
			}
		}
		return true
	case string:
		if strings.Contains(rv, redact.Mask) {
			_, ok := live.(string)
			return ok
		}
	}
	return objdiff.Equal(reported, live)
}
