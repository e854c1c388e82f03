package driftwatch

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
)

// Event reasons and the reporting controller's name.
const (
	ReasonDriftDetected = "DriftDetected"
	ReasonDriftResolved = "DriftResolved"
	ReportingController = "kubectl-gitops"
)

// maxMessage bounds an event's message (the API server's limit for the
// note of new-style events).
const maxMessage = 1024

// ObjectRef names the object an event is about.
type ObjectRef struct {
	APIVersion, Kind, Namespace, Name string
}

func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Event is one drift event about one object.
type Event struct {
	// Type is corev1.EventTypeWarning or corev1.EventTypeNormal.
	Type    string
	Reason  string
	Message string
	Object  ObjectRef
}

// EventRecorder records events.
type EventRecorder interface {
	// Record records e. Errors satisfying apierrors.IsNotFound, IsForbidden,
	// IsInvalid, IsBadRequest or IsAlreadyExists are taken as final (the
	// event is not retried); others are retried after the next check.
	Record(ctx context.Context, e Event) error
}

// KubeEvents records events as core/v1 Events, with reportingController
// kubectl-gitops. Events about cluster-scoped objects go to the default
// namespace, as kubectl's do (cluster.EventCreator puts them there).
type KubeEvents struct {
	Client cluster.EventCreator
	// Reader, when set, looks the object up to fill in its uid and
	// resourceVersion, which `kubectl describe` needs to list the event
	// with the object.
	Reader cluster.Reader
	// Instance is the reportingInstance, e.g. the pod's or the host's name.
	Instance string
	// Clock stamps the events (default: the real clock).
	Clock clock.PassiveClock
}

// Record implements EventRecorder.
func (k *KubeEvents) Record(ctx context.Context, e Event) error {
	var now metav1.Time
	if k.Clock != nil {
		now = metav1.NewTime(k.Clock.Now())
	} else {
		now = metav1.Now()
	}
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: eventNamePrefix(e.Object.Name), Namespace: e.Object.Namespace},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: e.Object.APIVersion, Kind: e.Object.Kind,
			Namespace: e.Object.Namespace, Name: e.Object.Name,
		},
		Type: e.Type, Reason: e.Reason, Message: truncate(e.Message, maxMessage),
		Source:              corev1.EventSource{Component: ReportingController},
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
		ReportingController: ReportingController,
		ReportingInstance:   k.Instance,
	}
	if k.Reader != nil {
		if live, err := k.lookup(ctx, e.Object); err == nil {
			ev.InvolvedObject.UID = live.GetUID()
			ev.InvolvedObject.ResourceVersion = live.GetResourceVersion()
		}
	}
	return k.Client.CreateEvent(ctx, ev)
}

func (k *KubeEvents) lookup(ctx context.Context, r ObjectRef) (*unstructured.Unstructured, error) {
	gv, err := schema.ParseGroupVersion(r.APIVersion)
	if err != nil {
		return nil, err
	}
	m, err := k.Reader.Mapping(ctx, gv.WithKind(r.Kind))
	if err != nil {
		return nil, err
	}
	return k.Reader.Get(ctx, m, r.Namespace, r.Name)
}

// eventNamePrefix turns an object name into a generateName prefix that is a
// valid DNS subdomain (RBAC names may hold ':'); the server adds a random
// suffix and shortens long prefixes.
func eventNamePrefix(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		s = "drift"
	}
	return s + "."
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && (s[cut]&0xC0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

// DetectedMessage says how an object drifted and who changed it, naming the
// drifted fields and their managers (never values: they may be secret).
func DetectedMessage(source string, o *compare.ObjectReport) string {
	where := "source " + sourceLabel(source)
	if o.Source != "" {
		where += ", " + o.Source
	}
	switch o.Status {
	case compare.StatusMissing:
		msg := "Missing from the cluster, declared in Git (" + where + ")"
		if o.Reason != "" {
			msg += ": " + o.Reason
		}
		return msg
	case compare.StatusExtraneous:
		return "Extraneous: in the cluster and tracked by " + where + ", but not in Git"
	}
	head := "Differs from Git (" + where + "): "
	parts := make([]string, 0, len(o.Changes))
	for _, c := range o.Changes {
		parts = append(parts, describeChange(c))
	}
	if len(parts) == 0 {
		return head + "modified"
	}
	msg := head
	for i, p := range parts {
		sep := "; "
		if i == 0 {
			sep = ""
		}
		more := ""
		if rest := len(parts) - i - 1; rest > 0 {
			more = fmt.Sprintf("; and %d more", rest)
		}
		if len(msg)+len(sep)+len(p)+len(more) > maxMessage && i > 0 {
			return msg + fmt.Sprintf("; and %d more", len(parts)-i)
		}
		msg += sep + p
	}
	return msg
}

// describeChange renders one change: "spec.replicas changed by kubectl
// (human)".
func describeChange(c objdiff.Change) string {
	verb := "changed"
	switch c.Type {
	case objdiff.Missing:
		verb = "removed"
	case objdiff.Extra:
		verb = "added"
		if strings.Contains(c.Note, "not in Git") {
			verb = "no longer in Git but still set"
		}
	}
	s := c.Path.String() + " " + verb
	var who []string
	seen := map[string]bool{}
	for _, own := range c.Owners {
		if seen[own.Manager] {
			continue
		}
		seen[own.Manager] = true
		w := own.Manager
		if own.Class != "" {
			w += " (" + string(own.Class) + ")"
		}
		who = append(who, w)
	}
	if len(who) > 0 {
		s += " by " + strings.Join(who, ", ")
	}
	return s
}

// ResolvedMessage says an object no longer drifts.
func ResolvedMessage(source string) string {
	return "Matches Git again (source " + sourceLabel(source) + ")"
}

// objKey identifies an object of a source across checks (the version does
// not matter).
type objKey struct {
	source, group, kind, namespace, name string
}

func keyOf(source string, o *compare.ObjectReport) objKey {
	gv, _ := schema.ParseGroupVersion(o.APIVersion)
	return objKey{source, gv.Group, o.Kind, o.Namespace, o.Name}
}

type eventCounts struct {
	detected, resolved int
}

// tracker remembers which objects are known to drift, to record an event
// when an object starts drifting and when it stops — not at every check.
type tracker struct {
	rec EventRecorder
	max int
	log *slog.Logger
	// announced holds the objects whose drift was taken note of; true when
	// a DriftDetected event was recorded (so DriftResolved is due when the
	// drift clears), false when recording it failed for good.
	announced map[objKey]announcement
}

type announcement struct {
	recorded bool
	ref      ObjectRef
}

func newTracker(rec EventRecorder, max int, log *slog.Logger) *tracker {
	return &tracker{rec: rec, max: max, log: log, announced: map[objKey]announcement{}}
}

// update records the events due after a check. Sources that failed keep
// their state; sources no longer checked are forgotten without events.
func (t *tracker) update(ctx context.Context, results []SourceResult) eventCounts {
	var n eventCounts
	if t.rec == nil {
		return n
	}
	budget := t.max
	present := map[string]bool{}
	for _, r := range results {
		present[r.Source] = true
		if r.Err != nil || r.Report == nil {
			continue
		}
		still := map[objKey]bool{}
		for i := range r.Report.Objects {
			o := &r.Report.Objects[i]
			k := keyOf(r.Source, o)
			switch {
			case o.Status == compare.StatusError:
				still[k] = true // unknown: neither new drift nor resolved
			case o.Drifted():
				still[k] = true
				if _, ok := t.announced[k]; ok || budget == 0 || ctx.Err() != nil {
					continue
				}
				budget--
				ref := ObjectRef{o.APIVersion, o.Kind, o.Namespace, o.Name}
				done, ok := t.record(ctx, Event{Type: corev1.EventTypeWarning, Reason: ReasonDriftDetected,
					Message: DetectedMessage(r.Source, o), Object: ref})
				if done {
					t.announced[k] = announcement{recorded: ok, ref: ref}
				}
				if ok {
					n.detected++
				}
			}
		}
		var cleared []objKey
		for k := range t.announced {
			if k.source == r.Source && !still[k] {
				cleared = append(cleared, k)
			}
		}
		sort.Slice(cleared, func(i, j int) bool { return lessKey(cleared[i], cleared[j]) })
		for _, k := range cleared {
			a := t.announced[k]
			if !a.recorded {
				delete(t.announced, k)
				continue
			}
			if budget == 0 || ctx.Err() != nil {
				break
			}
			budget--
			done, ok := t.record(ctx, Event{Type: corev1.EventTypeNormal, Reason: ReasonDriftResolved,
				Message: ResolvedMessage(r.Source), Object: a.ref})
			if done {
				delete(t.announced, k)
			}
			if ok {
				n.resolved++
			}
		}
	}
	for k := range t.announced {
		if !present[k.source] {
			delete(t.announced, k)
		}
	}
	return n
}

// record records e. done: no retry is due (recorded, or failed for good);
// ok: recorded.
func (t *tracker) record(ctx context.Context, e Event) (done, ok bool) {
	err := t.rec.Record(ctx, e)
	if err == nil {
		return true, true
	}
	final := apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsInvalid(err) ||
		apierrors.IsBadRequest(err) || apierrors.IsAlreadyExists(err)
	if ctx.Err() == nil {
		t.log.Warn("recording event", "reason", e.Reason, "object", e.Object.String(), "retry", !final, "error", err.Error())
	}
	return final, false
}

func lessKey(a, b objKey) bool {
	if a.group != b.group {
		return a.group < b.group
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	if a.namespace != b.namespace {
		return a.namespace < b.namespace
	}
	return a.name < b.name
}
