package sealing

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// canary is a secret value that must never appear outside a plaintext output.
const canary = "canary-s3cr3t-Zq8v"

type keyPair struct {
	priv    *rsa.PrivateKey
	certPEM []byte
	keyPEM  []byte // PKCS#1
	cert    *Certificate
}

var (
	keyOnce sync.Once
	keys    [2]keyPair
)

// testKeys returns two RSA-2048 key pairs with self-signed certificates
// valid now (made once per test binary: RSA generation is slow).
func testKeys(t testing.TB) (keyPair, keyPair) {
	t.Helper()
	keyOnce.Do(func() {
		for i := range keys {
			keys[i] = newKeyPair(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
		}
	})
	return keys[0], keys[1]
}

func newKeyPair(t testing.TB, notBefore, notAfter time.Time) keyPair {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sealed-secret"},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageEncipherOnly, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kp := keyPair{
		priv:    priv,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}),
	}
	if kp.cert, err = ParseCertificate(kp.certPEM); err != nil {
		t.Fatal(err)
	}
	return kp
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testSecret is a Secret with every feature sealing must carry or strip.
func testSecret() *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "db-creds", Namespace: "prod",
			Labels: map[string]string{"app": "db"},
			Annotations: map[string]string{
				"team": "payments",
				"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"password":"` + canary + `"}}`,
			},
			UID: "1234", ResourceVersion: "42",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: "9"}},
		},
		Type: corev1.SecretTypeBasicAuth,
		Data: map[string][]byte{
			"username": []byte("admin"),
			"binary":   {0, 1, 2, 0xff, 0xfe, '\n'},
		},
		StringData: map[string]string{"password": canary},
	}
}

// wantData is testSecret's data as the controller must produce it.
func wantData() map[string][]byte {
	return map[string][]byte{"username": []byte("admin"), "binary": {0, 1, 2, 0xff, 0xfe, '\n'}, "password": []byte(canary)}
}
