package externalsecrets

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestGenerateHasKeysNotValues(t *testing.T) {
	t.Parallel()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "prod", Labels: map[string]string{"app": "db"}},
		Type:       corev1.SecretTypeBasicAuth,
		Data:       map[string][]byte{"username": []byte("admin")},
		StringData: map[string]string{"password": "canary-s3cr3t-Zq8v"},
	}
	es, err := Generate(s, Options{StoreName: "vault", StoreKind: "ClusterSecretStore"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(es)
	if strings.Contains(string(b), "canary") || strings.Contains(string(b), "admin") {
		t.Errorf("values leaked: %s", b)
	}
	want := []DataFromItem{
		{SecretKey: "password", RemoteRef: RemoteRef{Key: "prod/db", Property: "password"}},
		{SecretKey: "username", RemoteRef: RemoteRef{Key: "prod/db", Property: "username"}},
	}
	if d := cmp.Diff(want, es.Spec.Data); d != "" {
		t.Errorf("data (-want +got):\n%s", d)
	}
	if es.Spec.Target.Template == nil || es.Spec.Target.Template.Type != corev1.SecretTypeBasicAuth || es.Spec.SecretStoreRef.Kind != "ClusterSecretStore" {
		t.Errorf("spec: %+v", es.Spec)
	}
	if _, err := Generate(s, Options{}); err == nil {
		t.Error("no store accepted")
	}
}

// TestGenerateDropsCopyAnnotations: the target template's annotations are in
// Git; the annotations holding a copy of the Secret (values included) are not
// carried into it.
func TestGenerateDropsCopyAnnotations(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"kubectl.kubernetes.io/last-applied-configuration", "kubecfg.ksonnet.io/last-applied-configuration", "kapp.k14s.io/original"} {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "prod",
				Annotations: map[string]string{a: `{"stringData":{"password":"canary-s3cr3t-Zq8v"}}`, "team": "payments"}},
			StringData: map[string]string{"password": "canary-s3cr3t-Zq8v"},
		}
		es, err := Generate(s, Options{StoreName: "vault"})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(es)
		if strings.Contains(string(b), "canary") || strings.Contains(string(b), a) || !strings.Contains(string(b), "payments") {
			t.Errorf("%s: %s", a, b)
		}
	}
}
