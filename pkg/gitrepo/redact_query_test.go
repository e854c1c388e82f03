package gitrepo

import "testing"

// TestRedactURLQueryTokens: a token or signature in a URL's query is masked
// (a certificate or archive URL may carry one); a ref or version stays, and
// text that is not a URL is left alone.
func TestRedactURLQueryTokens(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://h.example/cert.pem?token=canary-s3cr3t-7f3a", "https://h.example/cert.pem?token=***"},
		{`Get "http://u:pw@127.0.0.1:8080/x?a=1&access_token=tok&ref=main": EOF`, `Get "http://127.0.0.1:8080/x?a=***&access_token=***&ref=main": EOF`},
		{"https://b.s3.example/k?X-Amz-Credential=AKIA&X-Amz-Signature=abc#frag", "https://b.s3.example/k?X-Amz-Credential=***&X-Amz-Signature=***#frag"},
		{"https://h.example/x?s3cr3t 404", "https://h.example/x?*** 404"},
		{"https://github.com/x/y//z?ref=v1&version=2&empty=", "https://github.com/x/y//z?ref=v1&version=2&empty="},
		{"is it? token=x", "is it? token=x"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
