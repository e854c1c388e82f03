package sopsfile

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// sopsCLI runs the real sops with identities from keyFile (may be empty) in
// dir; it returns stdout, and the error with stderr.
func sopsCLI(t *testing.T, dir, keyFile string, args ...string) ([]byte, error) {
	t.Helper()
	bin := peertools.Require(t, peertools.Sops, "sops")
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"SOPS_DISABLE_VERSION_CHECK=1", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	if keyFile != "" {
		cmd.Env = append(cmd.Env, "SOPS_AGE_KEY_FILE="+keyFile)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, errors.Join(err, errors.New(stderr.String()))
	}
	return out, nil
}

type ageKey struct {
	id        *age.X25519Identity
	recipient string
	file      string
}

func newAgeKey(t *testing.T) ageKey {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(f, []byte("# test key\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return ageKey{id: id, recipient: id.Recipient().String(), file: f}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	encValueRE = regexp.MustCompile(`ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,type:([a-z]+)\]`)
	armorRE    = regexp.MustCompile(`(?s)-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----`)
	lastModRE  = regexp.MustCompile(`lastmodified: "[^"]*"`)
)

// mask hides what is random (ciphertexts, wrapped keys, time), keeping the
// value types, so two encryptions of one input can be compared line by line.
func mask(b []byte) string {
	s := encValueRE.ReplaceAllString(string(b), "ENC[…,type:$1]")
	s = armorRE.ReplaceAllString(s, "AGE-ARMOR")
	return lastModRE.ReplaceAllString(s, `lastmodified: "T"`)
}

func TestSopsInteropRoundTrips(t *testing.T) {
	t.Parallel()
	key := newAgeKey(t)
	for _, tc := range []struct {
		file string
		rule Rule
		args []string
		// secretInClear: the rule leaves a Secret's value in clear, which
		// Encrypt refuses (sops does not); the comparison runs with that
		// document made a ConfigMap.
		secretInClear bool
	}{
		{"secret.yaml", Rule{EncryptedRegex: "^(data|stringData)$"}, []string{"--encrypted-regex", "^(data|stringData)$"}, false},
		{"secret.yaml", Rule{}, nil, false},
		{"complex.yaml", Rule{}, nil, false},
		{"complex.yaml", Rule{UnencryptedRegex: "^(apiVersion|kind|metadata)$"}, []string{"--unencrypted-regex", "^(apiVersion|kind|metadata)$"}, false},
		{"complex.yaml", Rule{EncryptedSuffix: "t"}, []string{"--encrypted-suffix", "t"}, true},
		{"complex.yaml", Rule{UnencryptedSuffix: "_unencrypted"}, []string{"--unencrypted-suffix", "_unencrypted"}, false},
	} {
		t.Run(tc.file+"/"+strings.Join(tc.args, "="), func(t *testing.T) {
			t.Parallel()
			plain := readTestdata(t, tc.file)
			if tc.secretInClear {
				if _, err := Encrypt(plain, EncryptOptions{Recipients: []string{key.recipient}, Rule: tc.rule}); err == nil || !strings.Contains(err.Error(), "would stay in clear") {
					t.Fatalf("Encrypt of a Secret left in clear: %v", err)
				}
				plain = bytes.Replace(plain, []byte("kind: Secret"), []byte("kind: ConfigMap"), 1)
			}
			dir := t.TempDir()
			in := writeTemp(t, dir, "plain.yaml", plain)

			// sops' own round trip is the reference output.
			theirs, err := sopsCLI(t, dir, "", append(append([]string{"encrypt", "--age", key.recipient}, tc.args...), in)...)
			if err != nil {
				t.Fatalf("sops encrypt: %v", err)
			}
			theirsFile := writeTemp(t, dir, "theirs.enc.yaml", theirs)
			want, err := sopsCLI(t, dir, key.file, "decrypt", theirsFile)
			if err != nil {
				t.Fatalf("sops decrypt of sops' file: %v", err)
			}

			ours, err := Encrypt(plain, EncryptOptions{Recipients: []string{key.recipient}, Rule: tc.rule})
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if strings.Contains(string(ours), "canary-s3cr3t") || bytes.Contains(ours, []byte("Y2FuYXJ5LXMzY3IzdC1acTh2")) {
				t.Fatalf("plaintext in encrypted output")
			}
			// Same leaves encrypted, same types, same layout and metadata.
			if d := cmp.Diff(mask(theirs), mask(ours)); d != "" {
				t.Errorf("encrypted file differs from sops' after masking ciphertexts (-sops +ours):\n%s", d)
			}
			oursFile := writeTemp(t, dir, "ours.enc.yaml", ours)

			// ours → sops -d (MAC verified by sops).
			got, err := sopsCLI(t, dir, key.file, "decrypt", oursFile)
			if err != nil {
				t.Fatalf("sops decrypt of our file: %v", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("sops -d of our file (-want +got):\n%s", d)
			}
			// sops -e → ours, and ours → ours.
			for name, enc := range map[string][]byte{"sops' file": theirs, "our file": ours} {
				got, err := Decrypt(enc, []age.Identity{key.id}, DecryptOptions{})
				if err != nil {
					t.Fatalf("Decrypt of %s: %v", name, err)
				}
				if d := cmp.Diff(string(want), string(got)); d != "" {
					t.Errorf("our decrypt of %s (-sops +ours):\n%s", name, d)
				}
			}
		})
	}
}

func TestSopsInteropCanonicalInputIsExact(t *testing.T) {
	t.Parallel()
	key := newAgeKey(t)
	plain := readTestdata(t, "secret.yaml")
	ours, err := Encrypt(plain, EncryptOptions{Recipients: []string{key.recipient}, Rule: Rule{EncryptedRegex: "^(data|stringData)$"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	got, err := sopsCLI(t, dir, key.file, "decrypt", writeTemp(t, dir, "s.yaml", ours))
	if err != nil {
		t.Fatalf("sops decrypt: %v", err)
	}
	if d := cmp.Diff(string(plain), string(got)); d != "" {
		t.Errorf("sops -d of our file is not the input (-input +sops):\n%s", d)
	}
}

func TestSopsInteropCreationRules(t *testing.T) {
	t.Parallel()
	k1, k2 := newAgeKey(t), newAgeKey(t)
	dir := t.TempDir()
	cfg := "creation_rules:\n" +
		"  - path_regex: secrets/.*\\.yaml$\n" +
		"    encrypted_regex: ^(data|stringData)$\n" +
		"    age: " + k1.recipient + "," + k2.recipient + "\n" +
		"  - path_regex: .*\\.yaml$\n" +
		"    unencrypted_suffix: _clear\n" +
		"    age:\n" +
		"      - " + k2.recipient + "\n"
	writeTemp(t, dir, ConfigFileName, []byte(cfg))
	conf, err := LoadConfig(filepath.Join(dir, ConfigFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"secrets/db.yaml", "apps/config.yaml"} {
		plain := readTestdata(t, "complex.yaml")
		abs := writeTemp(t, dir, rel, plain)
		theirs, err := sopsCLI(t, dir, "", "encrypt", rel)
		if err != nil {
			t.Fatalf("sops encrypt %s: %v", rel, err)
		}
		// Absolute and relative paths select the same rule, as in sops.
		for _, p := range []string{rel, abs} {
			r, err := conf.RuleFor(p)
			if err != nil {
				t.Fatalf("RuleFor(%s): %v", p, err)
			}
			ours, err := Encrypt(plain, EncryptOptions{Recipients: r.Age, Rule: r.Rule})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(mask(theirs), mask(ours)); d != "" {
				t.Errorf("%s: rule applied differently (-sops +ours):\n%s", p, d)
			}
			// Both keys of the first rule can decrypt ours with sops.
			for _, k := range []ageKey{k1, k2} {
				if rel == "apps/config.yaml" && k == k1 {
					continue
				}
				f := writeTemp(t, t.TempDir(), "x.yaml", ours)
				if _, err := sopsCLI(t, dir, k.file, "decrypt", f); err != nil {
					t.Errorf("%s: sops cannot decrypt ours with %s: %v", p, k.recipient, err)
				}
			}
		}
		// The other direction: sops' file decrypts here.
		if _, err := Decrypt(theirs, []age.Identity{k2.id}, DecryptOptions{}); err != nil {
			t.Errorf("%s: Decrypt of sops' file: %v", rel, err)
		}
	}
	// A path no rule matches is an error in both.
	if _, err := conf.RuleFor("other.json"); !errors.Is(err, ErrNoMatchingRule) {
		t.Errorf("RuleFor(other.json) = %v, want ErrNoMatchingRule", err)
	}
	writeTemp(t, dir, "other.json", []byte(`{"a":"b"}`))
	if _, err := sopsCLI(t, dir, "", "encrypt", "other.json"); err == nil || !strings.Contains(err.Error(), "no matching creation rules") {
		t.Errorf("sops encrypt other.json: %v, want no matching creation rules", err)
	}
}

func TestSopsInteropTamperAndKeys(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := newAgeKey(t), newAgeKey(t), newAgeKey(t)
	plain := readTestdata(t, "secret.yaml")
	enc, err := Encrypt(plain, EncryptOptions{Recipients: []string{k1.recipient}, Rule: Rule{EncryptedRegex: "^(data|stringData)$"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// Editing a value in clear breaks the MAC, for sops and for us.
	tampered := bytes.Replace(enc, []byte("name: db-creds"), []byte("name: db-credz"), 1)
	if _, err := Decrypt(tampered, []age.Identity{k1.id}, DecryptOptions{}); !errors.Is(err, ErrMACMismatch) {
		t.Errorf("Decrypt of tampered file: %v, want ErrMACMismatch", err)
	}
	if _, err := sopsCLI(t, dir, k1.file, "decrypt", writeTemp(t, dir, "t.yaml", tampered)); err == nil || !strings.Contains(err.Error(), "MAC mismatch") {
		t.Errorf("sops accepted the tampered file: %v", err)
	}
	// Flux' mode: the MAC is not checked.
	if _, err := Decrypt(tampered, []age.Identity{k1.id}, DecryptOptions{IgnoreMAC: true}); err != nil {
		t.Errorf("Decrypt IgnoreMAC: %v", err)
	}
	// Swapping two ciphertexts fails authentication (AAD is the key path).
	swapped := swapValues(t, enc, "password", "username")
	if _, err := Decrypt(swapped, []age.Identity{k1.id}, DecryptOptions{}); err == nil || !strings.Contains(err.Error(), "data:password:") {
		t.Errorf("Decrypt of swapped values: %v", err)
	}
	// Wrong identity.
	if _, err := Decrypt(enc, []age.Identity{k2.id}, DecryptOptions{}); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("Decrypt with a wrong identity: %v", err)
	}

	// updatekeys: add k2, drop k1; values and MAC unchanged; sops reads it.
	up, ch, err := UpdateKeys(enc, []age.Identity{k1.id}, []string{k2.recipient, k3.recipient})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(KeyChange{Added: []string{k2.recipient, k3.recipient}, Removed: []string{k1.recipient}}, ch); d != "" {
		t.Errorf("KeyChange (-want +got):\n%s", d)
	}
	if got, want := encValueRE.FindAllString(string(up), -1), encValueRE.FindAllString(string(enc), -1); !cmp.Equal(got, want) {
		t.Errorf("updatekeys changed encrypted values")
	}
	upFile := writeTemp(t, dir, "up.yaml", up)
	if got, err := sopsCLI(t, dir, k3.file, "decrypt", upFile); err != nil || string(got) != string(plain) {
		t.Errorf("sops decrypt after updatekeys: %v\n%s", err, got)
	}
	if _, err := sopsCLI(t, dir, k1.file, "decrypt", upFile); err == nil {
		t.Errorf("the removed recipient can still decrypt with sops")
	}

	// rotate: new data key for the same recipients; sops reads it.
	rot, _, err := Rotate(up, []age.Identity{k2.id}, nil, EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := sopsCLI(t, dir, k2.file, "decrypt", writeTemp(t, dir, "rot.yaml", rot)); err != nil || string(got) != string(plain) {
		t.Errorf("sops decrypt after rotate: %v\n%s", err, got)
	}
	k1d, _ := dataKeyOf(t, up, k2.id)
	k2d, _ := dataKeyOf(t, rot, k2.id)
	if bytes.Equal(k1d, k2d) {
		t.Errorf("rotate kept the data key")
	}

	// sops updatekeys/rotate output reads here too: sops -r on our file.
	rf := writeTemp(t, dir, "sops-rot.yaml", rot)
	if _, err := sopsCLI(t, dir, k2.file, "rotate", "-i", rf); err != nil {
		t.Fatalf("sops rotate: %v", err)
	}
	sopsRot, _ := os.ReadFile(rf)
	if got, err := Decrypt(sopsRot, []age.Identity{k3.id}, DecryptOptions{}); err != nil || string(got) != string(plain) {
		t.Errorf("Decrypt of a file sops rotated: %v", err)
	}
}

func dataKeyOf(t *testing.T, in []byte, id age.Identity) ([]byte, error) {
	t.Helper()
	f, err := parseEncrypted(in)
	if err != nil {
		t.Fatal(err)
	}
	return f.dataKey([]age.Identity{id})
}

func swapValues(t *testing.T, in []byte, a, b string) []byte {
	t.Helper()
	re := func(k string) *regexp.Regexp { return regexp.MustCompile(`(?m)^(\s+` + k + `: )(ENC\[[^\]]*\])`) }
	ma, mb := re(a).FindSubmatch(in), re(b).FindSubmatch(in)
	if ma == nil || mb == nil {
		t.Fatalf("keys %s/%s not found", a, b)
	}
	out := re(a).ReplaceAll(in, append(append([]byte{}, ma[1]...), []byte("PLACEHOLDER")...))
	out = re(b).ReplaceAll(out, append(append([]byte{}, mb[1]...), ma[2]...))
	return bytes.Replace(out, []byte("PLACEHOLDER"), mb[2], 1)
}

// TestSopsInteropRuleFromSubdirectory: run inside envs/dev on secret.yaml,
// sops matches the root .sops.yaml's ^envs/dev/ rule (it makes the path
// absolute, then relative to the config's directory); so do we.
func TestSopsInteropRuleFromSubdirectory(t *testing.T) {
	k := newAgeKey(t)
	dir := t.TempDir()
	writeTemp(t, dir, ConfigFileName, []byte("creation_rules:\n  - path_regex: ^envs/dev/.*\\.yaml$\n    age: "+k.recipient+"\n"))
	writeTemp(t, dir, "envs/dev/secret.yaml", readTestdata(t, "complex.yaml"))
	sub := filepath.Join(dir, "envs", "dev")
	if _, err := sopsCLI(t, sub, "", "encrypt", "secret.yaml"); err != nil {
		t.Fatalf("sops encrypt from envs/dev: %v", err)
	}
	t.Chdir(sub)
	found, err := FindConfig(".")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := LoadConfig(found)
	if err != nil {
		t.Fatal(err)
	}
	r, err := conf.RuleFor("secret.yaml")
	if err != nil || r == nil || len(r.Age) != 1 || r.Age[0] != k.recipient {
		t.Fatalf("RuleFor(secret.yaml) from envs/dev = %+v, %v", r, err)
	}
}
