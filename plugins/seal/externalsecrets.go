package seal

import (
	"github.com/kubectl-gitops/kubectl-gitops/pkg/externalsecrets"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

func (o *Options) runExternalSecrets() ([]byte, error) {
	secrets, err := o.secrets()
	if err != nil {
		return nil, err
	}
	var objs []any
	for _, s := range secrets {
		s = s.DeepCopy()
		if s.Namespace == "" {
			s.Namespace = o.namespace
		}
		es, err := externalsecrets.Generate(s, externalsecrets.Options{StoreName: o.SecretStore, StoreKind: o.SecretStoreKind, RemoteKey: o.RemoteKey, RefreshInterval: o.RefreshInterval})
		if err != nil {
			return nil, cli.Usagef("%v", err)
		}
		objs = append(objs, es)
	}
	return marshal(o.Output.Format, objs...)
}
