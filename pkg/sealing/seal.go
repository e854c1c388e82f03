package sealing

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// lastApplied are the annotations holding a full copy of an object
// (Secret data included): never carried into a SealedSecret, whose template
// annotations are in clear. kubeseal drops client-side apply's; kubecfg's
// and kapp's copies are dropped too.
var lastApplied = []string{
	"kubectl.kubernetes.io/last-applied-configuration",
	"kubecfg.ksonnet.io/last-applied-configuration",
	"kapp.k14s.io/original",
}

// minContainedValue is the shortest value looked for inside the template's
// annotations: shorter ones ("1", "admin") occur in ordinary text.
const minContainedValue = 6

// checkAnnotations refuses template annotations that hold one of the
// values, plain or base64 (a copy of the Secret under another name). Values
// that are also the Secret's name, namespace or a label value are public by
// the author's choice. The error names the annotation and key, not the value.
func checkAnnotations(meta metav1.ObjectMeta, data map[string][]byte) error {
	public := map[string]bool{meta.Name: true, meta.Namespace: true}
	for _, v := range meta.Labels {
		public[v] = true
	}
	for _, a := range slices.Sorted(maps.Keys(meta.Annotations)) {
		text := meta.Annotations[a]
		for _, k := range slices.Sorted(maps.Keys(data)) {
			for _, f := range []string{string(data[k]), base64.StdEncoding.EncodeToString(data[k])} {
				if len(f) >= minContainedValue && !public[f] && strings.Contains(text, f) {
					return fmt.Errorf("the annotation %s of the Secret %s holds the value of key %q in clear (the SealedSecret's template keeps annotations readable): remove it", a, meta.Name, k)
				}
			}
		}
	}
	return nil
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
	if err := checkAnnotations(meta, data); err != nil {
		return nil, err
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
