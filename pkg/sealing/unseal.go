package sealing

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Unseal decrypts a SealedSecret with the controller's private keys into the
// Secret the controller would create. Template data (Go templates over the
// values) is not rendered: a template with actions is an error.
func Unseal(ss *SealedSecret, keys []*rsa.PrivateKey) (*corev1.Secret, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("no private key given")
	}
	label := ss.Label()
	sec := &corev1.Secret{Data: map[string][]byte{}}
	if len(ss.Spec.Data) > 0 {
		plain, err := HybridDecrypt(keys, ss.Spec.Data, label)
		if err != nil {
			return nil, fmt.Errorf("unsealing %s (spec.data): %w", ss, err)
		}
		if err := json.Unmarshal(plain, sec); err != nil {
			return nil, fmt.Errorf("unsealing %s: spec.data does not hold a Secret", ss)
		}
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
	}
	names := make([]string, 0, len(ss.Spec.EncryptedData))
	for k := range ss.Spec.EncryptedData {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		ct, err := base64.StdEncoding.DecodeString(ss.Spec.EncryptedData[k])
		if err != nil {
			return nil, fmt.Errorf("unsealing %s: key %q is not valid base64", ss, k)
		}
		plain, err := HybridDecrypt(keys, ct, label)
		if err != nil {
			return nil, fmt.Errorf("unsealing %s: key %q: %w", ss, k, err)
		}
		sec.Data[k] = plain
	}
	t := ss.Spec.Template
	for k, v := range t.Data {
		if strings.Contains(v, "{{") {
			return nil, fmt.Errorf("unsealing %s: template data %q uses Go templates, which are not rendered here", ss, k)
		}
		sec.Data[k] = []byte(v)
	}
	sec.APIVersion, sec.Kind = "v1", "Secret"
	t.DeepCopyInto(&sec.ObjectMeta)
	sec.Name, sec.Namespace = ss.Metadata.Name, ss.Metadata.Namespace
	sec.Type = t.Type
	if sec.Type == "" {
		sec.Type = corev1.SecretTypeOpaque
	}
	sec.Immutable = t.Immutable
	return sec, nil
}

// Reencrypt unseals ss with the old private keys and seals every value again
// for pub, keeping metadata, template and scope: re-encryption to a new
// certificate without the controller.
func Reencrypt(ss *SealedSecret, keys []*rsa.PrivateKey, pub *rsa.PublicKey, rnd io.Reader) (*SealedSecret, error) {
	sec, err := Unseal(ss, keys)
	if err != nil {
		return nil, err
	}
	out := *ss
	out.Spec.Data = nil
	out.Spec.EncryptedData = map[string]string{}
	label := ss.Label()
	for k := range ss.Spec.EncryptedData {
		ct, err := HybridEncrypt(rnd, pub, sec.Data[k], label)
		if err != nil {
			return nil, fmt.Errorf("re-encrypting key %q: %w", k, err)
		}
		out.Spec.EncryptedData[k] = base64.StdEncoding.EncodeToString(ct)
	}
	return &out, nil
}
