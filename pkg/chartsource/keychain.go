package chartsource

import (
	"context"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"helm.sh/helm/v4/pkg/helmpath"
)

// defaultKeychain reads registry credentials as docker and helm do: the
// Docker configuration first (~/.docker/config.json, $DOCKER_CONFIG, and
// Podman's auth.json: authn.DefaultKeychain), then Helm's registry
// configuration ($HELM_REGISTRY_CONFIG, else
// $XDG_CONFIG_HOME/helm/registry/config.json), which has the same format.
func defaultKeychain() authn.Keychain {
	return authn.NewMultiKeychain(authn.DefaultKeychain, helmKeychain{})
}

type helmKeychain struct{}

func helmRegistryConfig() string {
	if p := os.Getenv("HELM_REGISTRY_CONFIG"); p != "" {
		return p
	}
	return helmpath.ConfigPath(filepath.Join("registry", "config.json"))
}

func (k helmKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), target)
}

func (helmKeychain) ResolveContext(_ context.Context, target authn.Resource) (authn.Authenticator, error) {
	f, err := os.Open(helmRegistryConfig())
	if err != nil {
		return authn.Anonymous, nil
	}
	defer f.Close()
	cf, err := config.LoadFromReader(f)
	if err != nil {
		return nil, err
	}
	var empty types.AuthConfig
	for _, key := range []string{target.String(), target.RegistryStr()} {
		cfg, err := cf.GetAuthConfig(key)
		if err != nil {
			return nil, err
		}
		cfg.ServerAddress = ""
		if cfg != empty {
			return authn.FromConfig(authn.AuthConfig{Username: cfg.Username, Password: cfg.Password, Auth: cfg.Auth,
				IdentityToken: cfg.IdentityToken, RegistryToken: cfg.RegistryToken}), nil
		}
	}
	return authn.Anonymous, nil
}
