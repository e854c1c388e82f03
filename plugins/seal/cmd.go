package seal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sealing"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sopsfile"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Main runs the plugin binary and returns its exit code.
func Main(argv []string) int {
	return cli.Main(argv, NewCmd)
}

// The output formats of the seal command.
const (
	FormatSealedSecrets   = "sealed-secrets"
	FormatSOPS            = "sops"
	FormatExternalSecrets = "external-secrets"
)

var formats = []string{FormatSealedSecrets, FormatSOPS, FormatExternalSecrets}

// Options are the seal command's options.
type Options struct {
	env *cli.Env

	Filename   string
	Format     string
	Output     cli.OutputFlag
	OutputFile string
	InPlace    bool

	// A Secret from flags, like `kubectl create secret generic`.
	Name     string
	Type     string
	Literals []string
	Files    []string

	// Sealed Secrets.
	Cert                string
	ControllerName      string
	ControllerNamespace string
	Scope               string
	AllowExpiredCert    bool
	AllowEmptyData      bool
	MergeInto           string
	Raw                 bool

	// SOPS.
	sopsFlags

	// External Secrets.
	SecretStore     string
	SecretStoreKind string
	RemoteKey       string
	RefreshInterval string

	// Set by Complete.
	namespace        string
	enforceNamespace bool
	scope            *sealing.Scope
	secret           *corev1.Secret // from flags
	input            []byte
	sopsRule         *sopsfile.CreationRule
	now              func() time.Time
	certFlagSet      bool
	formatGiven      bool
	requestTimeout   *pflag.Flag
}

// NewOptions returns options with their defaults.
func NewOptions(env *cli.Env) *Options {
	return &Options{
		env:                 env,
		Output:              cli.NewOutputFlag(cli.FormatYAML, cli.FormatYAML, cli.FormatJSON),
		ControllerName:      envOr("SEALED_SECRETS_CONTROLLER_NAME", sealing.DefaultControllerName),
		ControllerNamespace: envOr("SEALED_SECRETS_CONTROLLER_NAMESPACE", sealing.DefaultControllerNamespace),
		Cert:                os.Getenv("SEALED_SECRETS_CERT"),
		now:                 time.Now,
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// NewCmd builds the plugin's root command.
func NewCmd(env *cli.Env) *cobra.Command {
	o := NewOptions(env)
	cmd := &cobra.Command{
		Use:   "seal -f FILENAME | --name NAME --from-file KEY=PATH",
		Short: "Encrypt Secrets for Git with Sealed Secrets or SOPS, and scan for plaintext",
		Long: `Encrypt Secrets for Git in the formats the real tools read, byte-compatible with them:

  sealed-secrets    a bitnami.com/v1alpha1 SealedSecret for the sealed-secrets controller
                    (also readable by 'kubeseal --recovery-unseal')
  sops              a SOPS file encrypted for age recipients, for 'sops -d' and Flux
  external-secrets  an external-secrets.io/v1 ExternalSecret: Git holds only a reference

The format is inferred when not given: --age or a matching .sops.yaml creation rule means
sops; --cert, --raw, --merge-into or a reachable controller means sealed-secrets; --secret-store
means external-secrets.

The input is a Secret manifest (-f FILE, or - for stdin; several documents give several
outputs), or a Secret built from --from-literal/--from-file like 'kubectl create secret
generic'. For sops, any YAML mapping can be encrypted.

Sealed Secrets: the certificate comes from --cert (file or URL) or from the controller
through the API server (--controller-name, --controller-namespace, kubeseal's defaults).
The scope comes from --scope or the Secret's sealedsecrets.bitnami.com annotations.
Expired or not-yet-valid certificates are refused unless --allow-expired-cert.

Files are written with mode 0600 and atomically (--output-file, --in-place, --merge-into);
in place, through a symbolic link to its target, and a file with several hard links is
refused. A --cert URL is fetched within --request-timeout (default 1m). Ctrl-C exits 130
having written nothing. No value is ever printed in a message.`,
		Example: fmt.Sprintf(`  # Seal a Secret manifest for the controller of the current cluster
  %[1]s -f secret.yaml > sealed-secret.yaml

  # Offline, with the controller's certificate, namespace-wide
  %[1]s -f secret.yaml --cert pub-cert.pem --scope namespace-wide --output-file sealed.yaml

  # Build the Secret from files and seal it
  %[1]s --name db -n prod --from-file password=./password.txt --cert https://certs.example.com/cert.pem

  # Add or replace keys in an existing SealedSecret, in place
  %[1]s --name db -n prod --from-file api-key=./api-key.txt --cert pub-cert.pem --merge-into sealed.yaml

  # One value for a SealedSecret's encryptedData (kubeseal --raw)
  %[1]s --raw --name db -n prod --from-file ./password.txt --cert pub-cert.pem

  # SOPS for age, the Flux way (or let .sops.yaml creation rules decide)
  %[1]s -f secret.yaml --age age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p --encrypted-regex '^(data|stringData)$' -i

  # An ExternalSecret reading the same keys from a ClusterSecretStore
  %[1]s -f secret.yaml --secret-store vault --secret-store-kind ClusterSecretStore`, env.Name),
		Args: noArgs,
		RunE: cli.RunE(o),
	}
	f := cmd.Flags()
	f.StringVarP(&o.Filename, "filename", "f", "", "Secret manifest(s) to encrypt, or - for stdin")
	f.StringVar(&o.Format, "format", "", "Output format: "+strings.Join(formats, ", ")+" (default: inferred)")
	o.Output.AddFlag(cmd, f, "Manifest encoding for sealed-secrets and external-secrets: yaml or json")
	f.StringVar(&o.OutputFile, "output-file", "", "Write to this file (atomically, mode 0600) instead of stdout")
	f.BoolVarP(&o.InPlace, "in-place", "i", false, "Replace the -f file with its encrypted form")
	f.StringVar(&o.Name, "name", "", "Name of the Secret built from --from-literal/--from-file (and of --raw values)")
	f.StringVar(&o.Type, "type", "", "Type of the Secret built from flags (default Opaque)")
	f.StringArrayVar(&o.Literals, "from-literal", nil, "KEY=VALUE for the Secret built from flags (the value shows in the process list: prefer --from-file)")
	f.StringArrayVar(&o.Files, "from-file", nil, "[KEY=]PATH: a key whose value is the file's content")
	f.StringVar(&o.Cert, "cert", o.Cert, "Sealed Secrets: the controller's certificate, a file or an http(s):// URL (default: fetched from the controller)")
	f.StringVar(&o.ControllerName, "controller-name", o.ControllerName, "Sealed Secrets: the controller's Service name")
	f.StringVar(&o.ControllerNamespace, "controller-namespace", o.ControllerNamespace, "Sealed Secrets: the controller's namespace")
	f.StringVar(&o.Scope, "scope", "", "Sealed Secrets: strict, namespace-wide or cluster-wide (default: from the Secret's annotations, else strict)")
	f.BoolVar(&o.AllowExpiredCert, "allow-expired-cert", false, "Sealed Secrets: seal even with an expired or not-yet-valid certificate")
	f.BoolVar(&o.AllowEmptyData, "allow-empty-data", false, "Sealed Secrets: allow a Secret without data")
	f.StringVar(&o.MergeInto, "merge-into", "", "Sealed Secrets: add or replace the sealed keys in this SealedSecret file, in place")
	f.BoolVar(&o.Raw, "raw", false, "Sealed Secrets: print one encrypted value (needs one --from-file or --from-literal, and --name/-n for the scope)")
	o.bind(cmd)
	f.StringVar(&o.SecretStore, "secret-store", "", "External Secrets: the SecretStore or ClusterSecretStore to read from")
	f.StringVar(&o.SecretStoreKind, "secret-store-kind", "SecretStore", "External Secrets: SecretStore or ClusterSecretStore")
	f.StringVar(&o.RemoteKey, "remote-key", "{namespace}/{name}", "External Secrets: the key in the store ({namespace} and {name} are replaced)")
	f.StringVar(&o.RefreshInterval, "refresh-interval", "1h", "External Secrets: how often the operator syncs")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("scope", cobra.FixedCompletions(sealing.Scopes, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("secret-store-kind", cobra.FixedCompletions([]string{"SecretStore", "ClusterSecretStore"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")

	cmd.AddCommand(newUnsealCmd(env), newDecryptCmd(env), newUpdateKeysCmd(env), newRotateCmd(env), newReencryptCmd(env), newScanCmd(env))
	maskArgs(cmd)
	return cmd
}

// Complete resolves the namespace, the input and the format.
func (o *Options) Complete(ctx context.Context, cmd *cobra.Command, _ []string) error {
	loader := o.env.ConfigFlags.ToRawKubeConfigLoader()
	ns, explicit, err := loader.Namespace()
	if err == nil {
		if explicit {
			o.namespace, o.enforceNamespace = ns, true
		} else if raw, rerr := loader.RawConfig(); rerr == nil {
			if c := raw.Contexts[raw.CurrentContext]; c != nil {
				o.namespace = c.Namespace
			}
		}
	}
	o.certFlagSet = cmd.Flags().Changed("cert")
	o.requestTimeout = cmd.Flags().Lookup("request-timeout")
	if o.Scope != "" {
		s, err := sealing.ParseScope(o.Scope)
		if err != nil {
			return cli.Usagef("--scope: %v", err)
		}
		o.scope = &s
	}
	if o.Filename == "" && (len(o.Literals) > 0 || len(o.Files) > 0) {
		if !o.Raw && o.Name == "" {
			return cli.Usagef("--name is required with --from-literal/--from-file")
		}
		if o.secret, err = secretFromFlags(o.Name, o.namespace, o.Type, o.Literals, o.Files); err != nil {
			return err
		}
	}
	if o.Filename != "" {
		if o.input, err = readInput(ctx, o.Filename, cmd.InOrStdin()); err != nil {
			return err
		}
	}
	o.formatGiven = o.Format != ""
	if o.Format == "" {
		o.Format, err = o.inferFormat()
		if err != nil {
			return err
		}
	}
	return nil
}

// inferFormat picks the format from the flags, then .sops.yaml, then the
// default of a cluster with a controller.
func (o *Options) inferFormat() (string, error) {
	switch {
	case o.SecretStore != "":
		return FormatExternalSecrets, nil
	case len(o.Age) > 0:
		return FormatSOPS, nil
	case o.certFlagSet || o.Raw || o.MergeInto != "" || o.Scope != "":
		return FormatSealedSecrets, nil
	}
	rule, err := o.loadRule(o.Filename)
	var ce *sopsfile.ConfigError
	switch {
	case errors.As(err, &ce):
		// A .sops.yaml that exists but cannot be used is never taken for
		// none: that would seal for whatever cluster the context names.
		return "", err
	case err == nil && rule != nil:
		o.sopsRule = rule
		return FormatSOPS, nil
	case err != nil && !errors.Is(err, sopsfile.ErrNoMatchingRule):
		return "", fmt.Errorf("choosing the format from the sops config: %w", err)
	}
	// No config, no rule for this file (or stdin without --path): the
	// controller of the current cluster (checked in Run).
	return FormatSealedSecrets, nil
}

// Validate checks flag combinations.
func (o *Options) Validate() error {
	if !contains(formats, o.Format) {
		return cli.Usagef("--format must be one of %s, not %s", strings.Join(formats, ", "), redact.Quote(o.Format))
	}
	if err := o.Output.Validate(); err != nil {
		return err
	}
	hasFlags := len(o.Literals)+len(o.Files) > 0
	switch {
	case o.Filename == "" && !hasFlags:
		return cli.Usagef("give a Secret with -f FILE (or - for stdin), or build one with --name and --from-file/--from-literal")
	case o.Filename != "" && hasFlags:
		return cli.Usagef("-f and --from-literal/--from-file cannot be combined")
	case o.InPlace && o.OutputFile != "":
		return cli.Usagef("--in-place and --output-file cannot be combined")
	case o.InPlace && o.Filename == "":
		return cli.Usagef("--in-place needs -f FILE")
	}
	if o.Format != FormatSealedSecrets {
		for flag, set := range map[string]bool{"--cert": o.certFlagSet, "--scope": o.Scope != "", "--merge-into": o.MergeInto != "", "--raw": o.Raw} {
			if set {
				return cli.Usagef("%s is for --format sealed-secrets, not %s", flag, o.Format)
			}
		}
	}
	if o.Format != FormatSOPS && (len(o.Age) > 0 || o.ruleFlagsSet()) {
		return cli.Usagef("--age and the SOPS rule flags are for --format sops, not %s", o.Format)
	}
	if o.Raw {
		if len(o.Literals)+len(o.Files) != 1 || o.Filename != "" {
			return cli.Usagef("--raw seals exactly one value: give one --from-file or --from-literal")
		}
		if o.MergeInto != "" {
			return cli.Usagef("--raw and --merge-into cannot be combined")
		}
	}
	if o.MergeInto != "" && (o.InPlace || o.OutputFile != "") {
		return cli.Usagef("--merge-into writes the SealedSecret file in place: do not combine it with --in-place or --output-file")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// Run encrypts and writes the result.
func (o *Options) Run(ctx context.Context) error {
	out, err := outputFor(o.env.Streams.Out, o.Filename, o.OutputFile, o.InPlace)
	if err != nil {
		return err
	}
	var result []byte
	switch o.Format {
	case FormatSOPS:
		result, err = o.runSOPS()
	case FormatExternalSecrets:
		result, err = o.runExternalSecrets()
	default:
		if o.MergeInto != "" {
			return o.runMergeInto(ctx)
		}
		result, err = o.runSealedSecrets(ctx)
	}
	if err != nil {
		return err
	}
	return out.write(ctx, result)
}

func (o *Options) secrets() ([]*corev1.Secret, error) {
	if o.secret != nil {
		return []*corev1.Secret{o.secret}, nil
	}
	s, err := sealing.ReadSecrets(bytes.NewReader(o.input))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", o.Filename, err)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("reading %s: no Secret found", o.Filename)
	}
	return s, nil
}
