package externalsecrets

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// APIVersion and Kind of the generated object.
const (
	APIVersion = "external-secrets.io/v1"
	Kind       = "ExternalSecret"
)

// Options configure Generate.
type Options struct {
	// StoreName is the SecretStore or ClusterSecretStore to read from.
	StoreName string
	// StoreKind is SecretStore (default) or ClusterSecretStore.
	StoreKind string
	// RemoteKey is the key in the store; "{namespace}" and "{name}" are
	// replaced (default "{namespace}/{name}").
	RemoteKey string
	// RefreshInterval is how often the operator syncs (default "1h").
	RefreshInterval string
}

// ExternalSecret is the generated object.
type ExternalSecret struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

// Metadata is the object's metadata.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Spec is an ExternalSecret's spec.
type Spec struct {
	RefreshInterval string         `json:"refreshInterval"`
	SecretStoreRef  StoreRef       `json:"secretStoreRef"`
	Target          Target         `json:"target"`
	Data            []DataFromItem `json:"data"`
}

// StoreRef names the store.
type StoreRef struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Target is the Secret the operator creates.
type Target struct {
	Name           string          `json:"name"`
	CreationPolicy string          `json:"creationPolicy"`
	Template       *TargetTemplate `json:"template,omitempty"`
}

// TargetTemplate carries the Secret's type, labels and annotations.
type TargetTemplate struct {
	Type     corev1.SecretType `json:"type,omitempty"`
	Metadata *Metadata         `json:"metadata,omitempty"`
}

// DataFromItem maps one Secret key to a remote key and property.
type DataFromItem struct {
	SecretKey string    `json:"secretKey"`
	RemoteRef RemoteRef `json:"remoteRef"`
}

// RemoteRef points into the store.
type RemoteRef struct {
	Key      string `json:"key"`
	Property string `json:"property"`
}

// Generate builds the ExternalSecret for secret. Values are never read.
func Generate(secret *corev1.Secret, opts Options) (*ExternalSecret, error) {
	if opts.StoreName == "" {
		return nil, errors.New("a secret store name is required (--secret-store)")
	}
	kind := opts.StoreKind
	if kind == "" {
		kind = "SecretStore"
	}
	if kind != "SecretStore" && kind != "ClusterSecretStore" {
		return nil, fmt.Errorf("store kind must be SecretStore or ClusterSecretStore, not %q", kind)
	}
	if secret.Name == "" {
		return nil, errors.New("the Secret has no metadata.name")
	}
	remote := opts.RemoteKey
	if remote == "" {
		remote = "{namespace}/{name}"
	}
	remote = strings.NewReplacer("{namespace}", secret.Namespace, "{name}", secret.Name).Replace(remote)
	refresh := opts.RefreshInterval
	if refresh == "" {
		refresh = "1h"
	}
	keys := map[string]bool{}
	for k := range secret.Data {
		keys[k] = true
	}
	for k := range secret.StringData {
		keys[k] = true
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the Secret %s has no keys", secret.Name)
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	es := &ExternalSecret{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata:   Metadata{Name: secret.Name, Namespace: secret.Namespace},
		Spec: Spec{
			RefreshInterval: refresh,
			SecretStoreRef:  StoreRef{Name: opts.StoreName, Kind: kind},
			Target:          Target{Name: secret.Name, CreationPolicy: "Owner"},
		},
	}
	ann := map[string]string{}
	for k, v := range secret.Annotations {
		// Copies of the Secret, values included: client-side apply's,
		// kubecfg's and kapp's.
		if !strings.HasSuffix(k, "last-applied-configuration") && k != "kapp.k14s.io/original" {
			ann[k] = v
		}
	}
	if len(ann) == 0 {
		ann = nil
	}
	if (secret.Type != "" && secret.Type != corev1.SecretTypeOpaque) || len(secret.Labels) > 0 || ann != nil {
		t := &TargetTemplate{Type: secret.Type}
		if len(secret.Labels) > 0 || ann != nil {
			t.Metadata = &Metadata{Labels: secret.Labels, Annotations: ann}
		}
		es.Spec.Target.Template = t
	}
	for _, k := range names {
		es.Spec.Data = append(es.Spec.Data, DataFromItem{SecretKey: k, RemoteRef: RemoteRef{Key: remote, Property: k}})
	}
	return es, nil
}
