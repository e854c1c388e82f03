package objdiff

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// Owner is one managedFields entry: who wrote fields, how and when.
type Owner struct {
	Manager     string     `json:"manager"`
	Operation   string     `json:"operation"`
	Subresource string     `json:"subresource,omitempty"`
	Time        *time.Time `json:"time,omitempty"`
	// Class is what kind of actor the manager is (see Classify).
	Class Class `json:"class"`
}

// String renders an owner for people: "kubectl-scale (Update, scale subresource) at 2026-11-25T10:02:11Z".
func (o Owner) String() string {
	var b strings.Builder
	b.WriteString(o.Manager)
	b.WriteString(" (")
	b.WriteString(o.Operation)
	if o.Subresource != "" {
		b.WriteString(", " + o.Subresource + " subresource")
	}
	b.WriteString(")")
	if o.Time != nil {
		b.WriteString(" at " + o.Time.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// Class classifies a field manager.
type Class string

// Manager classes.
const (
	ClassAgent      Class = "gitops-agent"
	ClassController Class = "controller"
	ClassHuman      Class = "human"
	ClassUnknown    Class = "unknown"
)

// knownAgents are the field managers GitOps agents apply with.
var knownAgents = map[string]bool{
	"argocd-controller":             true, // Argo CD server-side apply
	"argocd-application-controller": true,
	"kustomize-controller":          true, // Flux
	"helm-controller":               true,
	"kubectl-gitops":                true,
}

// knownControllers write fields as part of the cluster's normal operation.
var knownControllers = map[string]bool{
	"kube-controller-manager": true, "kube-scheduler": true, "kubelet": true, "kube-apiserver": true,
	"cloud-controller-manager": true, "cluster-autoscaler": true,
	"cert-manager-cainjector": true, "cert-manager-controller": true, "cert-manager-webhook": true,
	"pilot-discovery": true, "istiod": true, "linkerd-proxy-injector": true,
	"vpa-updater": true, "vpa-recommender": true, "vpa-admission-controller": true,
	"keda-operator": true, "metrics-server": true, "ingress-nginx-controller": true,
	"sealed-secrets-controller": true, "external-secrets": true, "image-automation-controller": true,
}

// humanManagers are the managers interactive tools write with.
var humanManagers = map[string]bool{
	"kubectl": true, "k9s": true, "Lens": true, "OpenLens": true, "headlamp": true, "helm": true,
	"dashboard": true, "Mozilla": true, "Go-http-client": false,
}

// Classify says what kind of actor a manager is. agents are extra managers
// to treat as the GitOps agent (the applier detected for this object or
// given with --field-manager).
func Classify(manager string, agents ...string) Class {
	for _, a := range agents {
		if manager == a {
			return ClassAgent
		}
	}
	switch {
	case knownAgents[manager]:
		return ClassAgent
	case knownControllers[manager]:
		return ClassController
	case humanManagers[manager], strings.HasPrefix(manager, "kubectl-"), strings.HasPrefix(manager, "kubectl_"):
		return ClassHuman
	case strings.HasSuffix(manager, "-controller"), strings.HasSuffix(manager, "-operator"), strings.HasSuffix(manager, "-controller-manager"):
		return ClassController
	}
	return ClassUnknown
}

// ownedPath is one field a manager owns, resolved to a concrete path in the
// live object. whole means the manager owns the field's entire value (a
// leaf, or an atomic map/list); otherwise only the node's existence (".").
type ownedPath struct {
	path  objpath.Path
	whole bool
}

type entry struct {
	owner Owner
	paths []ownedPath
}

// Ownership maps live fields to their managers.
type Ownership struct {
	entries []entry
}

// NewOwnership parses obj's metadata.managedFields (FieldsV1) and resolves
// every owned field against obj itself. Agents are managers to classify as
// the GitOps agent. Entries of the status subresource are kept; callers that
// ignore status never ask about those paths.
func NewOwnership(obj map[string]any, agents ...string) (*Ownership, error) {
	md, _ := obj["metadata"].(map[string]any)
	raw, _ := md["managedFields"].([]any)
	o := &Ownership{}
	for i, r := range raw {
		mf, ok := r.(map[string]any)
		if !ok {
			continue
		}
		e := entry{owner: Owner{
			Manager:     str(mf["manager"]),
			Operation:   str(mf["operation"]),
			Subresource: str(mf["subresource"]),
		}}
		e.owner.Class = Classify(e.owner.Manager, agents...)
		if ts := str(mf["time"]); ts != "" {
			if t, err := time.Parse(time.RFC3339, ts); err == nil {
				e.owner.Time = &t
			}
		}
		if ft := str(mf["fieldsType"]); ft != "" && ft != "FieldsV1" {
			continue
		}
		fields, _ := mf["fieldsV1"].(map[string]any)
		if err := resolve(fields, obj, objpath.Path{}, &e.paths); err != nil {
			return nil, fmt.Errorf("managedFields[%d] (%s): %w", i, e.owner.Manager, err)
		}
		o.entries = append(o.entries, e)
	}
	return o, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// resolve walks a FieldsV1 tree alongside the object value at p.
func resolve(fields map[string]any, value any, p objpath.Path, out *[]ownedPath) error {
	for k, sub := range fields {
		children, _ := sub.(map[string]any)
		if k == "." {
			*out = append(*out, ownedPath{path: p})
			continue
		}
		var child objpath.Path
		var childValue any
		switch {
		case strings.HasPrefix(k, "f:"):
			name := k[2:]
			child = p.Key(name)
			if m, ok := value.(map[string]any); ok {
				childValue = m[name]
			}
		case strings.HasPrefix(k, "k:"):
			var key map[string]any
			if err := json.Unmarshal([]byte(k[2:]), &key); err != nil {
				return fmt.Errorf("bad key %q: %w", k, err)
			}
			idx := findKeyed(value, key)
			if idx < 0 {
				continue // owned item no longer present
			}
			child = p.Index(idx)
			childValue = value.([]any)[idx]
		case strings.HasPrefix(k, "v:"):
			var want any
			if err := json.Unmarshal([]byte(k[2:]), &want); err != nil {
				return fmt.Errorf("bad value %q: %w", k, err)
			}
			idx := findValue(value, want)
			if idx < 0 {
				continue
			}
			child = p.Index(idx)
			childValue = value.([]any)[idx]
		case strings.HasPrefix(k, "i:"):
			idx, err := strconv.Atoi(k[2:])
			if err != nil {
				return fmt.Errorf("bad index %q: %w", k, err)
			}
			l, ok := value.([]any)
			if !ok || idx >= len(l) {
				continue
			}
			child = p.Index(idx)
			childValue = l[idx]
		default:
			return fmt.Errorf("unknown field element %q", k)
		}
		if len(children) == 0 {
			*out = append(*out, ownedPath{path: child, whole: true})
			continue
		}
		if err := resolve(children, childValue, child, out); err != nil {
			return err
		}
	}
	return nil
}

func findKeyed(value any, key map[string]any) int {
	l, ok := value.([]any)
	if !ok {
		return -1
	}
	for i, item := range l {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		match := true
		for k, v := range key {
			if !Equal(m[k], v) {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func findValue(value any, want any) int {
	l, ok := value.([]any)
	if !ok {
		return -1
	}
	for i, item := range l {
		if Equal(item, want) {
			return i
		}
	}
	return -1
}

// Owners returns the managers owning the value at p: those owning p itself,
// an ancestor as a whole, or (for a map or list) any field below it.
// Sorted by time, most recent first.
func (o *Ownership) Owners(p objpath.Path) []Owner {
	var out []Owner
	for _, e := range o.entries {
		for _, op := range e.paths {
			if p.Equal(op.path) || (op.whole && p.HasPrefix(op.path)) || (len(op.path) > len(p) && op.path.HasPrefix(p)) {
				out = append(out, e.owner)
				break
			}
		}
	}
	sortOwners(out)
	return out
}

// ItemOwners returns the managers owning the items of the associative
// list at p in live whose merge key (key) has one of the values keys: the
// owners of a Reordered change are those of the items whose order differs,
// not of another manager's items around them. Sorted by time, most recent
// first.
func (o *Ownership) ItemOwners(live map[string]any, p objpath.Path, key string, keys []any) []Owner {
	v, ok := objpath.Get(live, p)
	if !ok {
		return o.Owners(p)
	}
	list, _ := v.([]any)
	var out []Owner
	seen := map[Owner]bool{}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok || !slices.ContainsFunc(keys, func(k any) bool { return Equal(k, m[key]) }) {
			continue
		}
		for _, owner := range o.Owners(p.Index(i)) {
			id := Owner{Manager: owner.Manager, Operation: owner.Operation, Subresource: owner.Subresource}
			if !seen[id] {
				seen[id] = true
				out = append(out, owner)
			}
		}
	}
	sortOwners(out)
	return out
}

// OwnedLeaves returns the paths owned as a whole by managers for which keep
// returns true, with their owners.
func (o *Ownership) OwnedLeaves(keep func(Owner) bool) map[string]OwnedField {
	return o.ownedLeaves(keep, objpath.Path.String)
}

// ownedLeaves is OwnedLeaves keyed by key(path).
func (o *Ownership) ownedLeaves(keep func(Owner) bool, key func(objpath.Path) string) map[string]OwnedField {
	out := map[string]OwnedField{}
	for _, e := range o.entries {
		if !keep(e.owner) {
			continue
		}
		for _, op := range e.paths {
			if !op.whole {
				continue
			}
			k := key(op.path)
			f := out[k]
			f.Path = op.path
			f.Owners = append(f.Owners, e.owner)
			out[k] = f
		}
	}
	return out
}

// pathKey is a map key identifying p, cheaper to build than p.String()
// (distinct paths of strings and ints get distinct keys).
func pathKey(p objpath.Path) string {
	b := make([]byte, 0, 64)
	for _, e := range p {
		switch v := e.(type) {
		case string:
			b = append(b, 's')
			b = strconv.AppendInt(b, int64(len(v)), 10)
			b = append(b, ':')
			b = append(b, v...)
		case int:
			b = append(b, 'i')
			b = strconv.AppendInt(b, int64(v), 10)
			b = append(b, ';')
		default:
			b = append(b, 'o')
			b = fmt.Appendf(b, "%T:%v", v, v)
			b = append(b, ';')
		}
	}
	return string(b)
}

// createdItems returns the list items whose existence (".") is owned by
// managers for which keep returns true, with those managers: the items they
// added to a list. Keyed by pathKey.
func (o *Ownership) createdItems(keep func(Owner) bool) map[string]OwnedField {
	out := map[string]OwnedField{}
	for _, e := range o.entries {
		if !keep(e.owner) {
			continue
		}
		for _, op := range e.paths {
			if op.whole || len(op.path) == 0 {
				continue
			}
			if _, isItem := op.path[len(op.path)-1].(int); !isItem {
				continue
			}
			k := pathKey(op.path)
			f := out[k]
			f.Path = op.path
			f.Owners = append(f.Owners, e.owner)
			out[k] = f
		}
	}
	return out
}

// OwnedField is a field and who owns it.
type OwnedField struct {
	Path   objpath.Path
	Owners []Owner
}

// Managers lists the managers of the object with the number of fields each
// owns as a whole.
func (o *Ownership) Managers() map[string]int {
	out := map[string]int{}
	for _, e := range o.entries {
		for _, op := range e.paths {
			if op.whole {
				out[e.owner.Manager]++
			}
		}
	}
	return out
}

// Applier returns the manager most likely to be the one applying Git's
// state: the Apply-operation manager (not on a subresource) owning the most
// fields; failing that, "kubectl-client-side-apply" when present. "" when
// neither exists.
func (o *Ownership) Applier() string {
	best, bestN := "", -1
	csa := false
	for _, e := range o.entries {
		if e.owner.Manager == "kubectl-client-side-apply" {
			csa = true
		}
		if e.owner.Operation != "Apply" || e.owner.Subresource != "" {
			continue
		}
		n := 0
		for _, op := range e.paths {
			if op.whole {
				n++
			}
		}
		if n > bestN || (n == bestN && e.owner.Manager < best) {
			best, bestN = e.owner.Manager, n
		}
	}
	if best == "" && csa {
		return "kubectl-client-side-apply"
	}
	return best
}

func sortOwners(os []Owner) {
	sort.SliceStable(os, func(i, j int) bool {
		ti, tj := os[i].Time, os[j].Time
		switch {
		case ti != nil && tj != nil && !ti.Equal(*tj):
			return ti.After(*tj)
		case ti != nil && tj == nil:
			return true
		case ti == nil && tj != nil:
			return false
		}
		return os[i].Manager < os[j].Manager
	})
}

// ClassifyAgents reclassifies the entries of the given managers as the
// GitOps agent (once the agent's manager is known), without parsing the
// managedFields again.
func (o *Ownership) ClassifyAgents(agents ...string) {
	for i := range o.entries {
		o.entries[i].owner.Class = Classify(o.entries[i].owner.Manager, agents...)
	}
}

// Entries returns the owner of every managedFields entry, in order.
func (o *Ownership) Entries() []Owner {
	out := make([]Owner, 0, len(o.entries))
	for _, e := range o.entries {
		out = append(out, e.owner)
	}
	return out
}
