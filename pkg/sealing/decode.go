package sealing

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// maxDocSize is the most of a stream read ahead to tell JSON from YAML.
const maxDocSize = 4 << 20

// peekSize is how much of r the decoder reads ahead: all of an in-memory
// input up to maxDocSize, so that sealing one small Secret does not allocate
// a 4 MiB buffer (and, with it, a garbage collection) on every call.
func peekSize(r io.Reader) int {
	if l, ok := r.(interface{ Len() int }); ok {
		return max(1, min(maxDocSize, l.Len()+1))
	}
	return maxDocSize
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// splitDocuments returns the JSON form of every non-empty document of a
// YAML or JSON stream. Errors never quote the input.
func splitDocuments(r io.Reader) ([]json.RawMessage, error) {
	d := utilyaml.NewYAMLOrJSONDecoder(r, peekSize(r))
	var out []json.RawMessage
	for i := 1; ; i++ {
		var raw json.RawMessage
		err := d.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d is not valid YAML or JSON", i)
		}
		if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		out = append(out, raw)
	}
}

// ReadSecrets reads the Secrets in a YAML or JSON stream (also inside a
// v1 List). Any other kind is an error.
func ReadSecrets(r io.Reader) ([]*corev1.Secret, error) {
	docs, err := splitDocuments(r)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Secret
	var add func(i int, raw json.RawMessage) error
	add = func(i int, raw json.RawMessage) error {
		var tm typeMeta
		if err := json.Unmarshal(raw, &tm); err != nil {
			return fmt.Errorf("document %d is not an object", i)
		}
		switch {
		case tm.Kind == "Secret" && tm.APIVersion == "v1":
			s := &corev1.Secret{}
			if err := json.Unmarshal(raw, s); err != nil {
				return fmt.Errorf("document %d is not a valid Secret (check that data values are base64)", i)
			}
			out = append(out, s)
		case tm.Kind == "List" || tm.Kind == "SecretList":
			var l struct {
				Items []json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("document %d is not a valid List", i)
			}
			for _, it := range l.Items {
				if err := add(i, it); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("document %d is a %s %s, not a v1 Secret", i, tm.APIVersion, tm.Kind)
		}
		return nil
	}
	for i, raw := range docs {
		if err := add(i+1, raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadSealedSecrets reads the SealedSecrets in a YAML or JSON stream.
// Documents of other kinds are an error.
func ReadSealedSecrets(r io.Reader) ([]*SealedSecret, error) {
	docs, err := splitDocuments(r)
	if err != nil {
		return nil, err
	}
	var out []*SealedSecret
	for i, raw := range docs {
		ss, err := decodeSealedSecret(raw)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		out = append(out, ss)
	}
	return out, nil
}

func decodeSealedSecret(raw []byte) (*SealedSecret, error) {
	var tm typeMeta
	if err := json.Unmarshal(raw, &tm); err != nil {
		return nil, errors.New("not an object")
	}
	if tm.Kind != Kind || tm.APIVersion != APIVersion {
		return nil, fmt.Errorf("a %s %s, not a %s %s", tm.APIVersion, tm.Kind, APIVersion, Kind)
	}
	ss := &SealedSecret{}
	if err := json.Unmarshal(raw, ss); err != nil {
		return nil, errors.New("not a valid SealedSecret")
	}
	return ss, nil
}

// ParsePrivateKeys reads the controller's private keys from PEM (PKCS#1
// "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", several blocks allowed) or
// from its key Secret backup: a Secret, a List of Secrets or several YAML
// documents, each with data["tls.key"]. Errors never contain key material.
func ParsePrivateKeys(data []byte) ([]*rsa.PrivateKey, error) {
	if bytes.Contains(data, []byte("-----BEGIN")) && !bytes.Contains(data, []byte("tls.key")) {
		return parsePEMKeys(data)
	}
	secrets, err := ReadSecrets(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading private keys: neither PEM nor a key Secret: %w", err)
	}
	var keys []*rsa.PrivateKey
	for _, s := range secrets {
		pemData, ok := s.Data[corev1.TLSPrivateKeyKey]
		if !ok {
			return nil, fmt.Errorf("reading private keys: the Secret %s has no data[%q]", s.Name, corev1.TLSPrivateKeyKey)
		}
		k, err := parsePEMKeys(pemData)
		if err != nil {
			return nil, fmt.Errorf("reading private keys from the Secret %s: %w", s.Name, err)
		}
		keys = append(keys, k...)
	}
	if len(keys) == 0 {
		return nil, errors.New("reading private keys: none found")
	}
	return keys, nil
}

func parsePEMKeys(data []byte) ([]*rsa.PrivateKey, error) {
	var keys []*rsa.PrivateKey
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, errors.New("invalid PKCS#1 RSA private key")
			}
			keys = append(keys, k)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, errors.New("invalid PKCS#8 private key")
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("the PKCS#8 key is %T, not RSA", k)
			}
			keys = append(keys, rk)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no RSA private key found in PEM")
	}
	return keys, nil
}
