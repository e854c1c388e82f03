package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/secretscan"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// DefaultAllowFile is the allow-list read when --allow is not given.
const DefaultAllowFile = ".gitops/scan-allow.yaml"

// ScanOptions are the options of `seal scan`.
type ScanOptions struct {
	env         *cli.Env
	Paths       []string
	Output      string
	AllowFile   string
	InstallHook bool
	Force       bool

	allow []secretscan.AllowRule
}

func newScanCmd(env *cli.Env) *cobra.Command {
	o := &ScanOptions{env: env}
	cmd := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "Report plaintext Secrets and credentials in a repository (exit 1 when found)",
		Long: `Scan YAML, JSON and kustomization files for secrets in plaintext:

  plaintext-secret          a Secret with data/stringData that is not SOPS-encrypted
  secret-generator-literal  a kustomize secretGenerator with literals
  private-key, aws-access-key-id, github-token, slack-token
                            high-confidence credentials in any value

SealedSecrets, ExternalSecrets and SOPS-encrypted files are fine. Inside a git
work tree the files are listed with git (respecting .gitignore). Findings name
the key, never the value. Findings allowed by ` + DefaultAllowFile + ` (or --allow),
a list of {path: GLOB, name: OBJECT, reason: TEXT}, are dropped.

Exit codes: 0 nothing found, 1 findings, 2 error.`,
		Example: fmt.Sprintf(`  # Scan the current repository
  %[1]s scan

  # As JSON, for CI
  %[1]s scan -o json clusters/ apps/

  # Run the scan before every commit
  %[1]s scan --install-hook`, env.Name),
		RunE: runE(o),
	}
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", "", "Output format: table (default) or json")
	f.StringVar(&o.AllowFile, "allow", "", "Allow-list file (default: "+DefaultAllowFile+" when it exists)")
	f.BoolVar(&o.InstallHook, "install-hook", false, "Install the scan as the repository's git pre-commit hook")
	f.BoolVar(&o.Force, "force", false, "With --install-hook: overwrite an existing, different pre-commit hook")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete reads the allow-list.
func (o *ScanOptions) Complete(_ *cobra.Command, args []string) error {
	o.Paths = args
	if len(o.Paths) == 0 {
		o.Paths = []string{"."}
	}
	file, explicit := o.AllowFile, true
	if file == "" {
		file, explicit = DefaultAllowFile, false
	}
	data, err := os.ReadFile(file)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("reading the allow-list: %w", err)
	}
	if o.allow, err = secretscan.ParseAllowList(data); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// Validate checks the flags.
func (o *ScanOptions) Validate() error {
	if o.Output != "" && o.Output != "table" && o.Output != "json" {
		return cli.Usagef("--output must be table or json, not %q", o.Output)
	}
	if o.Force && !o.InstallHook {
		return cli.Usagef("--force is for --install-hook")
	}
	return nil
}

// Run scans, or installs the hook.
func (o *ScanOptions) Run(cmd *cobra.Command) error {
	if o.InstallHook {
		return o.installHook()
	}
	var all []secretscan.Finding
	for _, p := range o.Paths {
		fs, err := scanPath(p)
		if err != nil {
			return err
		}
		all = append(all, fs...)
	}
	all = secretscan.Filter(all, o.allow)
	secretscan.Sort(all)
	w := o.env.Streams.Out
	if o.Output == "json" {
		if all == nil {
			all = []secretscan.Finding{}
		}
		b, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	} else if len(all) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE:LINE\tKIND\tNAME\tMESSAGE")
		for _, f := range all {
			fmt.Fprintf(tw, "%s:%d\t%s\t%s\t%s\n", f.File, f.Line, dash(f.Kind), dash(f.Name), f.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(all) > 0 {
		return &cli.FindingsError{Summary: fmt.Sprintf("%d plaintext secret(s) found", len(all))}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// scanPath scans a file or a directory (listed with git inside a work tree).
func scanPath(p string) ([]secretscan.Finding, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		return secretscan.ScanBytes(filepath.ToSlash(filepath.Clean(p)), data), nil
	}
	files, inGit, err := gitFiles(p)
	if err != nil {
		return nil, err
	}
	fsys := os.DirFS(p)
	if !inGit {
		if files, err = secretscan.Walk(fsys); err != nil {
			return nil, err
		}
	}
	found, err := secretscan.Scan(fsys, files)
	if err != nil {
		return nil, err
	}
	for i := range found {
		found[i].File = filepath.ToSlash(filepath.Join(p, filepath.FromSlash(found[i].File)))
	}
	return found, nil
}

// gitFiles lists the tracked and untracked, not ignored, files under dir,
// relative to dir. inGit is false when dir is not in a git work tree.
func gitFiles(dir string) (files []string, inGit bool, err error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, false, nil
	}
	if out, err := exec.Command("git", "-C", dir, "rev-parse", "--is-inside-work-tree").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		return nil, false, nil
	}
	var stderr bytes.Buffer
	c := exec.Command("git", "-C", dir, "ls-files", "-z", "-co", "--exclude-standard", "--", ".")
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return nil, true, fmt.Errorf("git ls-files in %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" || !secretscan.IsCandidate(f) {
			continue
		}
		// Listed but deleted from the work tree.
		if _, err := os.Lstat(filepath.Join(dir, f)); err != nil {
			continue
		}
		files = append(files, f)
	}
	return files, true, nil
}

const hookMarker = "# installed by kubectl gitops seal scan --install-hook"

const hookScript = "#!/bin/sh\n" + hookMarker + "\n" +
	"# Fails the commit when plaintext secrets are found; bypass with git commit --no-verify.\n" +
	"cd \"$(git rev-parse --show-toplevel)\" || exit 2\n" +
	"exec kubectl-gitops-seal scan\n"

func (o *ScanOptions) installHook() error {
	dir := o.Paths[0]
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--git-path", "hooks").Output()
	if err != nil {
		return fmt.Errorf("--install-hook: %s is not in a git repository", dir)
	}
	hooks := strings.TrimSpace(string(out))
	if !filepath.IsAbs(hooks) {
		hooks = filepath.Join(dir, hooks)
	}
	hook := filepath.Join(hooks, "pre-commit")
	if old, err := os.ReadFile(hook); err == nil {
		if string(old) == hookScript {
			fmt.Fprintf(o.env.Streams.Out, "pre-commit hook already installed: %s\n", hook)
			return nil
		}
		if !o.Force {
			return fmt.Errorf("%s exists and is a different hook: pass --force to overwrite it", hook)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(hook, []byte(hookScript), 0o755); err != nil {
		return err
	}
	if err := os.Chmod(hook, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(o.env.Streams.Out, "installed pre-commit hook: %s\n", hook)
	return nil
}
