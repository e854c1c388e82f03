package sealing

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// lastApplied are the annotations holding a full copy of an object
// (Secret data included): never carried into a SealedSecret.
var lastApplied = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"kubecfg.ksonnet.io/last-applied-configuration",
}

// SealOptions configure Seal.
type SealOptions struct {
	// Scope overrides the scope annotated on the Secret when set.
	Scope *Scope
	// Namespace is used when the Secret has none.
	Namespace string
	// EnforceNamespace makes a Secret in another namespace an error (the
	// namespace was given explicitly, e.g. with -n).
	EnforceNamespace bool
	// AllowEmptyData allows a Secret without data.
	AllowEmptyData bool
	// Rand is the randomness source (default crypto/rand).
	Rand io.Reader
}

// Seal encrypts a Secret for pub into a SealedSecret, as kubeseal does:
// data values are encrypted as their decoded bytes, stringData overrides data,
// the template carries the Secret's metadata, type and immutability, without
// last-applied annotations, ownerReferences, uid, resourceVersion and other
// server-set fields, and the scope annotation is on both the SealedSecret
// and the template.
func Seal(secret *corev1.Secret, pub *rsa.PublicKey, opts SealOptions) (*SealedSecret, error) {
	if pub == nil {
		return nil, errors.New("no public key")
	}
	s := secret.DeepCopy()
	if s.Name == "" && s.GenerateName == "" {
		return nil, errors.New("the Secret has no metadata.name")
	}
	switch {
	case s.Namespace == "":
		s.Namespace = opts.Namespace
	case opts.EnforceNamespace && opts.Namespace != "" && s.Namespace != opts.Namespace:
		return nil, fmt.Errorf("namespace mismatch: the Secret %s is in namespace %q, not %q", s.Name, s.Namespace, opts.Namespace)
	}
	scope := ScopeOf(s.Annotations)
	if opts.Scope != nil {
		scope = *opts.Scope
	}
	if scope != ClusterWide && s.Namespace == "" {
		return nil, fmt.Errorf("the Secret %s must declare a namespace (or give one with -n) unless it is sealed cluster-wide", s.Name)
	}
	data := map[string][]byte{}
	for k, v := range s.Data {
		data[k] = v
	}
	for k, v := range s.StringData {
		data[k] = []byte(v)
	}
	if len(data) == 0 && !opts.AllowEmptyData {
		return nil, fmt.Errorf("the Secret %s has no data (allow it with --allow-empty-data)", s.Name)
	}

	meta := s.ObjectMeta
	meta.Annotations = withScope(meta.Annotations, scope)
	for _, k := range lastApplied {
		delete(meta.Annotations, k)
	}
	if len(meta.Annotations) == 0 {
		meta.Annotations = nil
	}
	meta.OwnerReferences = nil
	meta.UID = ""
	meta.ResourceVersion = ""
	meta.Generation = 0
	meta.CreationTimestamp.Reset()
	meta.DeletionTimestamp = nil
	meta.DeletionGracePeriodSeconds = nil
	meta.ManagedFields = nil

	out := &SealedSecret{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata: ObjectMeta{
			Name:        s.Name,
			Namespace:   s.Namespace,
			Annotations: withScope(nil, scope),
		},
		Spec: Spec{
			Template:      Template{ObjectMeta: meta, Type: s.Type, Immutable: s.Immutable},
			EncryptedData: map[string]string{},
		},
	}
	label := out.Label()
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ct, err := HybridEncrypt(opts.Rand, pub, data[k], label)
		if err != nil {
			return nil, fmt.Errorf("sealing key %q: %w", k, err)
		}
		out.Spec.EncryptedData[k] = base64.StdEncoding.EncodeToString(ct)
	}
	return out, nil
}

// SealRaw encrypts one value for a Secret's scope, namespace and name (what
// kubeseal --raw prints).
func SealRaw(pub *rsa.PublicKey, scope Scope, namespace, name string, value []byte, rnd io.Reader) (string, error) {
	if scope != ClusterWide && namespace == "" {
		return "", errors.New("a namespace is required unless the scope is cluster-wide")
	}
	if scope == Strict && name == "" {
		return "", errors.New("a name is required for the strict scope")
	}
	ct, err := HybridEncrypt(rnd, pub, value, Label(scope, namespace, name))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// Merge adds or replaces the encrypted values of from in into, as
// kubeseal --merge-into does. Both must be bound to the same scope, name and
// namespace, or the merged values could not be decrypted.
func Merge(into, from *SealedSecret) error {
	if string(into.Label()) != string(from.Label()) || into.Scope() != from.Scope() {
		return fmt.Errorf("cannot merge %s into %s: name, namespace or scope differ", from, into)
	}
	if into.Spec.EncryptedData == nil {
		into.Spec.EncryptedData = map[string]string{}
	}
	for k, v := range from.Spec.EncryptedData {
		into.Spec.EncryptedData[k] = v
	}
	return nil
}
