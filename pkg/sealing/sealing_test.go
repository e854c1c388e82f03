package sealing

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScopeEnforcement(t *testing.T) {
	t.Parallel()
	kp, _ := testKeys(t)
	keys := []*rsa.PrivateKey{kp.priv}
	tests := []struct {
		scope         Scope
		ns, name      string
		wantDecrypted bool
	}{
		{Strict, "prod", "db-creds", true},
		{Strict, "prod", "renamed", false},
		{Strict, "dev", "db-creds", false},
		{NamespaceWide, "prod", "renamed", true},
		{NamespaceWide, "dev", "db-creds", false},
		{ClusterWide, "dev", "renamed", true},
	}
	for _, tt := range tests {
		scope := tt.scope
		ss, err := Seal(testSecret(), kp.cert.Key, SealOptions{Scope: &scope})
		if err != nil {
			t.Fatal(err)
		}
		ss.Metadata.Namespace, ss.Metadata.Name = tt.ns, tt.name
		_, err = Unseal(ss, keys)
		if got := err == nil; got != tt.wantDecrypted {
			t.Errorf("%s moved to %s/%s: decrypted=%v (%v)", tt.scope, tt.ns, tt.name, got, err)
		}
		if err != nil && (!errors.Is(err, ErrDecrypt) || strings.Contains(err.Error(), canary)) {
			t.Errorf("error %v", err)
		}
	}
}

func TestSealScopeFromAnnotationsAndStripping(t *testing.T) {
	t.Parallel()
	kp, _ := testKeys(t)
	s := testSecret()
	s.Annotations[AnnotationNamespaceWide] = "true"
	ss, err := Seal(s, kp.cert.Key, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ss.Scope() != NamespaceWide || ss.Spec.Template.Annotations[AnnotationNamespaceWide] != "true" {
		t.Errorf("scope annotation not on both metadata and template: %v / %v", ss.Metadata.Annotations, ss.Spec.Template.Annotations)
	}
	out, _ := Marshal("yaml", ss)
	for _, bad := range []string{"last-applied", "ownerReferences", "uid:", "resourceVersion", canary, "creationTimestamp"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("output contains %q:\n%s", bad, out)
		}
	}
	// The flag wins over the annotation, and the template follows it.
	cw := ClusterWide
	ss, _ = Seal(s, kp.cert.Key, SealOptions{Scope: &cw})
	if ss.Scope() != ClusterWide || ss.Spec.Template.Annotations[AnnotationNamespaceWide] != "" {
		t.Errorf("scope flag not applied: %v", ss.Spec.Template.Annotations)
	}
}

func TestSealNamespaceRules(t *testing.T) {
	t.Parallel()
	kp, _ := testKeys(t)
	s := testSecret()
	s.Namespace = ""
	if _, err := Seal(s, kp.cert.Key, SealOptions{}); err == nil || !strings.Contains(err.Error(), "namespace") {
		t.Errorf("no namespace: %v", err)
	}
	ss, err := Seal(s, kp.cert.Key, SealOptions{Namespace: "team-a"})
	if err != nil || ss.Metadata.Namespace != "team-a" || ss.Spec.Template.Namespace != "team-a" {
		t.Errorf("default namespace: %v %+v", err, ss)
	}
	if _, err := Seal(testSecret(), kp.cert.Key, SealOptions{Namespace: "team-a", EnforceNamespace: true}); err == nil || !strings.Contains(err.Error(), "mismatch") {
		t.Errorf("mismatch: %v", err)
	}
	cw := ClusterWide
	if ss, err := Seal(s, kp.cert.Key, SealOptions{Scope: &cw}); err != nil || ss.Metadata.Namespace != "" {
		t.Errorf("cluster-wide without namespace: %v", err)
	}
	empty := testSecret()
	empty.Data, empty.StringData = nil, nil
	if _, err := Seal(empty, kp.cert.Key, SealOptions{}); err == nil {
		t.Errorf("empty data accepted")
	}
	if _, err := Seal(empty, kp.cert.Key, SealOptions{AllowEmptyData: true}); err != nil {
		t.Errorf("AllowEmptyData: %v", err)
	}
}

func TestTamperAndWrongKey(t *testing.T) {
	t.Parallel()
	kp, other := testKeys(t)
	ss, err := Seal(testSecret(), kp.cert.Key, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unseal(ss, []*rsa.PrivateKey{other.priv}); !errors.Is(err, ErrDecrypt) {
		t.Errorf("wrong key: %v", err)
	}
	// Several keys: the right one is found (the controller keeps old keys).
	if _, err := Unseal(ss, []*rsa.PrivateKey{other.priv, kp.priv}); err != nil {
		t.Errorf("key list: %v", err)
	}
	ct, _ := base64.StdEncoding.DecodeString(ss.Spec.EncryptedData["password"])
	ct[len(ct)-1] ^= 1
	ss.Spec.EncryptedData["password"] = base64.StdEncoding.EncodeToString(ct)
	if _, err := Unseal(ss, []*rsa.PrivateKey{kp.priv}); !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), `"password"`) {
		t.Errorf("tampered: %v", err)
	}
}

func TestMergeAndReencrypt(t *testing.T) {
	t.Parallel()
	kp, next := testKeys(t)
	base, _ := Seal(testSecret(), kp.cert.Key, SealOptions{})
	file, _ := Marshal("yaml", base)
	file = append([]byte("# managed by hand\n"), file...)

	extra := testSecret()
	extra.Data, extra.StringData = nil, map[string]string{"password": "new-" + canary, "api-key": "k"}
	add, _ := Seal(extra, kp.cert.Key, SealOptions{})
	merged, err := MergeIntoFile(file, add)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(merged, []byte("# managed by hand\n")) {
		t.Errorf("comment lost:\n%s", merged)
	}
	ss, err := ReadSealedSecrets(bytes.NewReader(merged))
	if err != nil {
		t.Fatal(err)
	}
	sec, err := Unseal(ss[0], []*rsa.PrivateKey{kp.priv})
	if err != nil {
		t.Fatal(err)
	}
	want := wantData()
	want["password"], want["api-key"] = []byte("new-"+canary), []byte("k")
	if d := cmp.Diff(want, sec.Data); d != "" {
		t.Errorf("merged (-want +got):\n%s", d)
	}
	// Another name cannot be merged.
	other := testSecret()
	other.Name = "other"
	o, _ := Seal(other, kp.cert.Key, SealOptions{})
	if _, err := MergeIntoFile(file, o); err == nil {
		t.Errorf("merge of another Secret accepted")
	}

	re, err := Reencrypt(ss[0], []*rsa.PrivateKey{kp.priv}, next.cert.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unseal(re, []*rsa.PrivateKey{kp.priv}); err == nil {
		t.Errorf("old key still decrypts after re-encryption")
	}
	sec2, err := Unseal(re, []*rsa.PrivateKey{next.priv})
	if err != nil || !cmp.Equal(sec.Data, sec2.Data) {
		t.Errorf("re-encrypted: %v", err)
	}
}

func TestParsePrivateKeysErrorsHoldNoKeyMaterial(t *testing.T) {
	t.Parallel()
	kp, _ := testKeys(t)
	broken := bytes.Replace(kp.keyPEM, []byte("MII"), []byte("XXX"), 1)
	_, err := ParsePrivateKeys(broken)
	if err == nil {
		t.Fatal("broken key accepted")
	}
	body := strings.Split(string(kp.keyPEM), "\n")[2]
	if strings.Contains(err.Error(), body[:20]) {
		t.Errorf("error quotes key material: %v", err)
	}
	keys, err := ParsePrivateKeys(keySecretYAML(t, kp))
	if err != nil || len(keys) != 1 || !keys[0].Equal(kp.priv) {
		t.Errorf("key Secret List: %v", err)
	}
}

// TestSealDropsEveryCopyOfTheValues: the template's annotations are in
// clear in the SealedSecret, so every annotation holding a copy of the
// Secret is dropped, and any other annotation holding a value is refused
// (naming the annotation and key, never the value).
func TestSealDropsEveryCopyOfTheValues(t *testing.T) {
	t.Parallel()
	kp, _ := testKeys(t)
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	copyJSON := `{"data":{"password":"` + b64 + `"},"metadata":{"name":"db-creds"}}`
	for _, a := range []string{"kubectl.kubernetes.io/last-applied-configuration", "kubecfg.ksonnet.io/last-applied-configuration", "kapp.k14s.io/original"} {
		s := testSecret()
		s.Annotations[a] = copyJSON
		ss, err := Seal(s, kp.cert.Key, SealOptions{})
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		out, _ := Marshal("yaml", ss)
		if bytes.Contains(out, []byte(canary)) || bytes.Contains(out, []byte(b64)) || bytes.Contains(out, []byte(a)) {
			t.Errorf("%s: a copy of the value is in the SealedSecret:\n%s", a, out)
		}
		if ss.Spec.Template.Annotations["team"] != "payments" {
			t.Errorf("%s: other annotations lost: %v", a, ss.Spec.Template.Annotations)
		}
	}
	for name, ann := range map[string]string{"base64 copy": copyJSON, "plain value": "rotated from " + canary} {
		s := testSecret()
		s.Annotations["example.com/backup"] = ann
		_, err := Seal(s, kp.cert.Key, SealOptions{})
		if err == nil || !strings.Contains(err.Error(), "example.com/backup") || !strings.Contains(err.Error(), `"password"`) ||
			strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), b64) {
			t.Errorf("%s: error %v", name, err)
		}
	}
	// A user name that is also the Secret's label value is not a leak.
	s := testSecret()
	s.Labels["owner"] = "db-admin"
	s.Data["username"] = []byte("db-admin")
	s.Annotations["contact"] = "db-admin on call"
	if _, err := Seal(s, kp.cert.Key, SealOptions{}); err != nil {
		t.Errorf("public value refused: %v", err)
	}
}

// TestReadSecretsSmallInputAllocatesLittle guards the start-up cost of one
// `seal -f secret.yaml` call: reading a one-Secret manifest from memory must
// not allocate a read-ahead buffer of the maximum document size.
func TestReadSecretsSmallInputAllocatesLittle(t *testing.T) {
	in := []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\nstringData: {password: canary-s3cr3t-7f3a}\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := ReadSecrets(bytes.NewReader(in))
	runtime.ReadMemStats(&after)
	if err != nil || len(s) != 1 {
		t.Fatalf("ReadSecrets = %d Secrets, %v; want 1, nil", len(s), err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 512<<10 {
		t.Errorf("reading a %d-byte manifest allocated %d bytes; want < 512 KiB (no %d-byte read-ahead)", len(in), got, maxDocSize)
	}
}
