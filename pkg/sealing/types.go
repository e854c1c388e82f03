package sealing

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The SealedSecret resource and its annotations.
const (
	APIVersion = "bitnami.com/v1alpha1"
	Kind       = "SealedSecret"

	AnnotationNamespaceWide = "sealedsecrets.bitnami.com/namespace-wide"
	AnnotationClusterWide   = "sealedsecrets.bitnami.com/cluster-wide"
)

// Scope is how tightly a sealed value is bound to its Secret's identity.
type Scope int

// The three scopes, as kubeseal names them.
const (
	// Strict binds a value to the Secret's name and namespace.
	Strict Scope = iota
	// NamespaceWide allows renaming the Secret within its namespace.
	NamespaceWide
	// ClusterWide allows any name and namespace.
	ClusterWide
)

// Scopes are the scope names accepted by ParseScope, in order.
var Scopes = []string{"strict", "namespace-wide", "cluster-wide"}

func (s Scope) String() string {
	if int(s) >= 0 && int(s) < len(Scopes) {
		return Scopes[s]
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope parses "strict", "namespace-wide" or "cluster-wide".
func ParseScope(s string) (Scope, error) {
	for i, n := range Scopes {
		if s == n {
			return Scope(i), nil
		}
	}
	return Strict, fmt.Errorf("unknown scope %q: must be one of %s", s, strings.Join(Scopes, ", "))
}

// ScopeOf reads the scope from annotations as the controller does:
// cluster-wide first, and only the exact value "true" counts.
func ScopeOf(annotations map[string]string) Scope {
	switch {
	case annotations[AnnotationClusterWide] == "true":
		return ClusterWide
	case annotations[AnnotationNamespaceWide] == "true":
		return NamespaceWide
	default:
		return Strict
	}
}

// Label is the RSA-OAEP label binding a value to its scope.
func Label(s Scope, namespace, name string) []byte {
	switch s {
	case ClusterWide:
		return []byte{}
	case NamespaceWide:
		return []byte(namespace)
	default:
		return []byte(namespace + "/" + name)
	}
}

// withScope returns annotations carrying exactly the scope's annotation.
func withScope(annotations map[string]string, s Scope) map[string]string {
	out := map[string]string{}
	for k, v := range annotations {
		if k != AnnotationClusterWide && k != AnnotationNamespaceWide {
			out[k] = v
		}
	}
	switch s {
	case NamespaceWide:
		out[AnnotationNamespaceWide] = "true"
	case ClusterWide:
		out[AnnotationClusterWide] = "true"
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// SealedSecret is a bitnami.com/v1alpha1 SealedSecret.
type SealedSecret struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata"`
	Spec       Spec       `json:"spec"`
}

// ObjectMeta is the part of a SealedSecret's metadata this package writes.
type ObjectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Spec is a SealedSecret's spec.
type Spec struct {
	Template      Template          `json:"template"`
	EncryptedData map[string]string `json:"encryptedData"`
	// Data is the deprecated whole-Secret blob; read, never written.
	Data []byte `json:"data,omitempty"`
}

// Template is the Secret the controller creates, without its data.
type Template struct {
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Type              corev1.SecretType `json:"type,omitempty"`
	Immutable         *bool             `json:"immutable,omitempty"`
	// Data are Go templates over the decrypted values; not rendered here.
	Data map[string]string `json:"data,omitempty"`
}

// Scope is the scope the controller will decrypt with.
func (s *SealedSecret) Scope() Scope { return ScopeOf(s.Metadata.Annotations) }

// Label is the OAEP label of the SealedSecret's values.
func (s *SealedSecret) Label() []byte {
	return Label(s.Scope(), s.Metadata.Namespace, s.Metadata.Name)
}

// String names the SealedSecret for messages: namespace/name (scope).
func (s *SealedSecret) String() string {
	return fmt.Sprintf("%s/%s (%s)", s.Metadata.Namespace, s.Metadata.Name, s.Scope())
}
