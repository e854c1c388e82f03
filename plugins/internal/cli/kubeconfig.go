package cli

// The kubeconfig flags, adapted from k8s.io/cli-runtime/pkg/genericclioptions
// (config_flags.go and client_config.go, Copyright 2018 The Kubernetes
// Authors, Apache License 2.0): the same flags, help texts, defaults and
// loading rules, less the discovery client and REST mapper, which no plugin
// takes from the flags (they build their clients through pkg/cluster) and
// whose package links client-go's scheme of every built-in kind: its
// initialisation was a fifth of a seal call, paid once per Secret by
// scripts.

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/homedir"
)

// ConfigFlags are kubectl's kubeconfig flags (--kubeconfig, --context,
// -n, --request-timeout, …), as genericclioptions.ConfigFlags: a nil field
// is a flag not offered.
type ConfigFlags struct {
	CacheDir   *string
	KubeConfig *string

	// config flags
	ClusterName          *string
	AuthInfoName         *string
	Context              *string
	Namespace            *string
	APIServer            *string
	TLSServerName        *string
	Insecure             *bool
	CertFile             *string
	KeyFile              *string
	CAFile               *string
	BearerToken          *string
	Impersonate          *string
	ImpersonateUID       *string
	ImpersonateGroup     *[]string
	ImpersonateUserExtra *[]string
	Timeout              *string
	DisableCompression   *bool
	ProxyURL             *string

	lock         sync.Mutex
	clientConfig clientcmd.ClientConfig
}

// NewConfigFlags returns the flags with kubectl's defaults, as
// genericclioptions.NewConfigFlags(true) (the loaded config is kept).
func NewConfigFlags() *ConfigFlags {
	str := func(s string) *string { return &s }
	insecure, disableCompression := false, false
	return &ConfigFlags{
		Insecure:   &insecure,
		Timeout:    str("0"),
		KubeConfig: str(""),

		CacheDir:             str(defaultCacheDir()),
		ClusterName:          str(""),
		AuthInfoName:         str(""),
		Context:              str(""),
		Namespace:            str(""),
		APIServer:            str(""),
		TLSServerName:        str(""),
		CertFile:             str(""),
		KeyFile:              str(""),
		CAFile:               str(""),
		BearerToken:          str(""),
		Impersonate:          str(""),
		ImpersonateUID:       str(""),
		ImpersonateGroup:     &[]string{},
		ImpersonateUserExtra: &[]string{},
		DisableCompression:   &disableCompression,
		ProxyURL:             str(""),
	}
}

// cacheDirDeprecated is the warning --cache-dir prints.
const cacheDirDeprecated = "it has no effect: the plugins keep no discovery cache on disk (downloaded charts are cached in the user cache directory, under kubectl-gitops/charts)"

func defaultCacheDir() string {
	if kcd := os.Getenv("KUBECACHEDIR"); kcd != "" {
		return kcd
	}
	return filepath.Join(homedir.HomeDir(), ".kube", "cache")
}

// ToRESTConfig is the REST config of the flags' context.
func (f *ConfigFlags) ToRESTConfig() (*rest.Config, error) {
	return f.ToRawKubeConfigLoader().ClientConfig()
}

// ToRawKubeConfigLoader is the kubeconfig loaded with the flags'
// overrides, built once.
func (f *ConfigFlags) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	f.lock.Lock()
	defer f.lock.Unlock()
	if f.clientConfig == nil {
		f.clientConfig = f.toRawKubeConfigLoader()
	}
	return f.clientConfig
}

func (f *ConfigFlags) toRawKubeConfigLoader() clientcmd.ClientConfig {
	loadingRules := clientcmd.NewDefaultClientConfigLoadingRules()
	// use the standard defaults for this client command
	// DEPRECATED: remove and replace with something more accurate
	loadingRules.DefaultClientConfig = &clientcmd.DefaultClientConfig
	if f.KubeConfig != nil {
		loadingRules.ExplicitPath = *f.KubeConfig
	}

	overrides := &clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults}
	// bind auth info flag values to overrides
	if f.CertFile != nil {
		overrides.AuthInfo.ClientCertificate = *f.CertFile
		overrides.AuthInfo.ClientCertificateData = nil
	}
	if f.KeyFile != nil {
		overrides.AuthInfo.ClientKey = *f.KeyFile
		overrides.AuthInfo.ClientKeyData = nil
	}
	if f.BearerToken != nil {
		overrides.AuthInfo.Token = *f.BearerToken
		overrides.AuthInfo.TokenFile = ""
	}
	if f.Impersonate != nil {
		overrides.AuthInfo.Impersonate = *f.Impersonate
	}
	if f.ImpersonateUserExtra != nil && len(*f.ImpersonateUserExtra) > 0 {
		userExtras := make(map[string][]string)
		for _, extra := range *f.ImpersonateUserExtra {
			key, value, ok := strings.Cut(extra, "=")
			if !ok {
				continue
			}
			userExtras[key] = append(userExtras[key], value)
		}
		overrides.AuthInfo.ImpersonateUserExtra = userExtras
	}
	if f.ImpersonateUID != nil {
		overrides.AuthInfo.ImpersonateUID = *f.ImpersonateUID
	}
	if f.ImpersonateGroup != nil {
		overrides.AuthInfo.ImpersonateGroups = *f.ImpersonateGroup
	}

	// bind cluster flags
	if f.APIServer != nil {
		overrides.ClusterInfo.Server = *f.APIServer
	}
	if f.TLSServerName != nil {
		overrides.ClusterInfo.TLSServerName = *f.TLSServerName
	}
	if f.CAFile != nil {
		overrides.ClusterInfo.CertificateAuthority = *f.CAFile
	}
	if f.Insecure != nil {
		overrides.ClusterInfo.InsecureSkipTLSVerify = *f.Insecure
	}
	if f.DisableCompression != nil {
		overrides.ClusterInfo.DisableCompression = *f.DisableCompression
	}
	if f.ProxyURL != nil {
		overrides.ClusterInfo.ProxyURL = *f.ProxyURL
	}

	// bind context flags
	if f.Context != nil {
		overrides.CurrentContext = *f.Context
	}
	if f.ClusterName != nil {
		overrides.Context.Cluster = *f.ClusterName
	}
	if f.AuthInfoName != nil {
		overrides.Context.AuthInfo = *f.AuthInfoName
	}
	if f.Namespace != nil {
		overrides.Context.Namespace = *f.Namespace
	}
	if f.Timeout != nil {
		overrides.Timeout = *f.Timeout
	}
	return &clientConfig{clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loadingRules, overrides)}
}

// AddFlags binds the flags to flags, with kubectl's names and help.
func (f *ConfigFlags) AddFlags(flags *pflag.FlagSet) {
	if f.KubeConfig != nil {
		flags.StringVar(f.KubeConfig, "kubeconfig", *f.KubeConfig, "Path to the kubeconfig file to use for CLI requests.")
	}
	if f.CacheDir != nil {
		flags.StringVar(f.CacheDir, "cache-dir", *f.CacheDir, "Default cache directory")
		// kubectl's discovery cache: the plugins keep discovery in memory
		// for one run, so the flag is accepted (scripts pass it) but says
		// it does nothing.
		_ = flags.MarkDeprecated("cache-dir", cacheDirDeprecated)
	}
	// add config options
	if f.CertFile != nil {
		flags.StringVar(f.CertFile, "client-certificate", *f.CertFile, "Path to a client certificate file for TLS")
	}
	if f.KeyFile != nil {
		flags.StringVar(f.KeyFile, "client-key", *f.KeyFile, "Path to a client key file for TLS")
	}
	if f.BearerToken != nil {
		flags.StringVar(f.BearerToken, "token", *f.BearerToken, "Bearer token for authentication to the API server")
	}
	if f.Impersonate != nil {
		flags.StringVar(f.Impersonate, "as", *f.Impersonate, "Username to impersonate for the operation. User could be a regular user or a service account in a namespace.")
	}
	if f.ImpersonateUID != nil {
		flags.StringVar(f.ImpersonateUID, "as-uid", *f.ImpersonateUID, "UID to impersonate for the operation.")
	}
	if f.ImpersonateGroup != nil {
		flags.StringArrayVar(f.ImpersonateGroup, "as-group", *f.ImpersonateGroup, "Group to impersonate for the operation, this flag can be repeated to specify multiple groups.")
	}
	if f.ImpersonateUserExtra != nil {
		flags.StringArrayVar(f.ImpersonateUserExtra, "as-user-extra", *f.ImpersonateUserExtra, "User extras to impersonate for the operation, this flag can be repeated to specify multiple values for the same key.")
	}
	if f.ClusterName != nil {
		flags.StringVar(f.ClusterName, "cluster", *f.ClusterName, "The name of the kubeconfig cluster to use")
	}
	if f.AuthInfoName != nil {
		flags.StringVar(f.AuthInfoName, "user", *f.AuthInfoName, "The name of the kubeconfig user to use")
	}
	if f.Namespace != nil {
		flags.StringVarP(f.Namespace, "namespace", "n", *f.Namespace, "If present, the namespace scope for this CLI request")
	}
	if f.Context != nil {
		flags.StringVar(f.Context, "context", *f.Context, "The name of the kubeconfig context to use")
	}
	if f.APIServer != nil {
		flags.StringVarP(f.APIServer, "server", "s", *f.APIServer, "The address and port of the Kubernetes API server")
	}
	if f.TLSServerName != nil {
		flags.StringVar(f.TLSServerName, "tls-server-name", *f.TLSServerName, "Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used")
	}
	if f.Insecure != nil {
		flags.BoolVar(f.Insecure, "insecure-skip-tls-verify", *f.Insecure, "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure")
	}
	if f.CAFile != nil {
		flags.StringVar(f.CAFile, "certificate-authority", *f.CAFile, "Path to a cert file for the certificate authority")
	}
	if f.Timeout != nil {
		flags.StringVar(f.Timeout, "request-timeout", *f.Timeout, "The length of time to wait before giving up on a single server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't timeout requests.")
	}
	if f.DisableCompression != nil {
		flags.BoolVar(f.DisableCompression, "disable-compression", *f.DisableCompression, "If true, opt-out of response compression for all requests to the server")
	}
	if f.ProxyURL != nil {
		flags.StringVar(f.ProxyURL, "proxy-url", *f.ProxyURL, "Proxy URL to use for requests to the API server")
	}
}

// errEmptyConfig is genericclioptions.ErrEmptyConfig: kubectl's message
// when no kubeconfig is found.
var errEmptyConfig = clientcmd.NewEmptyConfigError(`Missing or incomplete configuration info.  Please point to an existing, complete config file:


  1. Via the command-line flag --kubeconfig
  2. Via the KUBECONFIG environment variable
  3. In your home directory as ~/.kube/config

To view or setup config directly use the 'config' command.`)

// clientConfig replaces clientcmd's empty-config error with kubectl's.
type clientConfig struct {
	inner clientcmd.ClientConfig
}

var _ clientcmd.ClientConfig = (*clientConfig)(nil)

func (c *clientConfig) ConfigAccess() clientcmd.ConfigAccess { return c.inner.ConfigAccess() }

func (c *clientConfig) RawConfig() (clientcmdapi.Config, error) {
	config, err := c.inner.RawConfig()
	if clientcmd.IsEmptyConfig(err) {
		return config, errEmptyConfig
	}
	return config, err
}

func (c *clientConfig) ClientConfig() (*rest.Config, error) {
	config, err := c.inner.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return config, errEmptyConfig
	}
	return config, err
}

func (c *clientConfig) Namespace() (string, bool, error) {
	namespace, ok, err := c.inner.Namespace()
	if clientcmd.IsEmptyConfig(err) {
		return namespace, ok, errEmptyConfig
	}
	return namespace, ok, err
}
