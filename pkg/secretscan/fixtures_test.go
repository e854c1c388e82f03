package secretscan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/golden"
)

// render is the textual form of findings compared with the golden files.
func render(findings []Finding) string {
	var b strings.Builder
	for _, f := range findings {
		fmt.Fprintf(&b, "%s:%d %s %s kind=%s name=%s key=%s", f.File, f.Line, f.Severity, f.Rule, f.Kind, f.Name, f.Key)
		if f.Origin != "" {
			fmt.Fprintf(&b, " origin=%s", f.Origin)
		}
		fmt.Fprintf(&b, "\n  %s\n", f.Message)
	}
	return b.String()
}

// TestScanFixtures scans each tree under testdata/scan (a repository root)
// and compares the findings with testdata/scan/<name>.golden.
func TestScanFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dir     string
		ignored []string
		display func(string) string
		golden  string
	}{
		{name: "secretGenerator envs and files", dir: "generator", golden: "generator"},
		{name: "git-ignored references are not followed", dir: "generator", golden: "generator-ignored",
			ignored: []string{"overlay/app.env", "overlay/tls.key", "overlay/token.txt", "overlay/missing.env"}},
		{name: "display paths", dir: "generator", golden: "generator-display",
			display: func(n string) string { return "repo/" + n }, ignored: []string{"overlay/app.env", "overlay/tls.key", "overlay/token.txt", "secrets/shared.env"}},
		{name: "SOPS-encrypted references", dir: "sops-refs", golden: "sops-refs"},
		{name: "Helm values and other configuration", dir: "values", golden: "values"},
		{name: "values inside HelmRelease, Application, kustomization helmCharts", dir: "helm-objects", golden: "helm-objects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, err := os.OpenRoot(filepath.Join("testdata", "scan", tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = root.Close() }()
			files, err := Walk(root.FS())
			if err != nil {
				t.Fatal(err)
			}
			s := &Scanner{FS: root.FS(), Display: tt.display}
			if tt.ignored != nil {
				s.Ignored = func(n string) bool { return slices.Contains(tt.ignored, n) }
			}
			got, err := s.Scan(context.Background(), files)
			if err != nil {
				t.Fatal(err)
			}
			text := render(got)
			if strings.Contains(text, canary) {
				t.Errorf("a secret value leaked into the findings:\n%s", text)
			}
			golden.CheckString(t, filepath.Join("testdata", "scan", tt.golden+".golden"), text)
		})
	}
}

// TestScanSymlinkOutOfRoot: a reference through a symbolic link that leaves
// the repository is refused, one that stays inside is followed.
func TestScanSymlinkOutOfRoot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"outside.env":             "TOKEN=" + canary + "\n",
		"repo/inside.env":         "PASSWORD=" + canary + "\n",
		"repo/kustomization.yaml": "secretGenerator:\n- name: s\n  envs:\n  - escape.env\n  - link.env\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../outside.env", filepath.Join(repo, "escape.env")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("inside.env", filepath.Join(repo, "link.env")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(repo)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = root.Close() }()
	got, err := (&Scanner{FS: root.FS()}).Scan(context.Background(), []string{"kustomization.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	want := "kustomization.yaml:4 warning secret-generator-outside-root kind=secretGenerator name=s key=\n" +
		"  secretGenerator \"s\": env file escape.env cannot be read inside the repository: not checked\n" +
		"link.env:1 error secret-generator-env kind=secretGenerator name=s key=PASSWORD origin=kustomization.yaml:5\n" +
		"  secretGenerator \"s\" (kustomization.yaml:5) reads \"PASSWORD\" in plaintext from link.env: encrypt the env file with SOPS or use an ExternalSecret\n"
	if d := cmp.Diff(want, render(got)); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

func TestSecretKeysAndPlaceholders(t *testing.T) {
	t.Parallel()
	keys := []struct {
		key  string
		want bool
	}{
		{"password", true}, {"dbPassword", true}, {"DB_PASSWORD", true}, {"db-password", true}, {"passwd", true},
		{"keyPassphrase", true}, {"secret", true}, {"clientSecret", true}, {"client_secret", true}, {"token", true},
		{"authToken", true}, {"apiKey", true}, {"API_KEY", true}, {"privateKey", true}, {"private_key", true},
		{"accessKey", true}, {"secretKey", true}, {"connectionString", true}, {"ConnectionString", true},
		{"existingSecret", false}, {"existingPasswordSecret", false}, {"imagePullSecret", false}, {"tlsSecret", false},
		{"passwordFile", false}, {"DB_PASSWORD_FILE", false}, {"secretName", false}, {"tokenTTL", false},
		{"maxTokens", false}, {"accessKeyId", false}, {"existingSecretPasswordKey", false}, {"secrets", false},
	}
	for _, k := range keys {
		if got := isSecretKey(k.key); got != k.want {
			t.Errorf("isSecretKey(%q) = %v, want %v", k.key, got, k.want)
		}
	}
	values := []struct {
		key, value string
		want       bool
	}{
		{"password", "", true}, {"password", "  ", true}, {"password", "${DB_PASSWORD}", true},
		{"password", "{{ .Values.x }}", true}, {"password", "$(PASSWORD)", true}, {"password", "$PASSWORD", true},
		{"password", "<your password>", true}, {"password", "changeme", true}, {"password", "CHANGE_ME", true},
		{"password", "change-it", true}, {"password", "xxxx", true}, {"password", "****", true}, {"password", "TODO", true},
		{"password", "vault:secret/data/db#password", true}, {"password", "ref+vault://db#/password", true},
		{"password", "sops:x", true}, {"password", "op://vault/db/password", true},
		{"password", "arn:aws:secretsmanager:eu-west-1:1:secret:db", true}, {"password", "/run/secrets/db", true},
		{"secret", "db-creds", true}, {"tokenSecret", "app.token", true},
		{"password", "hunter2", false}, {"password", "db-creds", false}, {"secret", "s3cr3t", false},
		{"password", "/not a path", false}, {"clientSecret", "my-client-secret", false}, {"password", "password", false},
	}
	for _, v := range values {
		if got := placeholder(v.key, v.value); got != v.want {
			t.Errorf("placeholder(%q, %q) = %v, want %v", v.key, v.value, got, v.want)
		}
	}
}
