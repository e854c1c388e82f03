package repolint

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/sopsfile"
	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

// writeTree is test/builders' WriteTree.
var writeTree = builders.WriteTree

// TestNoSecretValueInFindings: kustomize's build error quotes every
// literal of a secretGenerator when one is malformed, and the secret
// scanner quotes a malformed literal whole; neither value may reach a
// finding (text or JSON).
func TestNoSecretValueInFindings(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		values []string
		// want are rules that must still be reported.
		want []string
	}{
		{
			name: "valid literal beside a malformed one",
			files: map[string]string{"app/kustomization.yaml": `secretGenerator:
  - name: db
    literals:
      - password=SuperSecretValue5
      - =hunter2hunter2
`},
			values: []string{"SuperSecretValue5", "hunter2hunter2"},
			want:   []string{RuleBuild, "secret-generator-literal"},
		},
		{
			name: "literal without =",
			files: map[string]string{"app/kustomization.yaml": `secretGenerator:
  - name: db
    literals:
      - "password:SuperSecretValue1"
`},
			values: []string{"SuperSecretValue1"},
			want:   []string{RuleBuild, "secret-generator-literal"},
		},
		{
			name: "env file with a bad line",
			files: map[string]string{
				"app/kustomization.yaml": "secretGenerator:\n  - name: db\n    envs: [db.env]\n",
				// kustomize quotes a line that is not UTF-8, as text
				// and as its bytes in decimal.
				"app/db.env": "TOKEN=SuperSecretValue7\xff\n",
			},
			values: []string{"SuperSecretValue7", decimalBytes("SuperSecretValue7")},
			want:   []string{RuleBuild, "secret-generator-env"},
		},
		{
			// kustomize still reads the singular, older env field.
			name: "singular env file with a bad line",
			files: map[string]string{
				"app/kustomization.yaml": "secretGenerator:\n  - name: db\n    env: db.env\n",
				"app/db.env":             "TOKEN=SuperSecretValue8\xff\n",
			},
			values: []string{"SuperSecretValue8", decimalBytes("SuperSecretValue8")},
			want:   []string{RuleBuild, "secret-generator-env"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := lint(t, Options{Root: writeTree(t, tt.files)})
			out, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.values {
				if strings.Contains(string(out), v) {
					t.Errorf("secret value %q in the findings: %s", v, out)
				}
			}
			for _, rule := range tt.want {
				found := false
				for _, f := range rep.Findings {
					found = found || f.Rule == rule
				}
				if !found {
					t.Errorf("no %s finding: %s", rule, out)
				}
			}
		})
	}
	// The key stays readable: only the value is masked.
	rep := lint(t, Options{Root: writeTree(t, tests[0].files)})
	for _, f := range rep.Findings {
		if f.Rule == RuleBuild && !strings.Contains(f.Message, "password=***") {
			t.Errorf("build finding %q does not keep the key", f.Message)
		}
	}
}

// decimalBytes is s as fmt prints a []byte with %d, without brackets.
func decimalBytes(s string) string {
	return strings.Trim(fmt.Sprintf("%d", []byte(s)), "[]")
}

// TestParseConfigUnknownFieldWording: an unknown field is named with its
// line, not with the Go type the decoder did not find it in.
func TestParseConfigUnknownFieldWording(t *testing.T) {
	_, err := ParseConfig(ConfigFile, []byte("repoURLs: [a]\nbogus: 1\nexclude:\n  - rule: build\n    foo: x\n"))
	if err == nil {
		t.Fatal("no error")
	}
	want := ".gitops/lint.yaml:2: unknown field \"bogus\"\n.gitops/lint.yaml:5: unknown field \"foo\""
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
}

// TestSOPSEncryptedSecretMatchesSchema: a Secret encrypted with SOPS the
// Flux way (only data/stringData encrypted) is applied after decryption, so
// neither its top-level "sops" metadata nor its ENC[...] data values (not
// base64) are schema errors; a typo beside them still is.
func TestSOPSEncryptedSecretMatchesSchema(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	encrypt := func(plain string) string {
		t.Helper()
		out, err := sopsfile.Encrypt([]byte(plain), sopsfile.EncryptOptions{
			Recipients: []string{id.Recipient().String()},
			Rule:       sopsfile.Rule{EncryptedRegex: "^(data|stringData)$"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	tests := []struct {
		name, plain string
		want        []string
	}{
		{
			name:  "stringData",
			plain: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  password: canary-s3cr3t-7f3a\n",
			want:  []string{},
		},
		{
			name:  "data",
			plain: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\ndata:\n  password: Y2FuYXJ5LXMzY3IzdC03ZjNh\n",
			want:  []string{},
		},
		{
			name:  "unknown field beside the encrypted data",
			plain: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\ntpye: Opaque\ndata:\n  password: Y2FuYXJ5LXMzY3IzdC03ZjNh\n",
			want:  []string{"secret.yaml:6 error schema"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := encrypt(tt.plain)
			if !strings.Contains(enc, "ENC[AES256_GCM") || strings.Contains(enc, "canary-s3cr3t-7f3a") {
				t.Fatalf("not encrypted:\n%s", enc)
			}
			rep := lint(t, Options{Root: writeTree(t, map[string]string{"secret.yaml": enc})})
			if diff := cmp.Diff(tt.want, briefs(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nencrypted file:\n%s", diff, enc)
			}
		})
	}
}
