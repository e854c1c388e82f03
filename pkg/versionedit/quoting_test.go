package versionedit

import (
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// A version written unquoted must read back as the same string for YAML 1.1
// readers too (Flux, Argo CD and kubectl read manifests with
// sigs.k8s.io/yaml): the tags "on", "yes", "1_000" or "0644" are valid image
// tags that YAML 1.1 reads as a boolean or a number.
func TestSetQuotesWhatYAML11ReadsAsAnotherType(t *testing.T) {
	for _, v := range []string{"on", "yes", "no", "off", "y", "n", "1_000", "0644"} {
		out, _, err := Set([]byte("image:\n  repository: ghcr.io/acme/web\n  tag: 1.4.2\n"), Location{HelmValues: "image.tag"}, v)
		if err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
		var got map[string]map[string]any
		if err := sigsyaml.Unmarshal(out, &got); err != nil {
			t.Fatalf("Set(%q) wrote unreadable YAML: %v\n%s", v, err, out)
		}
		if got["image"]["tag"] != v {
			t.Errorf("Set(%q) wrote %q, which YAML 1.1 reads as %#v", v, strings.TrimSpace(string(out)), got["image"]["tag"])
		}
	}
}
