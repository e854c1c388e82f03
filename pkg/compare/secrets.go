package compare

import (
	"encoding/json"
	"sync"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// secrets collects secret values while comparing and masks the report at
// the end, unless they are to be shown.
type secrets struct {
	show bool
	mu   sync.Mutex
	sw   *redact.Sweeper
	// text holds the secret values of Helm values, swept from the report's
	// text (reasons, notes, warnings) but not from objects: they are masked
	// where they are, and a short one ("flux") would mask unrelated words
	// of objects (helm.toolkit.fluxcd.io).
	text *redact.Sweeper
}

func newSecrets(show bool) *secrets {
	return &secrets{show: show, sw: redact.NewSweeper(), text: redact.NewSweeper()}
}

func (s *secrets) add(obj map[string]any) {
	if s.show {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sw.Add(obj)
	s.addHelm(obj)
	// The values last applied client-side may be older ones.
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	if raw, ok := ann[redact.LastApplied].(string); ok {
		var applied map[string]any
		if json.Unmarshal([]byte(raw), &applied) == nil {
			s.addHelm(applied)
		}
	}
}

// addText collects clear-text secret values.
func (s *secrets) addText(values []string) {
	if s.show || len(values) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sw.AddText(values...)
}

// addHelm collects the secret Helm values of obj for sweeping text.
func (s *secrets) addHelm(obj map[string]any) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	redact.HelmValues(apiVersion, kind, obj, nil, s.text)
}

// finish masks every Secret value in the report: Secret data in objects and
// changes, last-applied annotations, secret Helm values (redact.HelmValues),
// and any known value anywhere else (other annotations, reasons, warnings).
func (s *secrets) finish(rep *Report) {
	rep.secrets = s
	if s.show {
		return
	}
	for i := range rep.Objects {
		o := &rep.Objects[i]
		// Changes first: masking them needs the objects unmasked.
		for j := range o.Changes {
			c := &o.Changes[j]
			c.Live, c.Desired = redact.HelmChange(o.APIVersion, o.Kind, o.Live, o.After, c.Path, c.Live, c.Desired, s.text)
		}
		o.Live, o.After = redact.HelmValues(o.APIVersion, o.Kind, o.Live, o.After, s.text)
	}
	for i := range rep.Objects {
		o := &rep.Objects[i]
		if o.Kind == "Secret" && o.APIVersion == "v1" {
			redact.Pair(o.Live, o.After)
			for j := range o.Changes {
				c := &o.Changes[j]
				if len(c.Path) > 0 && (c.Path[0] == "data" || c.Path[0] == "stringData") {
					c.Live, c.Desired = redact.Value(c.Live, c.Desired)
				}
			}
		}
		redact.LastAppliedAnnotation(o.Live)
		redact.LastAppliedAnnotation(o.After)
		for j := range o.Changes {
			c := &o.Changes[j]
			if isLastApplied(c.Path) {
				c.Live, c.Desired = maskLastAppliedValue(c.Live), maskLastAppliedValue(c.Desired)
			}
			c.Live, c.Desired = s.sw.Value(c.Live), s.sw.Value(c.Desired)
			c.Note = s.text.String(s.sw.String(c.Note))
		}
		if o.Live != nil {
			o.Live = s.sw.Value(o.Live).(map[string]any)
		}
		if o.After != nil {
			o.After = s.sw.Value(o.After).(map[string]any)
		}
		o.Reason = s.text.String(s.sw.String(o.Reason))
	}
	for i, w := range rep.Warnings {
		rep.Warnings[i] = s.text.String(s.sw.String(w))
	}
}

// sweep replaces the known secret values in text, unless they are shown.
func (s *secrets) sweep(text string) string {
	if s.show {
		return text
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sw.String(text)
}

func isLastApplied(p []any) bool {
	return len(p) == 3 && p[0] == "metadata" && p[1] == "annotations" && p[2] == redact.LastApplied
}

func maskLastAppliedValue(v any) any {
	str, ok := v.(string)
	if !ok {
		return v
	}
	obj := map[string]any{"metadata": map[string]any{"annotations": map[string]any{redact.LastApplied: str}}}
	redact.LastAppliedAnnotation(obj)
	return obj["metadata"].(map[string]any)["annotations"].(map[string]any)[redact.LastApplied]
}
