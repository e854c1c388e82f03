package objdiff

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

func TestFull(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		live, after map[string]any
		want        []Change
	}{
		{
			name:  "identical",
			live:  m("spec", m("replicas", int64(2), "paused", false)),
			after: m("spec", m("replicas", int64(2), "paused", false)),
		},
		{
			name:  "scalar modified",
			live:  m("spec", m("replicas", int64(5))),
			after: m("spec", m("replicas", int64(2))),
			want:  []Change{{Path: p("spec", "replicas"), Type: Modified, Live: int64(5), Desired: int64(2)}},
		},
		{
			name:  "key only live has is extra, key only after has is missing",
			live:  m("metadata", m("labels", m("app", "web", "owner", "alice"))),
			after: m("metadata", m("labels", m("app", "web", "tier", "fe"))),
			want: []Change{
				{Path: p("metadata", "labels", "owner"), Type: Extra, Live: "alice"},
				{Path: p("metadata", "labels", "tier"), Type: Missing, Desired: "fe"},
			},
		},
		{
			name:  "keyed list matched by name, not position; the order is a change of the list",
			live:  podSpec(container("a", "a:1"), container("b", "b:1")),
			after: podSpec(container("b", "b:2"), container("a", "a:1")),
			want: []Change{
				{Path: p("spec", "template", "spec", "containers"), Type: Reordered, Live: l("a", "b"), Desired: l("b", "a"), Key: "name"},
				{Path: p("spec", "template", "spec", "containers", 1, "image"), Type: Modified, Live: "b:1", Desired: "b:2"},
			},
		},
		{
			name:  "keyed list item only live has is extra (live index), only after has is missing (after index)",
			live:  podSpec(container("a", "a:1"), container("b", "b:1")),
			after: podSpec(container("c", "c:1"), container("a", "a:1")),
			want: []Change{
				{Path: p("spec", "template", "spec", "containers", 0), Type: Missing, Desired: container("c", "c:1")},
				{Path: p("spec", "template", "spec", "containers", 1), Type: Extra, Live: container("b", "b:1")},
			},
		},
		{
			name:  "keyed by containerPort when items have no name",
			live:  m("ports", l(m("containerPort", int64(80), "protocol", "TCP"), m("containerPort", int64(443), "protocol", "TCP"))),
			after: m("ports", l(m("containerPort", int64(443), "protocol", "TCP"), m("containerPort", int64(80), "protocol", "UDP"))),
			want: []Change{
				{Path: p("ports"), Type: Reordered, Live: l(int64(80), int64(443)), Desired: l(int64(443), int64(80)), Key: "containerPort"},
				{Path: p("ports", 0, "protocol"), Type: Modified, Live: "TCP", Desired: "UDP"},
			},
		},
		{
			name:  "positional list of the same length compared item by item",
			live:  m("args", l("--port", "8080", "-v")),
			after: m("args", l("--port", "9090", "-v")),
			want:  []Change{{Path: p("args", 1), Type: Modified, Live: "8080", Desired: "9090"}},
		},
		{
			name:  "positional list of another length is modified as a whole",
			live:  m("args", l("--port", "8080")),
			after: m("args", l("--port", "8080", "-v")),
			want:  []Change{{Path: p("args"), Type: Modified, Live: l("--port", "8080"), Desired: l("--port", "8080", "-v")}},
		},
		{
			name:  "type change from map to string",
			live:  m("spec", m("port", m("number", int64(80)))),
			after: m("spec", m("port", "http")),
			want:  []Change{{Path: p("spec", "port"), Type: Modified, Live: m("number", int64(80)), Desired: "http"}},
		},
		{
			name:  "type change from list to null",
			live:  m("spec", m("args", l("a"))),
			after: m("spec", m("args", nil)),
			want:  []Change{{Path: p("spec", "args"), Type: Modified, Live: l("a")}},
		},
		{
			name:  "int64 and float64 of the same value are equal",
			live:  m("spec", m("replicas", int64(3), "ratio", float64(2))),
			after: m("spec", m("replicas", float64(3), "ratio", int64(2))),
		},
		{
			name:  "int64 and float64 of different values",
			live:  m("spec", m("replicas", int64(3))),
			after: m("spec", m("replicas", 3.5)),
			want:  []Change{{Path: p("spec", "replicas"), Type: Modified, Live: int64(3), Desired: 3.5}},
		},
		{
			// 2^53+1 and 2^53 are the same float64.
			name:  "int64 values beyond float64 precision",
			live:  m("spec", m("limit", int64(9007199254740993))),
			after: m("spec", m("limit", int64(9007199254740992))),
			want:  []Change{{Path: p("spec", "limit"), Type: Modified, Live: int64(9007199254740993), Desired: int64(9007199254740992)}},
		},
		{
			// A "name" that is an object cannot key a list (and must not
			// be used as a map key).
			name:  "list items whose name is an object",
			live:  m("refs", l(m("name", m("first", "a"), "v", "1"))),
			after: m("refs", l(m("name", m("first", "a"), "v", "2"))),
			want:  []Change{{Path: p("refs", 0, "v"), Type: Modified, Live: "1", Desired: "2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Full(tt.live, tt.after)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Full (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubset(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) []any {
		var out []any
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, m("name", kv[i], "value", kv[i+1]))
		}
		return out
	}
	limits := func(kv ...any) map[string]any {
		return podSpec(container("web", "nginx", "resources", m("limits", m(kv...))))
	}
	limitsPath := p("spec", "template", "spec", "containers", 0, "resources", "limits")
	tests := []struct {
		name          string
		desired, live map[string]any
		want          []Change
	}{
		{
			name:    "server defaults only live has are not drift",
			desired: podSpec(container("web", "nginx")),
			live:    podSpec(container("web", "nginx", "imagePullPolicy", "IfNotPresent", "terminationMessagePath", "/dev/termination-log")),
		},
		{
			name:    "null in desired means not set",
			desired: m("spec", m("replicas", nil, "paused", nil)),
			live:    m("spec", m("replicas", int64(5))),
		},
		{
			name:    "empty map and list in desired, absent live",
			desired: m("metadata", m("annotations", m()), "spec", m("tolerations", l(), "securityContext", m())),
			live:    m("metadata", m("name", "x"), "spec", m()),
		},
		{
			name:    "empty map in desired, null live",
			desired: m("spec", m("securityContext", m())),
			live:    m("spec", m("securityContext", nil)),
		},
		{
			name:    "field missing live",
			desired: m("data", m("mode", "prod", "level", "info")),
			live:    m("data", m("mode", "prod")),
			want:    []Change{{Path: p("data", "level"), Type: Missing, Desired: "info"}},
		},
		{
			name:    "field null live is missing",
			desired: m("data", m("level", "info")),
			live:    m("data", m("level", nil)),
			want:    []Change{{Path: p("data", "level"), Type: Missing, Desired: "info"}},
		},
		{
			name:    "scalar modified",
			desired: m("data", m("level", "info")),
			live:    m("data", m("level", "debug")),
			want:    []Change{{Path: p("data", "level"), Type: Modified, Live: "debug", Desired: "info"}},
		},
		{
			name:    "type change",
			desired: m("spec", m("selector", m("app", "web"))),
			live:    m("spec", m("selector", "app=web")),
			want:    []Change{{Path: p("spec", "selector"), Type: Modified, Live: "app=web", Desired: m("app", "web")}},
		},
		{
			name:    "keyed list item modified: path of the live item",
			desired: m("env", env("A", "1", "B", "2")),
			live:    m("env", env("B", "3", "A", "1")),
			want: []Change{
				{Path: p("env"), Type: Reordered, Live: l("B", "A"), Desired: l("A", "B"), Key: "name"},
				{Path: p("env", 0, "value"), Type: Modified, Live: "3", Desired: "2"},
			},
		},
		{
			name:    "keyed list items missing are appended one after the other",
			desired: m("env", env("A", "1", "B", "2", "C", "3")),
			live:    m("env", env("A", "1")),
			want: []Change{
				{Path: p("env", 1), Type: Missing, Desired: m("name", "B", "value", "2")},
				{Path: p("env", 2), Type: Missing, Desired: m("name", "C", "value", "3")},
			},
		},
		{
			name:    "keyed list item only live has is not drift",
			desired: m("env", env("A", "1")),
			live:    m("env", env("A", "1", "INJECTED", "x")),
		},
		{
			name:    "atomic list length change",
			desired: m("args", l("--port", "8080")),
			live:    m("args", l("--port", "8080", "-v")),
			want:    []Change{{Path: p("args"), Type: Modified, Live: l("--port", "8080", "-v"), Desired: l("--port", "8080")}},
		},
		{
			name:    "finalizers are a set: items others added are not drift here",
			desired: m("metadata", m("finalizers", l("example.com/git", "example.com/new"))),
			live:    m("metadata", m("finalizers", l("kubernetes.io/pvc-protection", "example.com/git"))),
			want:    []Change{{Path: p("metadata", "finalizers", 2), Type: Missing, Desired: "example.com/new"}},
		},
		{
			name:    "positional list with a differing item differs as a whole",
			desired: m("args", l("--port", "8080")),
			live:    m("args", l("--port", "9090")),
			want:    []Change{{Path: p("args"), Type: Modified, Live: l("--port", "9090"), Desired: l("--port", "8080")}},
		},
		{
			name:    "positional list items compared as subsets",
			desired: m("tolerations", l(m("key", "a", "operator", "Exists"))),
			live:    m("tolerations", l(m("key", "a", "operator", "Exists", "effect", "NoSchedule"))),
		},
		{
			name:    "numbers of either type",
			desired: m("spec", m("replicas", float64(2))),
			live:    m("spec", m("replicas", int64(2))),
		},
		{
			name:    "equivalent quantities under resources.limits",
			desired: limits("cpu", "1", "memory", "128Mi", "nvidia.com/gpu", int64(1)),
			live:    limits("cpu", "1000m", "memory", "134217728", "nvidia.com/gpu", "1"),
		},
		{
			name:    "different quantities under resources.limits",
			desired: limits("cpu", "1"),
			live:    limits("cpu", "500m"),
			want:    []Change{{Path: limitsPath.Key("cpu"), Type: Modified, Live: "500m", Desired: "1"}},
		},
		{
			name:    "equivalent quantities of an emptyDir sizeLimit",
			desired: m("volumes", l(m("name", "tmp", "emptyDir", m("sizeLimit", "1Gi")))),
			live:    m("volumes", l(m("name", "tmp", "emptyDir", m("sizeLimit", "1024Mi")))),
		},
		{
			name:    "ConfigMap data is text, not quantities",
			desired: m("kind", "ConfigMap", "data", m("cpu", "1", "storage", "1", "sizeLimit", "1Gi")),
			live:    m("kind", "ConfigMap", "data", m("cpu", "1000m", "storage", "1.0", "sizeLimit", "1024Mi")),
			want: []Change{
				{Path: p("data", "cpu"), Type: Modified, Live: "1000m", Desired: "1"},
				{Path: p("data", "sizeLimit"), Type: Modified, Live: "1024Mi", Desired: "1Gi"},
				{Path: p("data", "storage"), Type: Modified, Live: "1.0", Desired: "1"},
			},
		},
		{
			name:    "not a quantity",
			desired: limits("cpu", "one"),
			live:    limits("cpu", "1"),
			want:    []Change{{Path: limitsPath.Key("cpu"), Type: Modified, Live: "1", Desired: "one"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Subset(tt.desired, tt.live)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Subset (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPresent(t *testing.T) {
	t.Parallel()
	desired := m(
		"metadata", m("labels", m("app", "web"), "finalizers", l("example.com/git"), "annotations", nil),
		"spec", m(
			"ports", l(m("port", int64(80), "name", "http")),
			"containers", l(container("web", "nginx", "env", l(m("name", "MODE", "value", "prod")))),
			"args", l("a", "b"),
			"hosts", l(m("ip", "10.0.0.1"), m("hostnames", l("x"))),
		),
	)
	live := m(
		"metadata", m("labels", m("app", "web", "owner", "alice"), "finalizers", l("example.com/a", "example.com/git"), "annotations", m("x", "y")),
		"spec", m(
			"ports", l(m("port", int64(443), "name", "https"), m("port", int64(80), "name", "http")),
			"containers", l(
				container("sidecar", "envoy"),
				container("web", "nginx", "env", l(m("name", "DEBUG", "value", "1"), m("name", "MODE", "value", "prod"))),
			),
			"args", l("a", "b"),
			"hosts", l(m("ip", "10.0.0.1"), m("hostnames", l("x"))),
		),
	)
	tests := []struct {
		path objpath.Path
		want bool
	}{
		{p("metadata", "labels", "app"), true},
		{p("metadata", "labels", "owner"), false},
		{p("metadata", "annotations", "x"), false}, // null in Git
		{p("metadata", "finalizers", 1), true},     // set-like list: by value
		{p("metadata", "finalizers", 0), false},
		{p("metadata", "finalizers", 5), false},
		{p("spec", "ports", 1, "name"), true}, // keyed by name, not position
		{p("spec", "ports", 0), false},
		{p("spec", "containers", 1, "env", 1, "value"), true},
		{p("spec", "containers", 1, "env", 0), false},
		{p("spec", "containers", 0, "image"), false},
		{p("spec", "args", 1), true},
		{p("spec", "hosts", 1, "hostnames", 0), true}, // no common key: by position, same length
		{p("spec", "missing"), false},
		{p("spec", "args", 1, "deeper"), false},
	}
	for _, tt := range tests {
		if got := Present(desired, live, tt.path); got != tt.want {
			t.Errorf("Present(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
	// By position only when both lists have the same length.
	if !Present(m("args", l("a")), m("args", l("a", "b")), p("args", 0)) {
		t.Error("scalar found by value in a list of another length")
	}
	if Present(m("l", l(m("x", "1"))), m("l", l(m("x", "1"), m("x", "2"))), p("l", 0)) {
		t.Error("unkeyed map item matched by position in lists of different lengths")
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b any
		want bool
	}{
		{int64(1), float64(1), true},
		{int64(1), 1, true},
		{int32(7), json.Number("7"), true},
		{float32(0.5), 0.5, true},
		{int64(1), "1", false},
		{int64(9007199254740993), int64(9007199254740992), false},
		{int64(9007199254740993), int64(9007199254740993), true},
		{nil, nil, true},
		{nil, m(), false},
		{l(), nil, false},
		{m("a", int64(1)), m("a", 1.0), true},
		{m("a", int64(1)), m("a", int64(1), "b", nil), false},
		{m("a", int64(1)), m("b", int64(1)), false},
		{l(int64(1), "x"), l(1.0, "x"), true},
		{l(int64(1), "x"), l("x", int64(1)), false},
		{true, true, true},
		{true, "true", false},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Equal(tt.b, tt.a); got != tt.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v (reversed)", tt.b, tt.a, got, tt.want)
		}
	}
}
