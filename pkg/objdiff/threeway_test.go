package objdiff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRemoved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		lastApplied, desired, live map[string]any
		want                       []Change
	}{
		{
			name:        "a field Git stopped setting is removed",
			lastApplied: m("data", m("a", "1", "b", "2")),
			desired:     m("data", m("a", "1")),
			live:        m("data", m("a", "1", "b", "2")),
			want:        []Change{{Path: p("data", "b"), Type: Extra, Live: "2", Note: NoteLastApplied}},
		},
		{
			name:        "a field only another manager added is not (it was never applied)",
			lastApplied: m("data", m("a", "1")),
			desired:     m("data", m("a", "1")),
			live:        m("data", m("a", "1", "b", "2")),
		},
		{
			name:        "a field Git still sets with another value is Subset's, not a removal",
			lastApplied: m("data", m("a", "1")),
			desired:     m("data", m("a", "9")),
			live:        m("data", m("a", "1")),
		},
		{
			name:        "a field already gone from live is nothing",
			lastApplied: m("data", m("a", "1", "b", "2")),
			desired:     m("data", m("a", "1")),
			live:        m("data", m("a", "1")),
		},
		{
			name:        "a whole map Git stopped setting is one change",
			lastApplied: m("metadata", m("name", "x", "labels", m("a", "1", "b", "2"))),
			desired:     m("metadata", m("name", "x")),
			live:        m("metadata", m("name", "x", "labels", m("a", "1", "b", "2", "c", "3"))),
			want:        []Change{{Path: p("metadata", "labels"), Type: Extra, Live: m("a", "1", "b", "2", "c", "3"), Note: NoteLastApplied}},
		},
		{
			name:        "keyed list items are matched by key, live index reported",
			lastApplied: podSpec(container("a", "a:1"), container("b", "b:1")),
			desired:     podSpec(container("b", "b:1")),
			live:        podSpec(container("b", "b:1"), container("a", "a:1")),
			want:        []Change{{Path: p("spec", "template", "spec", "containers", 1), Type: Extra, Live: container("a", "a:1"), Note: NoteLastApplied}},
		},
		{
			name:        "a field inside a keyed item",
			lastApplied: podSpec(m("name", "a", "image", "a:1", "command", l("sh"))),
			desired:     podSpec(container("a", "a:1")),
			live:        podSpec(m("name", "a", "image", "a:1", "command", l("sh"), "imagePullPolicy", "Always")),
			want:        []Change{{Path: p("spec", "template", "spec", "containers", 0, "command"), Type: Extra, Live: l("sh"), Note: NoteLastApplied}},
		},
		{
			name:        "a positional list Git still sets is left to Subset",
			lastApplied: m("args", l("-a", "-b")),
			desired:     m("args", l("-a")),
			live:        m("args", l("-a", "-b")),
		},
		{
			name:        "a finalizer Git stopped setting",
			lastApplied: m("metadata", m("finalizers", l("x", "y"))),
			desired:     m("metadata", m("finalizers", l("y"))),
			live:        m("metadata", m("finalizers", l("y", "x", "z"))),
			want:        []Change{{Path: p("metadata", "finalizers", 1), Type: Extra, Live: "x", Note: NoteLastApplied}},
		},
		{
			name:        "null in Git means not set",
			lastApplied: m("data", m("a", "1")),
			desired:     m("data", m("a", nil)),
			live:        m("data", m("a", "1")),
			want:        []Change{{Path: p("data", "a"), Type: Extra, Live: "1", Note: NoteLastApplied}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Removed(tt.lastApplied, tt.desired, tt.live)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Removed (-want +got):\n%s", diff)
			}
		})
	}
}
