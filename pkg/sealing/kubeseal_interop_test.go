package sealing

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-gitops/kubectl-gitops/test/peertools"
)

// kubeseal runs the real kubeseal offline (no kubeconfig).
func kubeseal(t *testing.T, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	bin := peertools.Require(t, peertools.SealedSecrets, "kubeseal")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	home := t.TempDir()
	cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + home + "/none"}
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Logf("kubeseal stderr: %s", stderr.String())
		return nil, err
	}
	return out, nil
}

func readOneSecret(t *testing.T, data []byte) *corev1.Secret {
	t.Helper()
	s, err := ReadSecrets(bytes.NewReader(data))
	if err != nil || len(s) != 1 {
		t.Fatalf("reading a Secret: %v (%d)\n%s", err, len(s), data)
	}
	return s[0]
}

func TestKubesealRecoversOurSealedSecrets(t *testing.T) {
	t.Parallel()
	kp, _ := testKeys(t)
	dir := t.TempDir()
	pkcs8, err := x509.MarshalPKCS8PrivateKey(kp.priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFiles := map[string]string{
		"pkcs1":  writeFile(t, dir, "pkcs1.pem", kp.keyPEM),
		"pkcs8":  writeFile(t, dir, "pkcs8.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"secret": writeFile(t, dir, "backup.yaml", keySecretYAML(t, kp)),
	}
	for _, scope := range []Scope{Strict, NamespaceWide, ClusterWide} {
		t.Run(scope.String(), func(t *testing.T) {
			t.Parallel()
			ss, err := Seal(testSecret(), kp.cert.Key, SealOptions{Scope: &scope})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal("yaml", ss)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte(canary)) || bytes.Contains(out, []byte(base64.StdEncoding.EncodeToString([]byte(canary)))) {
				t.Fatalf("plaintext in the SealedSecret:\n%s", out)
			}
			for name, kf := range keyFiles {
				got, err := kubeseal(t, out, "--recovery-unseal", "--recovery-private-key", kf, "-o", "yaml")
				if err != nil {
					t.Fatalf("kubeseal --recovery-unseal with %s key: %v", name, err)
				}
				sec := readOneSecret(t, got)
				if d := cmp.Diff(wantData(), sec.Data); d != "" {
					t.Errorf("%s: data (-want +kubeseal):\n%s", name, d)
				}
				if sec.Type != corev1.SecretTypeBasicAuth || sec.Name != "db-creds" || sec.Namespace != "prod" || sec.Labels["app"] != "db" {
					t.Errorf("%s: metadata/type not carried: %+v %s", name, sec.ObjectMeta, sec.Type)
				}
				wantAnn := map[string]string{"team": "payments"}
				if a := scopeAnnotation(scope); a != "" {
					wantAnn[a] = "true"
				}
				if d := cmp.Diff(wantAnn, sec.Annotations); d != "" {
					t.Errorf("%s: annotations (-want +got):\n%s", name, d)
				}
				if sec.UID != "" || sec.ResourceVersion != "" {
					t.Errorf("uid/resourceVersion carried over")
				}
			}
		})
	}
}

func scopeAnnotation(s Scope) string {
	switch s {
	case NamespaceWide:
		return AnnotationNamespaceWide
	case ClusterWide:
		return AnnotationClusterWide
	}
	return ""
}

// keySecretYAML is the controller's key Secret as `kubectl get -o yaml`
// shows it, in a List.
func keySecretYAML(t *testing.T, kp keyPair) []byte {
	t.Helper()
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "sealed-secrets-keyabcde", Namespace: "kube-system", Labels: map[string]string{"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": kp.certPEM, "tls.key": kp.keyPEM},
	}
	b, err := Marshal("yaml", map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{s}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOurUnsealReadsKubesealOutput(t *testing.T) {
	t.Parallel()
	kp, _ := testKeys(t)
	dir := t.TempDir()
	certFile := writeFile(t, dir, "cert.pem", kp.certPEM)
	in, err := Marshal("yaml", testSecret())
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []Scope{Strict, NamespaceWide, ClusterWide} {
		t.Run(scope.String(), func(t *testing.T) {
			t.Parallel()
			for _, format := range []string{"yaml", "json"} {
				out, err := kubeseal(t, in, "--cert", certFile, "--scope", scope.String(), "-o", format)
				if err != nil {
					t.Fatalf("kubeseal --cert: %v", err)
				}
				ss, err := ReadSealedSecrets(bytes.NewReader(out))
				if err != nil || len(ss) != 1 {
					t.Fatalf("reading kubeseal's output: %v\n%s", err, out)
				}
				if ss[0].Scope() != scope {
					t.Errorf("scope %s, want %s", ss[0].Scope(), scope)
				}
				sec, err := Unseal(ss[0], []*rsa.PrivateKey{kp.priv})
				if err != nil {
					t.Fatalf("Unseal: %v", err)
				}
				if d := cmp.Diff(wantData(), sec.Data); d != "" {
					t.Errorf("data (-want +got):\n%s", d)
				}
				if sec.Type != corev1.SecretTypeBasicAuth || sec.Labels["app"] != "db" {
					t.Errorf("type/labels lost: %s %v", sec.Type, sec.Labels)
				}
			}
		})
	}
	// --raw: one value, each scope.
	for _, scope := range []Scope{Strict, NamespaceWide, ClusterWide} {
		args := []string{"--raw", "--cert", certFile, "--scope", scope.String(), "--from-file", writeFile(t, dir, "v", []byte(canary))}
		if scope != ClusterWide {
			args = append(args, "--namespace", "prod")
		}
		if scope == Strict {
			args = append(args, "--name", "db-creds")
		}
		out, err := kubeseal(t, nil, args...)
		if err != nil {
			t.Fatalf("kubeseal --raw %s: %v", scope, err)
		}
		ct, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := HybridDecrypt([]*rsa.PrivateKey{kp.priv}, ct, Label(scope, "prod", "db-creds"))
		if err != nil || string(got) != canary {
			t.Errorf("raw %s: %v", scope, err)
		}
	}
}

func TestKubesealRecoversOurRawValues(t *testing.T) {
	t.Parallel()
	kp, _ := testKeys(t)
	dir := t.TempDir()
	keyFile := writeFile(t, dir, "k.pem", kp.keyPEM)
	for _, scope := range []Scope{Strict, NamespaceWide, ClusterWide} {
		raw, err := SealRaw(kp.cert.Key, scope, "prod", "db-creds", []byte(canary), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Assemble a SealedSecret by hand around the raw value.
		ss := &SealedSecret{APIVersion: APIVersion, Kind: Kind,
			Metadata: ObjectMeta{Name: "db-creds", Namespace: "prod", Annotations: withScope(nil, scope)},
			Spec:     Spec{EncryptedData: map[string]string{"password": raw}}}
		b, _ := Marshal("yaml", ss)
		out, err := kubeseal(t, b, "--recovery-unseal", "--recovery-private-key", keyFile, "-o", "yaml")
		if err != nil {
			t.Fatalf("%s: %v", scope, err)
		}
		if got := readOneSecret(t, out).Data["password"]; string(got) != canary {
			t.Errorf("%s: kubeseal recovered %d bytes, not the value", scope, len(got))
		}
	}
}

func TestExpiredCertificateRefusedLikeKubeseal(t *testing.T) {
	t.Parallel()
	expired := newKeyPair(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	if err := expired.cert.CheckValidity(time.Now(), false); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("CheckValidity(expired) = %v", err)
	}
	if err := expired.cert.CheckValidity(time.Now(), true); err != nil {
		t.Errorf("CheckValidity(expired, allow) = %v", err)
	}
	in, _ := Marshal("yaml", testSecret())
	if _, err := kubeseal(t, in, "--cert", writeFile(t, t.TempDir(), "c.pem", expired.certPEM), "-o", "yaml"); err == nil {
		t.Errorf("kubeseal accepted an expired certificate: the reference behaviour changed")
	}
}
