package sopsfile

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func decodeAll(t *testing.T, b []byte) []any {
	t.Helper()
	var out []any
	d := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var v any
		err := d.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding: %v", err)
		}
		out = append(out, v)
	}
}

var (
	fuzzOnce sync.Once
	fuzzID   *age.X25519Identity
)

func fuzzIdentity(t testing.TB) *age.X25519Identity {
	fuzzOnce.Do(func() {
		var err error
		if fuzzID, err = age.GenerateX25519Identity(); err != nil {
			t.Fatal(err)
		}
	})
	return fuzzID
}

// FuzzDecrypt feeds arbitrary bytes to the SOPS decoder: it must never
// panic. Seeds: testdata/fuzz/FuzzDecrypt.
func FuzzDecrypt(f *testing.F) {
	id := fuzzIdentity(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Inspect(data)
		_, _ = Decrypt(data, []age.Identity{id}, DecryptOptions{})
		_, _, _ = UpdateKeys(data, []age.Identity{id}, []string{id.Recipient().String()})
	})
}

// FuzzRoundTrip: whatever YAML encrypts, decrypts to the same data (comments
// may move, as they do with sops). Seeds: testdata/fuzz/FuzzRoundTrip.
func FuzzRoundTrip(f *testing.F) {
	id := fuzzIdentity(f)
	f.Fuzz(func(t *testing.T, plain []byte, regex bool) {
		r := Rule{}
		if regex {
			r.EncryptedRegex = "^(data|stringData)$"
		}
		enc, err := Encrypt(plain, EncryptOptions{Recipients: []string{id.Recipient().String()}, Rule: r})
		if err != nil {
			return
		}
		docs, err := parseYAML(plain)
		if err != nil {
			t.Fatalf("Encrypt accepted what parseYAML refuses: %v", err)
		}
		want, err := emitYAML(docs)
		if err != nil {
			return
		}
		got, err := Decrypt(enc, []age.Identity{id}, DecryptOptions{})
		if err != nil {
			t.Fatalf("Decrypt of our own output: %v", err)
		}
		if d := cmp.Diff(decodeAll(t, want), decodeAll(t, got)); d != "" {
			t.Errorf("round trip differs (-want +got):\n%s", d)
		}
	})
}
