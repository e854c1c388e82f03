package ocisource

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// dockerConfig is the part of a docker config JSON (a Secret's
// .dockerconfigjson, ~/.docker/config.json) that holds credentials.
type dockerConfig struct {
	Auths map[string]dockerAuth `json:"auths"`
}

type dockerAuth struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// configKeychain gives each registry the credentials its docker config
// entry holds, and nothing to any other registry.
type configKeychain map[string]authn.AuthConfig

// DockerConfigKeychain returns the keychain of a docker config JSON (a
// kubernetes.io/dockerconfigjson Secret's .dockerconfigjson): each
// registry gets the credentials of its own entry, every other registry
// none (anonymous). Its errors never quote the data.
func DockerConfigKeychain(data []byte) (authn.Keychain, error) {
	return parseDockerConfig(data)
}

// parseDockerConfig reads a docker config JSON. Its errors never quote it.
func parseDockerConfig(data []byte) (configKeychain, error) {
	var c dockerConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, errors.New("the docker config is not valid JSON")
	}
	kc := configKeychain{}
	for key, a := range c.Auths {
		ac := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
		if a.Auth != "" {
			dec, err := base64.StdEncoding.DecodeString(a.Auth)
			user, pass, ok := strings.Cut(string(dec), ":")
			if err != nil || !ok {
				return nil, errors.New("the docker config entry for " + registryKey(key) + " has an invalid auth field")
			}
			ac.Username, ac.Password = user, pass
		}
		kc[registryKey(key)] = ac
	}
	return kc, nil
}

// registryKey normalises a docker config key ("https://host:5000/v1/",
// "host") to the registry's host[:port], as go-containerregistry names it.
func registryKey(key string) string {
	k := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	k, _, _ = strings.Cut(k, "/")
	k = strings.ToLower(k)
	if k == "docker.io" || k == "registry-1.docker.io" {
		return "index.docker.io"
	}
	return k
}

func (kc configKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	if ac, ok := kc[strings.ToLower(target.RegistryStr())]; ok {
		return authn.FromConfig(ac), nil
	}
	return authn.Anonymous, nil
}
