package seal

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// appliedSecret is `kubectl get secret -o yaml` of a Secret created with
// `kubectl apply`: the last-applied annotation holds the values too.
func appliedSecret() string {
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	return `apiVersion: v1
kind: Secret
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","data":{"password":"` + b64 + `"},"kind":"Secret","metadata":{"annotations":{},"name":"db","namespace":"prod"},"type":"Opaque"}
  name: db
  namespace: prod
type: Opaque
data:
  password: ` + b64 + `
`
}

// TestSealSOPSLeavesNoCopyOfTheValues: with the .sops.yaml `repo init`
// writes (Flux's encrypted_regex ^(data|stringData)$, metadata in clear),
// `seal -i` drops the last-applied copy; the real sops decrypts the file
// (MAC verified) to the Secret without it, and no form of the value is left
// in the file. A file the real sops encrypted with the copy in clear is a
// `seal scan` finding.
func TestSealSOPSLeavesNoCopyOfTheValues(t *testing.T) {
	f := newFixture(t)
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	_, _ = peertools.Dir(peertools.Sops) // found from the repository, before t.Chdir
	t.Chdir(f.dir)
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	leaks := func(s string) bool { return strings.Contains(s, canary) || strings.Contains(s, b64) }
	writeTestFile(t, f.dir, ".sops.yaml", []byte("creation_rules:\n  - path_regex: ^(envs|infrastructure|tenants)/.*\\.ya?ml$\n    encrypted_regex: ^(data|stringData)$\n    age: "+f.recipient+"\n"))
	for _, d := range []string{"envs/dev", "plain"} {
		if err := os.MkdirAll(filepath.Join(f.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ours := writeTestFile(t, f.dir, "envs/dev/ours.yaml", []byte(appliedSecret()))

	r := runSeal(t, nil, "", "-f", "envs/dev/ours.yaml", "-i")
	if r.code != 0 {
		t.Fatalf("seal: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "dropped the annotation kubectl.kubernetes.io/last-applied-configuration") || leaks(r.stderr) {
		t.Errorf("stderr: %s", r.stderr)
	}
	enc := read(t, ours)
	if leaks(enc) || strings.Contains(enc, "last-applied") || !strings.Contains(enc, "encrypted_regex: ^(data|stringData)$") {
		t.Fatalf("the encrypted file keeps a copy of the value:\n%s", enc)
	}
	plain, serr, code := realSops(t, f.dir, f.ageKey, "decrypt", "envs/dev/ours.yaml")
	if code != 0 {
		t.Fatalf("sops -d: exit %d: %s", code, serr)
	}
	var got, want map[string]any
	if err := yaml.Unmarshal([]byte(plain), &got); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(appliedSecret()), &want); err != nil {
		t.Fatal(err)
	}
	delete(want["metadata"].(map[string]any), "annotations")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("sops -d of the sealed file (-the Secret without its copy +sops):\n%s", d)
	}
	if code, out, errOut := runScan(t, "envs"); code != 0 {
		t.Errorf("seal scan of our file: exit %d\n%s%s", code, out, errOut)
	}

	// The real sops, with the same rule, keeps the copy in clear: scan says so.
	writeTestFile(t, f.dir, "envs/dev/theirs.yaml", []byte(appliedSecret()))
	if _, serr, code := realSops(t, f.dir, "", "encrypt", "-i", "envs/dev/theirs.yaml"); code != 0 {
		t.Fatalf("sops -e: exit %d: %s", code, serr)
	}
	if !leaks(read(t, filepath.Join(f.dir, "envs/dev/theirs.yaml"))) {
		t.Fatalf("fixture: sops encrypted the last-applied copy, the scan has nothing to find")
	}
	code, out, errOut := runScan(t, "envs", "-o", "json")
	if code != 1 || !strings.Contains(out, `"file": "envs/dev/theirs.yaml"`) || !strings.Contains(out, `"key": "password"`) ||
		!strings.Contains(out, "last-applied-configuration annotation") || strings.Contains(out, "ours.yaml") {
		t.Errorf("seal scan of sops' file: exit %d, want 1 with one finding in theirs.yaml\n%s%s", code, out, errOut)
	}
	if leaks(out + errOut) {
		t.Errorf("the scan shows the value: %s%s", out, errOut)
	}

	// A copy under a name we do not know is refused, and -i writes nothing.
	other := writeTestFile(t, f.dir, "envs/dev/other.yaml", []byte(strings.Replace(appliedSecret(), "kubectl.kubernetes.io/last-applied-configuration", "example.com/backup", 1)))
	before := read(t, other)
	r = runSeal(t, nil, "", "-f", "envs/dev/other.yaml", "-i")
	if r.code != 2 || !strings.Contains(r.stderr, "metadata.annotations.example.com/backup") || !strings.Contains(r.stderr, "data.password") || leaks(r.stdout+r.stderr) {
		t.Errorf("a copy under another name: exit %d, want 2 naming the annotation and key: %s", r.code, r.stderr)
	}
	if read(t, other) != before {
		t.Errorf("the refused file was rewritten")
	}

	// Sealed Secrets: the template has no copy either.
	plainFile := writeTestFile(t, f.dir, "plain/applied.yaml", []byte(appliedSecret()))
	r = runSeal(t, nil, "", "-f", plainFile, "--cert", f.cert)
	if r.code != 0 || leaks(r.stdout) || strings.Contains(r.stdout, "last-applied") {
		t.Errorf("SealedSecret: exit %d, keeps a copy of the value:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
