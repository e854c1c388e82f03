package compare

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestArgoPruneOptionFirstItem: the first "Prune=" item gives the value,
// as Argo CD reads both places: an application's syncOptions items as they
// are (SyncOptions.GetOptionValue), an object's annotation items trimmed
// (gitops-engine's GetAnnotationOptionValue).
func TestArgoPruneOptionFirstItem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		app        []string
		annotation string
		want       string
		wantOK     bool
	}{
		{name: "none", app: []string{"CreateNamespace=true"}, annotation: "Replace=true"},
		{name: "first wins", app: []string{"Prune=confirm", "Prune=false"}, annotation: "Prune=confirm,Prune=false", want: "confirm", wantOK: true},
		{name: "after others", app: []string{"Replace=true", "Prune=false"}, annotation: "Replace=true, Prune=false", want: "false", wantOK: true},
		{name: "empty value", app: []string{"Prune="}, annotation: "Prune=", wantOK: true},
		{name: "not a prefix", app: []string{"PruneLast=true"}, annotation: "PruneLast=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if v, ok := ArgoPruneOption(tc.app); v != tc.want || ok != tc.wantOK {
				t.Errorf("application %q: %q %v, want %q %v", tc.app, v, ok, tc.want, tc.wantOK)
			}
			o := &unstructured.Unstructured{}
			o.SetAnnotations(map[string]string{ArgoSyncOptions: tc.annotation})
			if v, ok := argoPruneOption(o); v != tc.want || ok != tc.wantOK {
				t.Errorf("annotation %q: %q %v, want %q %v", tc.annotation, v, ok, tc.want, tc.wantOK)
			}
		})
	}
	// Untrimmed in the application's list, as Argo CD reads it.
	if _, ok := ArgoPruneOption([]string{" Prune=false"}); ok {
		t.Error(`application option " Prune=false" read as a Prune option`)
	}
}
