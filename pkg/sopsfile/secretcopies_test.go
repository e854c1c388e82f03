package sopsfile

import (
	"encoding/base64"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// copyCanary is the Secret value of these tests: it may appear in no
// encrypted file, and in no message.
const copyCanary = "canary-s3cr3t-7f3a"

var copyCanaryB64 = base64.StdEncoding.EncodeToString([]byte(copyCanary))

func leaksCopyCanary(s string) bool {
	return strings.Contains(s, copyCanary) || strings.Contains(s, copyCanaryB64)
}

// exportedSecret is a Secret as `kubectl get secret -o yaml` prints one
// that was created with `kubectl apply`: the last-applied annotation holds
// the whole manifest, values included.
func exportedSecret(annotation string) string {
	lastApplied := `{"apiVersion":"v1","data":{"password":"` + copyCanaryB64 + `"},"kind":"Secret","metadata":{"annotations":{"team":"payments"},"name":"db","namespace":"prod"},"stringData":{"token":"` + copyCanary + `"},"type":"Opaque"}`
	return `apiVersion: v1
kind: Secret
metadata:
  annotations:
    ` + annotation + `: |
      ` + lastApplied + `
    team: payments
  name: db
  namespace: prod
type: Opaque
data:
  password: ` + copyCanaryB64 + `
stringData:
  token: ` + copyCanary + `
`
}

// withoutAnnotation is exportedSecret with the copy annotation removed: what
// sops -d must give back.
const withoutAnnotation = `apiVersion: v1
kind: Secret
metadata:
  annotations:
    team: payments
  name: db
  namespace: prod
type: Opaque
data:
  password: ` + "Y2FuYXJ5LXMzY3IzdC03ZjNh" + `
stringData:
  token: ` + copyCanary + `
`

// TestEncryptDropsSecretCopyAnnotations: with Flux's rule, which leaves
// metadata in clear, the annotations holding a copy of a Secret are dropped;
// the real sops decrypts the result (MAC verified) to the Secret without
// them, and no form of the value is left anywhere in the file.
func TestEncryptDropsSecretCopyAnnotations(t *testing.T) {
	t.Parallel()
	if copyCanaryB64 != "Y2FuYXJ5LXMzY3IzdC03ZjNh" {
		t.Fatalf("fixture: base64 of the canary is %s", copyCanaryB64)
	}
	key := newAgeKey(t)
	for _, tc := range []struct {
		annotation string
		rule       Rule
		sopsArgs   []string
	}{
		{"kubectl.kubernetes.io/last-applied-configuration", Rule{EncryptedRegex: "^(data|stringData)$"}, []string{"--encrypted-regex", "^(data|stringData)$"}},
		{"kubecfg.ksonnet.io/last-applied-configuration", Rule{EncryptedRegex: "^(data|stringData)$"}, []string{"--encrypted-regex", "^(data|stringData)$"}},
		{"kapp.k14s.io/original", Rule{UnencryptedRegex: "^(apiVersion|kind|metadata|type)$"}, []string{"--unencrypted-regex", "^(apiVersion|kind|metadata|type)$"}},
		// Everything encrypted: nothing leaks, the copy is dropped all the same.
		{"kubectl.kubernetes.io/last-applied-configuration", Rule{}, nil},
	} {
		t.Run(tc.annotation+"/"+strings.Join(tc.sopsArgs, "="), func(t *testing.T) {
			t.Parallel()
			plain := exportedSecret(tc.annotation)
			var notices []string
			ours, err := Encrypt([]byte(plain), EncryptOptions{Recipients: []string{key.recipient}, Rule: tc.rule,
				Notice: func(m string) { notices = append(notices, m) }})
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if leaksCopyCanary(string(ours)) {
				t.Fatalf("the value is left in clear in the encrypted file:\n%s", ours)
			}
			if strings.Contains(string(ours), tc.annotation) {
				t.Errorf("the annotation %s is still in the file", tc.annotation)
			}
			if len(notices) != 1 || !strings.Contains(notices[0], tc.annotation) || !strings.Contains(notices[0], "prod/db") || leaksCopyCanary(notices[0]) {
				t.Errorf("notices: %q", notices)
			}
			dir := t.TempDir()
			got, err := sopsCLI(t, dir, key.file, "decrypt", writeTemp(t, dir, "ours.enc.yaml", ours))
			if err != nil {
				t.Fatalf("sops decrypt of our file: %v", err)
			}
			// sops' own encryption of the stripped Secret is the reference.
			theirs, err := sopsCLI(t, dir, "", append(append([]string{"encrypt", "--age", key.recipient}, tc.sopsArgs...), writeTemp(t, dir, "plain.yaml", []byte(withoutAnnotation)))...)
			if err != nil {
				t.Fatalf("sops encrypt: %v", err)
			}
			want, err := sopsCLI(t, dir, key.file, "decrypt", writeTemp(t, dir, "theirs.enc.yaml", theirs))
			if err != nil {
				t.Fatalf("sops decrypt of sops' file: %v", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("sops -d of our file (-sops' round trip of the stripped Secret +ours):\n%s", d)
			}
			if d := cmp.Diff(mask(theirs), mask(ours)); d != "" {
				t.Errorf("encrypted file differs from sops' for the stripped Secret (-sops +ours):\n%s", d)
			}
			back, err := Decrypt(ours, []age.Identity{key.id}, DecryptOptions{})
			if err != nil || string(back) != string(want) {
				t.Errorf("our decrypt: %v\n%s", err, back)
			}
		})
	}
}

// TestEncryptRefusesSecretValuesInClear: whatever else a rule would leave in
// clear that holds a value of the Secret is an error naming the field and
// the key, never the value; nothing is encrypted.
func TestEncryptRefusesSecretValuesInClear(t *testing.T) {
	t.Parallel()
	key := newAgeKey(t)
	flux := Rule{EncryptedRegex: "^(data|stringData)$"}
	for _, tc := range []struct {
		name string
		in   string
		rule Rule
		want []string // in the error
	}{
		{"another annotation holding a copy", strings.Replace(exportedSecret("argocd.example.com/original"), "\n", "\n", 1), flux,
			[]string{"document 1 (Secret prod/db)", "metadata.annotations.argocd.example.com/original", "data.password"}},
		{"an annotation holding the decoded value",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    note: \"was " + copyCanary + "\"\ndata:\n  password: " + copyCanaryB64 + "\n", flux,
			[]string{"Secret db", "metadata.annotations.note", "data.password"}},
		{"a comment holding the value",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n# old token: " + copyCanary + "\nstringData:\n  token: " + copyCanary + "\n", flux,
			[]string{"a comment", "stringData.token"}},
		{"stringData left in clear by the rule",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata:\n  a: " + copyCanaryB64 + "\nstringData:\n  token: " + copyCanary + "\n", Rule{EncryptedRegex: "^data$"},
			[]string{"stringData.token would stay in clear", `encrypted_regex "^data$"`}},
		{"an item of a List",
			"apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: c}\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: db\n      annotations:\n        note: \"was " + copyCanary + "\"\n    stringData:\n      token: " + copyCanary + "\n", flux,
			[]string{"document 1, item 2 (Secret db)", "metadata.annotations.note", "stringData.token"}},
		{"a second document",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n---\n" + exportedSecret("example.com/copy"), flux,
			[]string{"document 2 (Secret prod/db)", "example.com/copy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := Encrypt([]byte(tc.in), EncryptOptions{Recipients: []string{key.recipient}, Rule: tc.rule})
			if err == nil {
				t.Fatalf("Encrypt succeeded:\n%s", out)
			}
			if leaksCopyCanary(err.Error()) {
				t.Fatalf("the error shows the value: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestEncryptKeepsOrdinaryClearFields: short values that occur in names and
// labels by design, annotations of other kinds, and Secrets without copies
// are encrypted as sops does, untouched.
func TestEncryptKeepsOrdinaryClearFields(t *testing.T) {
	t.Parallel()
	key := newAgeKey(t)
	for _, in := range []string{
		// The user name is the Secret's name and a label: not a leak.
		"apiVersion: v1\nkind: Secret\nmetadata:\n  name: postgres\n  labels: {app: postgres}\n  annotations: {owner: postgres}\nstringData:\n  username: postgres\n  password: " + copyCanary + "\n",
		// A ConfigMap's last-applied annotation is not a Secret's.
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"k\":\"v\"}}'\ndata:\n  k: v\n",
	} {
		out, err := Encrypt([]byte(in), EncryptOptions{Recipients: []string{key.recipient}, Rule: Rule{EncryptedRegex: "^(data|stringData)$"}})
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		back, err := Decrypt(out, []age.Identity{key.id}, DecryptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := yaml.Unmarshal([]byte(in), &a); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(back, &b); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(a, b); d != "" {
			t.Errorf("round trip changed the document (-in +out):\n%s", d)
		}
	}
}

// TestEncryptListOfSecrets: `kubectl get secrets -o yaml` gives a List; the
// copies of its Secrets are dropped as well, and the real sops decrypts the
// file to the List without them.
func TestEncryptListOfSecrets(t *testing.T) {
	t.Parallel()
	key := newAgeKey(t)
	item := strings.ReplaceAll(exportedSecret("kubectl.kubernetes.io/last-applied-configuration"), "\n", "\n    ")
	in := "apiVersion: v1\nkind: List\nitems:\n  - " + strings.TrimSpace(item) + "\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: c}\n"
	var notices []string
	out, err := Encrypt([]byte(in), EncryptOptions{Recipients: []string{key.recipient}, Rule: Rule{EncryptedRegex: "^(data|stringData)$"},
		Notice: func(m string) { notices = append(notices, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if leaksCopyCanary(string(out)) || strings.Contains(string(out), "last-applied") {
		t.Fatalf("a copy of the value is left:\n%s", out)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "document 1, item 1 (Secret prod/db)") {
		t.Errorf("notices: %q", notices)
	}
	dir := t.TempDir()
	got, err := sopsCLI(t, dir, key.file, "decrypt", writeTemp(t, dir, "list.enc.yaml", out))
	if err != nil {
		t.Fatalf("sops decrypt: %v", err)
	}
	var want, have any
	if err := yaml.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	ann := want.(map[string]any)["items"].([]any)[0].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)
	delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
	if err := yaml.Unmarshal(got, &have); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, have); d != "" {
		t.Errorf("sops -d (-the List without the copy +sops):\n%s", d)
	}
}
