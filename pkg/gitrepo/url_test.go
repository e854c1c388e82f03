package gitrepo

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNoCredentials(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	tests := []struct {
		url    string
		refuse bool
	}{
		{"https://github.com/example/repo.git", false},
		{"ssh://git@github.com/example/repo.git", false},
		{"git@github.com:example/repo.git", false},
		{"https://host/org/repo@v1", false},
		{"https://user:" + canary + "@github.com/example/repo.git", true},
		{"https://" + canary + "@github.com/example/repo.git", true},
		{"http://oauth2:" + canary + "@gitlab.example.com/repo.git", true},
		{"ssh://git:" + canary + "@github.com/example/repo.git", true},
		{"https://user:" + canary + "%zz@github.com/example/repo.git", true},
		{"https://user:p@ss:" + canary + "@github.com/example/repo.git", true},
		{"user:" + canary + "@github.com:example/repo.git", true},
		// What RedactURL masks in a query is a credential too.
		{"https://github.com/example/repo.git?token=" + canary, true},
		{"https://gitlab.example.com/repo.git?private_token=" + canary, true},
		{"https://github.com/example/repo.git?ref=main&access_token=" + canary, true},
		{"https://bucket.github.com/repo.tgz?X-Amz-Credential=AKIA&X-Amz-Signature=" + canary, true},
		{"https://github.com/example/repo.git?" + canary, true},
		{"https://github.com/example/repo.git?ref=main&version=1.2.3", false},
		{"https://github.com/example/repo.git?", false},
	}
	for _, tt := range tests {
		err := CheckNoCredentials(tt.url)
		if (err != nil) != tt.refuse {
			t.Errorf("CheckNoCredentials(%q) = %v, want refused %v", tt.url, err, tt.refuse)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrCredentialsInURL) {
			t.Errorf("CheckNoCredentials(%q) = %v, not ErrCredentialsInURL", tt.url, err)
		}
		if strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "github.com") && !strings.Contains(err.Error(), "gitlab") {
			t.Errorf("CheckNoCredentials(%q) error %q: leaks the secret or lacks the host", tt.url, err)
		}
	}
}
