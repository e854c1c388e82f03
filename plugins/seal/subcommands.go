package seal

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/sealing"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sopsfile"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// ---- unseal ----

// UnsealOptions are the options of `seal unseal`.
type UnsealOptions struct {
	env         *cli.Env
	Filename    string
	PrivateKeys []string
	Output      cli.OutputFlag
	OutputFile  string

	input []byte
}

func newUnsealCmd(env *cli.Env) *cobra.Command {
	o := &UnsealOptions{env: env, Output: cli.NewOutputFlag(cli.FormatYAML, cli.FormatYAML, cli.FormatJSON)}
	cmd := &cobra.Command{
		Use:   "unseal -f SEALED.yaml --private-key KEY",
		Short: "Decrypt SealedSecrets with the controller's private key (recovery)",
		Long: `Decrypt SealedSecrets offline with the controller's private keys, as
'kubeseal --recovery-unseal' does: for disaster recovery, audits and migrations.

Keys: PEM files (PKCS#1 or PKCS#8), or the controller's key backup made with
  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml
Every key is tried, as the controller does.

The output is the plaintext Secret: it goes to stdout or to --output-file (mode 0600).
Template data with Go template actions is not rendered (an error).`,
		Example: fmt.Sprintf(`  # Recover a Secret with the controller's key backup
  %[1]s unseal -f sealed-secret.yaml --private-key sealed-secrets-keys.yaml

  # With a PEM key, as JSON, into a private file
  %[1]s unseal -f sealed-secret.yaml --private-key tls.key -o json --output-file secret.json`, env.Name),
		Args: noArgs,
		RunE: cli.RunE(o),
	}
	f := cmd.Flags()
	f.StringVarP(&o.Filename, "filename", "f", "", "SealedSecret file(s), or - for stdin")
	f.StringSliceVar(&o.PrivateKeys, "private-key", nil, "Private key file: PEM, or the controller's key Secret / List YAML (repeatable, comma-separated)")
	o.Output.AddFlag(cmd, f, "yaml or json")
	f.StringVar(&o.OutputFile, "output-file", "", "Write the Secret to this file (atomically, mode 0600) instead of stdout")
	return cmd
}

// Complete reads the input.
func (o *UnsealOptions) Complete(ctx context.Context, cmd *cobra.Command, _ []string) error {
	if o.Filename == "" {
		return cli.Usagef("-f is required")
	}
	var err error
	o.input, err = readInput(ctx, o.Filename, cmd.InOrStdin())
	return err
}

// Validate checks the flags.
func (o *UnsealOptions) Validate() error {
	if len(o.PrivateKeys) == 0 {
		return cli.Usagef("--private-key is required")
	}
	return o.Output.Validate()
}

// Run unseals.
func (o *UnsealOptions) Run(ctx context.Context) error {
	keys, err := loadPrivateKeys(o.PrivateKeys)
	if err != nil {
		return err
	}
	sealed, err := sealing.ReadSealedSecrets(bytes.NewReader(o.input))
	if err != nil {
		return fmt.Errorf("reading %s: %w", o.Filename, err)
	}
	if len(sealed) == 0 {
		return fmt.Errorf("reading %s: no SealedSecret found", o.Filename)
	}
	var objs []any
	for _, ss := range sealed {
		if err := ctx.Err(); err != nil {
			return err
		}
		sec, err := sealing.Unseal(ss, keys)
		if err != nil {
			return err
		}
		objs = append(objs, sec)
	}
	b, err := marshal(o.Output.Format, objs...)
	if err != nil {
		return err
	}
	return output{stdout: o.env.Streams.Out, file: o.OutputFile}.write(ctx, b)
}

func loadPrivateKeys(files []string) ([]*rsa.PrivateKey, error) {
	var keys []*rsa.PrivateKey
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading --private-key %w", pathErr(err))
		}
		k, err := sealing.ParsePrivateKeys(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		keys = append(keys, k...)
	}
	return keys, nil
}

// ---- reencrypt ----

// ReencryptOptions are the options of `seal reencrypt`.
type ReencryptOptions struct {
	env              *cli.Env
	Filename         string
	PrivateKeys      []string
	Cert             string
	AllowExpiredCert bool
	OutputFile       string
	InPlace          bool
	Output           cli.OutputFlag

	stdin          io.Reader
	requestTimeout *pflag.Flag
}

func newReencryptCmd(env *cli.Env) *cobra.Command {
	o := &ReencryptOptions{env: env, Output: cli.NewOutputFlag(cli.FormatYAML, cli.FormatYAML, cli.FormatJSON)}
	cmd := &cobra.Command{
		Use:   "reencrypt -f SEALED.yaml --private-key OLD_KEY --cert NEW_CERT",
		Short: "Re-encrypt SealedSecrets to a new certificate offline, with the old private key",
		Long: `Re-encrypt SealedSecrets to a new controller certificate without the controller:
decrypt with the old private keys and encrypt every value again for --cert, keeping name,
namespace, scope and template. ('kubeseal --re-encrypt' needs the controller in the cluster.)
Plaintext stays in memory.`,
		Example: fmt.Sprintf(`  # Move a SealedSecret to another cluster's controller, in place
  %[1]s reencrypt -f sealed.yaml --private-key old-keys.yaml --cert new-cert.pem -i`, env.Name),
		Args: noArgs,
		RunE: cli.RunE(o),
	}
	f := cmd.Flags()
	f.StringVarP(&o.Filename, "filename", "f", "", "SealedSecret file, or - for stdin")
	f.StringSliceVar(&o.PrivateKeys, "private-key", nil, "The old private key(s): PEM, or the controller's key Secret / List YAML")
	f.StringVar(&o.Cert, "cert", "", "The new certificate: a file or an http(s):// URL")
	f.BoolVar(&o.AllowExpiredCert, "allow-expired-cert", false, "Accept an expired or not-yet-valid certificate")
	f.StringVar(&o.OutputFile, "output-file", "", "Write to this file (atomically, mode 0600) instead of stdout")
	f.BoolVarP(&o.InPlace, "in-place", "i", false, "Replace the -f file")
	o.Output.AddFlag(cmd, f, "yaml or json")
	return cmd
}

// Complete takes the command's stdin and --request-timeout.
func (o *ReencryptOptions) Complete(_ context.Context, cmd *cobra.Command, _ []string) error {
	o.stdin, o.requestTimeout = cmd.InOrStdin(), cmd.Flags().Lookup("request-timeout")
	return nil
}

// Validate checks the flags.
func (o *ReencryptOptions) Validate() error {
	switch {
	case o.Filename == "":
		return cli.Usagef("-f is required")
	case len(o.PrivateKeys) == 0:
		return cli.Usagef("--private-key is required")
	case o.Cert == "":
		return cli.Usagef("--cert is required")
	case o.InPlace && o.OutputFile != "":
		return cli.Usagef("--in-place and --output-file cannot be combined")
	}
	return o.Output.Validate()
}

// Run re-encrypts.
func (o *ReencryptOptions) Run(ctx context.Context) error {
	out, err := outputFor(o.env.Streams.Out, o.Filename, o.OutputFile, o.InPlace)
	if err != nil {
		return err
	}
	in, err := readInput(ctx, o.Filename, o.stdin)
	if err != nil {
		return err
	}
	keys, err := loadPrivateKeys(o.PrivateKeys)
	if err != nil {
		return err
	}
	cert, err := readCertificate(ctx, o.requestTimeout, o.Cert)
	if err != nil {
		return err
	}
	if err := cert.CheckValidity(time.Now(), o.AllowExpiredCert); err != nil {
		return err
	}
	sealed, err := sealing.ReadSealedSecrets(bytes.NewReader(in))
	if err != nil {
		return fmt.Errorf("reading %s: %w", o.Filename, err)
	}
	if len(sealed) == 0 {
		// Nothing to re-encrypt: never write an empty document over the file.
		return fmt.Errorf("reading %s: no SealedSecret found", o.Filename)
	}
	var objs []any
	for _, ss := range sealed {
		if err := ctx.Err(); err != nil {
			return err
		}
		re, err := sealing.Reencrypt(ss, keys, cert.Key, nil)
		if err != nil {
			return err
		}
		objs = append(objs, re)
	}
	b, err := marshal(o.Output.Format, objs...)
	if err != nil {
		return err
	}
	return out.write(ctx, b)
}

// ---- decrypt ----

// identityFlags are the age identity sources of the SOPS subcommands.
type identityFlags struct {
	Identities []string
}

func (f *identityFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.Identities, "age-identity", nil, "age identity file (repeatable); also read: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, ~/.config/sops/age/keys.txt")
}

func (f *identityFlags) load() ([]age.Identity, error) {
	return sopsfile.LoadIdentities(sopsfile.IdentitySources{Files: f.Identities, Getenv: os.Getenv})
}

// DecryptOptions are the options of `seal decrypt`.
type DecryptOptions struct {
	env *cli.Env
	identityFlags
	Filename   string
	OutputFile string
	InPlace    bool
	IgnoreMAC  bool

	stdin io.Reader
}

func newDecryptCmd(env *cli.Env) *cobra.Command {
	o := &DecryptOptions{env: env}
	cmd := &cobra.Command{
		Use:   "decrypt -f FILE",
		Short: "Decrypt a SOPS file with age identities (like 'sops -d')",
		Long: `Decrypt a SOPS (age) YAML file, made by sops or by this plugin, and print the plaintext
exactly as 'sops -d' does. The MAC is checked unless --ignore-mac (Flux does not check it).
Files with only PGP/KMS keys or with Shamir key groups are refused with a message.`,
		Example: fmt.Sprintf(`  SOPS_AGE_KEY_FILE=~/.config/sops/age/keys.txt %[1]s decrypt -f secret.enc.yaml
  %[1]s decrypt -f secret.enc.yaml --age-identity age.agekey --output-file /dev/shm/secret.yaml`, env.Name),
		Args: noArgs,
		RunE: cli.RunE(o),
	}
	f := cmd.Flags()
	f.StringVarP(&o.Filename, "filename", "f", "", "SOPS file, or - for stdin")
	f.StringVar(&o.OutputFile, "output-file", "", "Write the plaintext to this file (atomically, mode 0600) instead of stdout")
	f.BoolVarP(&o.InPlace, "in-place", "i", false, "Replace the -f file with its plaintext")
	f.BoolVar(&o.IgnoreMAC, "ignore-mac", false, "Do not check the MAC (as Flux does)")
	o.bind(cmd)
	return cmd
}

// Complete takes the command's stdin.
func (o *DecryptOptions) Complete(_ context.Context, cmd *cobra.Command, _ []string) error {
	o.stdin = cmd.InOrStdin()
	return nil
}

// Validate checks the flags.
func (o *DecryptOptions) Validate() error {
	if o.Filename == "" {
		return cli.Usagef("-f is required")
	}
	if o.InPlace && o.OutputFile != "" {
		return cli.Usagef("--in-place and --output-file cannot be combined")
	}
	return nil
}

// Run decrypts.
func (o *DecryptOptions) Run(ctx context.Context) error {
	out, err := outputFor(o.env.Streams.Out, o.Filename, o.OutputFile, o.InPlace)
	if err != nil {
		return err
	}
	in, err := readInput(ctx, o.Filename, o.stdin)
	if err != nil {
		return err
	}
	ids, err := o.load()
	if err != nil {
		return err
	}
	plain, err := sopsfile.Decrypt(in, ids, sopsfile.DecryptOptions{IgnoreMAC: o.IgnoreMAC})
	if err != nil {
		return fmt.Errorf("decrypting %s: %w", o.Filename, err)
	}
	return out.write(ctx, plain)
}

// ---- updatekeys and rotate ----

// KeysOptions are the options of `seal updatekeys` and `seal rotate`.
type KeysOptions struct {
	env *cli.Env
	identityFlags
	sopsFlags
	rotate    bool
	Filenames []string
	Output    cli.OutputFlag
	DryRun    bool

	useConfig bool
}

// KeysReport is one file's result, for -o json.
type KeysReport struct {
	File    string   `json:"file"`
	Changed bool     `json:"changed"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Kept    []string `json:"keptOtherKeys,omitempty"`
}

func newUpdateKeysCmd(env *cli.Env) *cobra.Command {
	o := &KeysOptions{env: env, Output: keysOutput()}
	cmd := &cobra.Command{
		Use:   "updatekeys -f FILE...",
		Short: "Re-wrap SOPS files' data keys for the recipients in .sops.yaml (or --age)",
		Long: `Make each SOPS file's age recipients match its .sops.yaml creation rule (or --age):
the data key is re-wrapped for added recipients and dropped for removed ones. Values and
MAC are untouched; PGP/KMS/Vault keys in the file are kept as they are. Adding a
recipient needs an identity that opens the current data key. Files are rewritten
atomically. To also change the data key, run 'rotate' afterwards.`,
		Example: fmt.Sprintf(`  # After editing .sops.yaml
  %[1]s updatekeys -f secrets/db.yaml -f secrets/api.yaml --age-identity keys.txt

  # What would change, as JSON
  %[1]s updatekeys -f secrets/db.yaml --dry-run -o json`, env.Name),
		Args: noArgs,
		RunE: cli.RunE(o),
	}
	o.bind(cmd)
	return cmd
}

func newRotateCmd(env *cli.Env) *cobra.Command {
	o := &KeysOptions{env: env, Output: keysOutput(), rotate: true}
	cmd := &cobra.Command{
		Use:   "rotate -f FILE...",
		Short: "Re-encrypt SOPS files with a new data key (optionally for new recipients)",
		Long: `Decrypt each SOPS file and encrypt it again with a fresh data key and fresh IVs,
keeping its encryption rule. Recipients stay the same unless --age (or, with
--use-sops-config, the file's .sops.yaml creation rule) says otherwise, so one command
can both rotate and re-key. Files that also have PGP/KMS/Vault keys are refused: a new
data key could not be wrapped for them. Plaintext stays in memory; files are rewritten
atomically.`,
		Example: fmt.Sprintf(`  %[1]s rotate -f secrets/db.yaml --age-identity keys.txt

  # Rotate and move to the recipients of .sops.yaml
  %[1]s rotate -f secrets/db.yaml --use-sops-config`, env.Name),
		Args: noArgs,
		RunE: cli.RunE(o),
	}
	o.bind(cmd)
	cmd.Flags().Bool("use-sops-config", false, "Take the recipients from the file's .sops.yaml creation rule")
	return cmd
}

func keysOutput() cli.OutputFlag { return cli.NewOutputFlag("text", "text", cli.FormatJSON) }

func (o *KeysOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.Filenames, "filename", "f", nil, "SOPS file(s) to update in place (repeatable)")
	o.Output.AddFlag(cmd, f, "Report format: text or json")
	f.BoolVar(&o.DryRun, "dry-run", false, "Report what would change without writing")
	f.StringArrayVar(&o.Age, "age", nil, "age recipients the files must have (default: the .sops.yaml creation rule)")
	f.StringVar(&o.SopsConfig, "sops-config", "", "creation rules file (default: .sops.yaml in the working directory or a parent)")
	o.identityFlags.bind(cmd)
}

// Complete resolves where the recipients come from: updatekeys takes
// .sops.yaml's, rotate only with --use-sops-config.
func (o *KeysOptions) Complete(_ context.Context, cmd *cobra.Command, _ []string) error {
	o.useConfig = !o.rotate
	if o.rotate {
		o.useConfig, _ = cmd.Flags().GetBool("use-sops-config")
	}
	return nil
}

// Validate checks the flags.
func (o *KeysOptions) Validate() error {
	if len(o.Filenames) == 0 {
		return cli.Usagef("-f is required")
	}
	for _, f := range o.Filenames {
		if f == "-" {
			return cli.Usagef("files are updated in place: stdin is not accepted")
		}
	}
	return o.Output.Validate()
}

// Run updates every file; it stops at the first error, leaving that file
// and the following ones untouched.
func (o *KeysOptions) Run(ctx context.Context) error {
	ids, err := o.load()
	if err != nil {
		return err
	}
	var reports []KeysReport
	for _, f := range o.Filenames {
		if err := ctx.Err(); err != nil {
			return err
		}
		in, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading %w", pathErr(err))
		}
		var recips []string
		switch {
		case len(o.Age) > 0:
			recips = o.Age
		case o.useConfig:
			rule, err := o.loadRule(f)
			if err != nil {
				return err
			}
			if rule == nil || len(rule.Age) == 0 {
				return cli.Usagef("%s: no .sops.yaml creation rule with age recipients matches; pass --age", f)
			}
			recips = rule.Age
		}
		var out []byte
		var ch sopsfile.KeyChange
		if o.rotate {
			out, ch, err = sopsfile.Rotate(in, ids, recips, sopsfile.EncryptOptions{})
		} else {
			out, ch, err = sopsfile.UpdateKeys(in, ids, recips)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		changed := o.rotate || ch.Changed()
		reports = append(reports, KeysReport{File: f, Changed: changed, Added: ch.Added, Removed: ch.Removed, Kept: ch.Kept})
		if changed && !o.DryRun {
			st, err := os.Stat(f)
			if err != nil {
				return err
			}
			if err := (output{file: f, inPlace: true}).writeMode(ctx, out, st.Mode().Perm()); err != nil {
				return err
			}
		}
	}
	return o.report(reports)
}

func (o *KeysOptions) report(reports []KeysReport) error {
	w := o.env.Streams.Out
	if o.Output.Is(cli.FormatJSON) {
		return cli.WriteData(w, cli.FormatJSON, reports)
	}
	verb := "updated"
	if o.rotate {
		verb = "rotated"
	}
	if o.DryRun {
		verb = "would be " + verb
	}
	for _, r := range reports {
		if !r.Changed {
			fmt.Fprintf(w, "%s: recipients already match\n", r.File)
			continue
		}
		var parts []string
		if len(r.Added) > 0 {
			parts = append(parts, "added "+strings.Join(r.Added, ", "))
		}
		if len(r.Removed) > 0 {
			parts = append(parts, "removed "+strings.Join(r.Removed, ", "))
		}
		if len(r.Kept) > 0 {
			parts = append(parts, "kept "+strings.Join(r.Kept, ", ")+" keys")
		}
		detail := ""
		if len(parts) > 0 {
			detail = " (" + strings.Join(parts, "; ") + ")"
		}
		fmt.Fprintf(w, "%s: %s%s\n", r.File, verb, detail)
	}
	return nil
}
