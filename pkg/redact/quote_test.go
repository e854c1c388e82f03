package redact

import (
	"strings"
	"testing"
)

// TestQuote: user data in messages shows at most 4 characters and never
// more than half of the value, so no value is ever shown whole.
func TestQuote(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	tests := []struct{ in, want string }{
		{"", `""`},
		{"x", `"…"`},
		{"ture", `"tu…"`},
		{"abcdefgh", `"abcd…"`},
		{canary, `"cana…"`},
		{"-----BEGIN PRIVATE KEY-----\nMIIE", `"----…"`},
		{"a\nbcdefgh", `"a\nbc…"`},
		{"ééééééééé", `"éééé…"`},
		{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", `"\xff\xfe\xfd\xfc…"`},
	}
	for _, tt := range tests {
		got := Quote(tt.in)
		if got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if len(tt.in) > 1 && strings.Contains(got, tt.in) {
			t.Errorf("Quote(%q) shows the whole value", tt.in)
		}
	}
}
