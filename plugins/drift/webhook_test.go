package drift

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// TestMutatingWebhook runs a real admission webhook that annotates
// ConfigMaps, registered with the real API server: its mutation is not
// drift in either mode (server mode's dry-run goes through the webhook too;
// the API server attributes the mutation to no manager, so local mode does
// not count it as added by someone).
func TestMutatingWebhook(t *testing.T) {
	cp := controlplane.ForTest(t)
	cert, caPEM, err := cp.ServingCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var review admissionv1.AdmissionReview
			if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			patch := `[{"op":"add","path":"/metadata/annotations","value":{"webhook.example.com/injected":"true"}}]`
			var obj struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			}
			_ = json.Unmarshal(review.Request.Object.Raw, &obj)
			if obj.Metadata.Annotations != nil {
				patch = `[{"op":"add","path":"/metadata/annotations/webhook.example.com~1injected","value":"true"}]`
			}
			pt := admissionv1.PatchTypeJSONPatch
			review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true, Patch: []byte(patch), PatchType: &pt}
			review.Request = nil
			_ = json.NewEncoder(w).Encode(review)
		}),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })

	ns := "webhooked"
	kubectl(t, cp, "", "create", "namespace", ns)
	kubectl(t, cp, "", "label", "namespace", ns, "inject=yes")
	kubectl(t, cp, `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: drift-test-injector}
webhooks:
- name: injector.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  namespaceSelector: {matchLabels: {inject: "yes"}}
  rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]
  clientConfig:
    url: https://`+ln.Addr().String()+`/mutate
    caBundle: `+base64.StdEncoding.EncodeToString(caPEM)+`
`, "apply", "--server-side", "-f", "-")
	t.Cleanup(func() {
		_ = cp.Kubectl(t.Context(), "delete", "mutatingwebhookconfiguration", "drift-test-injector").Run()
	})

	dir := writeFiles(t, map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ` + ns + `}
data: {mode: production}
`})
	kubectl(t, cp, "", "apply", "--server-side", "--field-manager=kustomize-controller", "-f", dir)
	if got := kubectl(t, cp, "", "get", "configmap", "settings", "-n", ns, "-o", "jsonpath={.metadata.annotations}"); !strings.Contains(got, "injected") {
		t.Fatalf("the webhook did not mutate the ConfigMap: %q", got)
	}

	// The API server does not attribute a webhook's mutation to any manager,
	// so neither mode may report it.
	for _, mode := range []string{"server", "local"} {
		if r := runDrift(t, cp, "-f", dir, "--mode", mode); r.code != 0 {
			t.Errorf("%s mode reports the webhook's mutation as drift (exit %d):\n%s%s", mode, r.code, r.stdout, r.stderr)
		}
	}
	// A person changing the webhook's field is still drift, attributed.
	kubectl(t, cp, "", "annotate", "--overwrite", "configmap", "settings", "-n", ns, "webhook.example.com/injected=false")
	for _, mode := range []string{"server", "local"} {
		r := runDrift(t, cp, "-f", dir, "--mode", mode, "-o", "json")
		if r.code != 1 || !strings.Contains(r.stdout, `"manager": "kubectl-annotate"`) {
			t.Errorf("%s mode: a manual change of the injected field is not reported with its manager (exit %d):\n%s", mode, r.code, r.stdout)
		}
	}
}
