package objdiff

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

func envOf(names ...string) []any {
	out := make([]any, 0, len(names))
	for _, n := range names {
		out = append(out, m("name", n, "value", "v-"+n))
	}
	return out
}

func portsOf(nums ...int64) []any {
	out := make([]any, 0, len(nums))
	for _, n := range nums {
		out = append(out, m("containerPort", n))
	}
	return out
}

// The order of the items two associative lists share is compared, in the
// dry-run's result (Full) as in Git (Subset); items only one list has do
// not make an order change.
func TestListOrder(t *testing.T) {
	t.Parallel()
	envPath := p("spec", "env")
	tests := []struct {
		name      string
		live, git []any
		want      []Change
	}{
		{name: "same order", live: envOf("A", "B"), git: envOf("A", "B")},
		{
			name: "swapped",
			live: envOf("A", "B"), git: envOf("B", "A"),
			want: []Change{{Path: envPath, Type: Reordered, Live: []any{"A", "B"}, Desired: []any{"B", "A"}, Key: "name"}},
		},
		{
			name: "numeric keys",
			live: portsOf(8080, 9090), git: portsOf(9090, 8080),
			want: []Change{{Path: envPath, Type: Reordered, Live: []any{int64(8080), int64(9090)}, Desired: []any{int64(9090), int64(8080)}, Key: "containerPort"}},
		},
		{name: "an item only live has, shared order unchanged", live: envOf("A", "C", "B"), git: envOf("A", "B")},
		{
			name: "an item only live has, shared order changed",
			live: envOf("B", "C", "A"), git: envOf("A", "B"),
			want: []Change{{Path: envPath, Type: Reordered, Live: []any{"B", "A"}, Desired: []any{"A", "B"}, Key: "name"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Subset(m("spec", m("env", tt.git)), m("spec", m("env", tt.live)))
			var orders []Change
			for _, c := range got {
				if c.Type == Reordered {
					orders = append(orders, c)
				}
			}
			if diff := cmp.Diff(tt.want, orders); diff != "" {
				t.Errorf("Subset (-want +got):\n%s", diff)
			}
		})
	}
	// What the server returns: Git's shared items in Git's order, the
	// other manager's C kept among them.
	got := Full(m("spec", m("env", envOf("A", "B", "C"))), m("spec", m("env", envOf("B", "C", "A"))))
	want := []Change{{Path: envPath, Type: Reordered, Live: []any{"A", "B", "C"}, Desired: []any{"B", "C", "A"}, Key: "name"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Full (-want +got):\n%s", diff)
	}
}

func TestReorder(t *testing.T) {
	t.Parallel()
	got := Reorder(envOf("B", "C", "A"), []any{"A", "B"})
	if diff := cmp.Diff(envOf("A", "C", "B"), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// An order naming an item the list lacks leaves it as it is.
	if diff := cmp.Diff(envOf("B", "A"), Reorder(envOf("B", "A"), []any{"A", "X"})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPathIn(t *testing.T) {
	t.Parallel()
	live := m("spec", m("env", envOf("A", "B", "C"), "args", l("x", "y")))
	other := m("spec", m("env", envOf("B", "C", "A"), "args", l("x", "y")))
	tests := []struct {
		live any
		want any // objpath.Path or nil when absent
	}{
		{p("spec", "env", 2), p("spec", "env", 1)},
		{p("spec", "env", 0, "value"), p("spec", "env", 2, "value")},
		{p("spec", "args", 1), p("spec", "args", 1)},
		{p("spec", "env", 3), nil},
		{p("spec", "gone"), nil},
	}
	for _, tt := range tests {
		got, ok := PathIn(live, other, tt.live.(objpath.Path))
		if tt.want == nil {
			if ok {
				t.Errorf("%v: got %v, want absent", tt.live, got)
			}
			continue
		}
		if !ok || !got.Equal(tt.want.(objpath.Path)) {
			t.Errorf("%v: got %v %v, want %v", tt.live, got, ok, tt.want)
		}
	}
}
