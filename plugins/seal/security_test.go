package seal

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// fixture is a directory with a plaintext Secret holding the canary, an age
// key pair and a Sealed Secrets key pair.
type fixture struct {
	dir                 string
	secret              string // path of the plaintext Secret
	ageKey, ageKey2     string // identity files
	recipient, recip2   string
	cert, key, otherKey string // PEM files
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{dir: dir}
	f.secret = writeTestFile(t, dir, "secret.yaml", []byte(`apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
type: Opaque
data:
  password: `+base64.StdEncoding.EncodeToString([]byte(canary))+`
stringData:
  token: `+canary+`
`))
	for i, p := range []*string{&f.ageKey, &f.ageKey2} {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		*p = writeTestFile(t, dir, []string{"age1.txt", "age2.txt"}[i], []byte(id.String()+"\n"))
		if i == 0 {
			f.recipient = id.Recipient().String()
		} else {
			f.recip2 = id.Recipient().String()
		}
	}
	f.cert, f.key = rsaPair(t, dir, "a", time.Now().Add(24*time.Hour))
	_, f.otherKey = rsaPair(t, dir, "b", time.Now().Add(24*time.Hour))
	return f
}

func rsaPair(t *testing.T, dir, name string, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeTestFile(t, dir, name+".crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyFile = writeTestFile(t, dir, name+".key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))
	return certFile, keyFile
}

func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := runSeal(t, nil, "", args...)
	if r.code != 0 {
		t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
	}
	return r
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCanaryNeverLeaks runs every subcommand, successful and failing, with
// a canary value and checks it appears only where plaintext was asked for.
func TestCanaryNeverLeaks(t *testing.T) {
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("HOME", t.TempDir())
	f := newFixture(t)
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	leaks := func(s string) bool { return strings.Contains(s, canary) || strings.Contains(s, b64) }

	sopsFile := writeTestFile(t, f.dir, "s.enc.yaml", []byte(mustRun(t, "-f", f.secret, "--age", f.recipient).stdout))
	sealed := writeTestFile(t, f.dir, "sealed.yaml", []byte(mustRun(t, "-f", f.secret, "--cert", f.cert).stdout))
	fluxFile := mustRun(t, "-f", f.secret, "--age", f.recipient, "--encrypted-regex", "^(data|stringData)$").stdout
	tampered := writeTestFile(t, f.dir, "t.enc.yaml", []byte(mustReplace(t, fluxFile, "name: db", "name: dc")))
	notMapping := writeTestFile(t, f.dir, "scalar.yaml", []byte(canary+"\n"))
	badB64 := writeTestFile(t, f.dir, "bad.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\ndata: {k: \""+canary+"!\"}\n"))
	valueFile := writeTestFile(t, f.dir, "value", []byte(canary))

	cases := []struct {
		name      string
		args      []string
		wantCode  int
		plaintext bool // stdout is plaintext by request
	}{
		{"seal sops", []string{"-f", f.secret, "--age", f.recipient}, 0, false},
		{"seal sops flux rule", []string{"-f", f.secret, "--age", f.recipient, "--encrypted-regex", "^(data|stringData)$"}, 0, false},
		{"seal sealed-secrets", []string{"-f", f.secret, "--cert", f.cert, "-o", "json"}, 0, false},
		{"seal from files", []string{"--name", "db", "-n", "prod", "--from-file", "token=" + valueFile, "--cert", f.cert}, 0, false},
		{"seal from literal", []string{"--name", "db", "-n", "prod", "--from-literal", "token=" + canary, "--age", f.recipient}, 0, false},
		{"seal raw", []string{"--raw", "--name", "db", "-n", "prod", "--from-file", valueFile, "--cert", f.cert}, 0, false},
		{"external secret", []string{"-f", f.secret, "--secret-store", "vault"}, 0, false},
		{"malformed literal", []string{"--name", "db", "--from-literal", canary, "--age", f.recipient}, 2, false},
		{"not a mapping", []string{"-f", notMapping, "--age", f.recipient}, 2, false},
		{"bad base64", []string{"-f", badB64, "--cert", f.cert}, 2, false},
		{"already encrypted", []string{"-f", sopsFile, "--age", f.recipient}, 2, false},
		{"decrypt", []string{"decrypt", "-f", sopsFile, "--age-identity", f.ageKey}, 0, true},
		{"decrypt wrong identity", []string{"decrypt", "-f", sopsFile, "--age-identity", f.ageKey2}, 2, false},
		{"decrypt no identity", []string{"decrypt", "-f", sopsFile}, 2, false},
		{"decrypt tampered", []string{"decrypt", "-f", tampered, "--age-identity", f.ageKey}, 2, false},
		{"unseal", []string{"unseal", "-f", sealed, "--private-key", f.key}, 0, true},
		{"unseal wrong key", []string{"unseal", "-f", sealed, "--private-key", f.otherKey}, 2, false},
		{"reencrypt", []string{"reencrypt", "-f", sealed, "--private-key", f.key, "--cert", f.cert}, 0, false},
		{"updatekeys", []string{"updatekeys", "-f", sopsFile, "--age", f.recipient + "," + f.recip2, "--age-identity", f.ageKey, "--dry-run", "-o", "json"}, 0, false},
		{"rotate dry-run", []string{"rotate", "-f", sopsFile, "--age-identity", f.ageKey, "--dry-run"}, 0, false},
		{"rotate tampered", []string{"rotate", "-f", tampered, "--age-identity", f.ageKey}, 2, false},
	}
	for _, c := range cases {
		r := runSeal(t, nil, "", c.args...)
		if r.code != c.wantCode {
			t.Errorf("%s: exit %d, want %d: %s", c.name, r.code, c.wantCode, r.stderr)
		}
		if leaks(r.stderr) {
			t.Errorf("%s: canary on stderr: %s", c.name, r.stderr)
		}
		if !c.plaintext && leaks(r.stdout) {
			t.Errorf("%s: canary on stdout", c.name)
		}
		if c.plaintext && !leaks(r.stdout) {
			t.Errorf("%s: the plaintext asked for is missing", c.name)
		}
	}
	for _, sub := range []string{"", "unseal", "decrypt", "updatekeys", "rotate", "reencrypt"} {
		args := []string{"--help"}
		if sub != "" {
			args = []string{sub, "--help"}
		}
		r := mustRun(t, args...)
		if leaks(r.stdout) || strings.Contains(r.stdout, "--from-literal password=") {
			t.Errorf("help of %q shows a plaintext value", sub)
		}
	}
}

// TestFilesArePrivateAtomicAndUntouchedOnFailure checks modes, in-place
// edits and that a failing command leaves its output file as it was.
func TestFilesArePrivateAtomicAndUntouchedOnFailure(t *testing.T) {
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	t.Setenv("HOME", t.TempDir())
	f := newFixture(t)

	out := filepath.Join(f.dir, "out.yaml")
	mustRun(t, "-f", f.secret, "--cert", f.cert, "--output-file", out)
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("--output-file mode %v", st.Mode().Perm())
	}

	// In place: the plaintext file becomes the encrypted one, still 0600.
	inPlace := writeTestFile(t, f.dir, "inplace.yaml", []byte(read(t, f.secret)))
	mustRun(t, "-f", inPlace, "--age", f.recipient, "--encrypted-regex", "^(data|stringData)$", "-i")
	if strings.Contains(read(t, inPlace), canary) || !strings.Contains(read(t, inPlace), "ENC[AES256_GCM") {
		t.Errorf("in-place encryption did not replace the plaintext")
	}

	// Failures leave existing files exactly as they were.
	before := read(t, inPlace)
	tampered := writeTestFile(t, f.dir, "tampered.yaml", []byte(mustReplace(t, before, "name: db", "name: dx")))
	tamperedBefore := read(t, tampered)
	for _, args := range [][]string{
		{"decrypt", "-f", inPlace, "--age-identity", f.ageKey2, "--output-file", out},
		{"decrypt", "-f", tampered, "--age-identity", f.ageKey, "-i"},
		{"rotate", "-f", tampered, "--age-identity", f.ageKey},
		{"updatekeys", "-f", inPlace, "--age", f.recip2, "--age-identity", f.ageKey2},
		{"unseal", "-f", out, "--private-key", f.otherKey, "--output-file", inPlace},
	} {
		outBefore := read(t, out)
		if r := runSeal(t, nil, "", args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, r.code, r.stderr)
		}
		if read(t, out) != outBefore || read(t, inPlace) != before || read(t, tampered) != tamperedBefore {
			t.Errorf("%v changed a file although it failed", args)
		}
	}

	// --merge-into of another Secret's keys is refused; the file is kept.
	other := writeTestFile(t, f.dir, "other.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: prod}\nstringData: {k: v}\n"))
	sealedBefore := read(t, out)
	if r := runSeal(t, nil, "", "-f", other, "--cert", f.cert, "--merge-into", out); r.code != 2 {
		t.Errorf("merge of another Secret: exit %d", r.code)
	}
	if read(t, out) != sealedBefore {
		t.Errorf("failed merge changed the file")
	}
	// A successful merge keeps the mode and adds the key.
	add := writeTestFile(t, f.dir, "add.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {api-key: v}\n"))
	mustRun(t, "-f", add, "--cert", f.cert, "--merge-into", out)
	got := mustRun(t, "unseal", "-f", out, "--private-key", f.key, "-o", "json").stdout
	for _, k := range []string{`"api-key"`, `"password"`, `"token"`} {
		if !strings.Contains(got, k) {
			t.Errorf("merged SealedSecret lacks %s", k)
		}
	}

	// updatekeys then rotate, in place, readable with the new key only.
	mustRun(t, "updatekeys", "-f", inPlace, "--age", f.recip2, "--age-identity", f.ageKey)
	mustRun(t, "rotate", "-f", inPlace, "--age-identity", f.ageKey2)
	if r := runSeal(t, nil, "", "decrypt", "-f", inPlace, "--age-identity", f.ageKey); r.code != 2 {
		t.Errorf("the removed recipient still decrypts")
	}
	if !strings.Contains(mustRun(t, "decrypt", "-f", inPlace, "--age-identity", f.ageKey2).stdout, canary) {
		t.Errorf("decrypt after rotate lost the value")
	}
	// No temporary file is ever left behind.
	entries, _ := os.ReadDir(f.dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestExpiredCertificate(t *testing.T) {
	f := newFixture(t)
	expired, _ := rsaPair(t, f.dir, "old", time.Now().Add(-time.Hour))
	r := runSeal(t, nil, "", "-f", f.secret, "--cert", expired)
	if r.code != 2 || !strings.Contains(r.stderr, "expired") || !strings.Contains(r.stderr, "--allow-expired-cert") {
		t.Errorf("expired cert: exit %d: %s", r.code, r.stderr)
	}
	mustRun(t, "-f", f.secret, "--cert", expired, "--allow-expired-cert")
}

func TestFormatInferenceFromSopsConfig(t *testing.T) {
	f := newFixture(t)
	t.Chdir(f.dir)
	writeTestFile(t, f.dir, ".sops.yaml", []byte("creation_rules:\n  - path_regex: secret\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: "+f.recipient+"\n"))
	r := mustRun(t, "-f", "secret.yaml")
	if !strings.Contains(r.stdout, "encrypted_regex: ^(data|stringData)$") || !strings.Contains(r.stdout, "name: db") {
		t.Errorf("the .sops.yaml rule was not applied:\n%s", r.stdout)
	}
	// stdin needs --path to match a rule.
	r = runSeal(t, nil, read(t, f.secret), "-f", "-", "--format", "sops")
	if r.code != 2 || !strings.Contains(r.stderr, "--path") {
		t.Errorf("stdin without --path: exit %d: %s", r.code, r.stderr)
	}
	if r := runSeal(t, nil, read(t, f.secret), "-f", "-", "--format", "sops", "--path", "secret.yaml"); r.code != 0 || !strings.Contains(r.stdout, "encrypted_regex") {
		t.Errorf("stdin with --path: exit %d: %s", r.code, r.stderr)
	}
}

func mustReplace(t *testing.T, s, old, repl string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not found", old)
	}
	return strings.Replace(s, old, repl, 1)
}

// TestReencryptRefusesAFileWithoutSealedSecrets: reencrypt -i on a file
// that holds no document at all (comments, an empty `---`) is an error and leaves the file as it was; it used to write an empty
// document over it and exit 0.
func TestReencryptRefusesAFileWithoutSealedSecrets(t *testing.T) {
	f := newFixture(t)
	plain := "# the sealed secrets of prod go here\n---\n"
	file := writeTestFile(t, f.dir, "app.yaml", []byte(plain))
	for _, args := range [][]string{
		{"reencrypt", "-f", file, "--private-key", f.key, "--cert", f.cert, "-i"},
		{"reencrypt", "-f", file, "--private-key", f.key, "--cert", f.cert, "-o", "json"},
	} {
		r := runSeal(t, nil, "", args...)
		if r.code != 2 || !strings.Contains(r.stderr, "no SealedSecret found") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and \"no SealedSecret found\"", args, r.code, r.stderr)
		}
		if got, err := os.ReadFile(file); err != nil || string(got) != plain {
			t.Errorf("%v: the file changed (%v):\n%s", args, err, got)
		}
	}
}
