package seal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/sarif"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/secretscan"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// DefaultAllowFile is the allow-list read when --allow is not given.
const DefaultAllowFile = ".gitops/scan-allow.yaml"

// ScanOptions are the options of `seal scan`.
type ScanOptions struct {
	env         *cli.Env
	Paths       []string
	Output      cli.OutputFlag
	NoHeaders   bool
	AllowFile   string
	Staged      bool
	InstallHook bool
	Force       bool

	allow []secretscan.AllowRule
}

func newScanCmd(env *cli.Env) *cobra.Command {
	o := &ScanOptions{env: env, Output: cli.NewOutputFlag("", "", "table", cli.FormatJSON, "sarif")}
	cmd := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "Report plaintext Secrets and credentials in a repository (exit 1 when found)",
		Long: `Scan YAML, JSON and kustomization files for secrets in plaintext:

  plaintext-secret          a Secret with data/stringData that is not SOPS-encrypted, or
                            with values in its last-applied copy (SOPS files included)
  secret-generator-literal  a kustomize secretGenerator with literals
  secret-generator-env      a value in an env file a secretGenerator reads (envs, env)
  secret-generator-file     a file a secretGenerator reads (files)
  values-secret             a secret-like key (password, token, apiKey...) with a
                            plaintext value in Helm values or other non-Kubernetes YAML
  private-key, aws-access-key-id, github-token, slack-token
                            high-confidence credentials in any value

SealedSecrets, ExternalSecrets and SOPS-encrypted files are fine; so are
placeholders and references to secrets kept elsewhere (${VAR}, {{ .Values.x }},
<...>, changeme, existingSecret, op://, vault:, ref+, <path:...>, !env_var
NAME, file paths) — but not ${VAR:=default} with a literal default, which is
plaintext. With nothing found, "no plaintext secrets found" goes to stderr. Inside a git work tree the files are
listed with git (respecting .gitignore); with --staged, the files staged for
the next commit are scanned as staged, not as in the work tree. A
secretGenerator's files are followed only inside the repository. Findings name
the key, never the value. Findings allowed by ` + DefaultAllowFile + ` (or
--allow), a list of {path: GLOB, name: OBJECT, reason: TEXT}, are dropped.
Warnings (a secretGenerator file that is missing or outside the repository,
a symbolic link that is dangling or leads out of it: never followed) go to
stderr, or into -o json with "severity": "warning" (-o sarif: level
"warning"); they do not fail. -o sarif writes SARIF 2.1.0 for code-scanning
services: every rule with its help, results at file and line, no values.

Exit codes: 0 nothing found, 1 findings, 2 error.`,
		Example: fmt.Sprintf(`  # Scan the current repository
  %[1]s scan

  # As JSON, for CI
  %[1]s scan -o json clusters/ apps/

  # As SARIF, for a code-scanning upload
  %[1]s scan -o sarif > seal-scan.sarif

  # What the next commit would add
  %[1]s scan --staged

  # Run the scan on the staged files before every commit
  %[1]s scan --install-hook`, env.Name),
		Args: cobra.ArbitraryArgs,
		RunE: cli.RunE(o),
	}
	f := cmd.Flags()
	o.Output.AddFlag(cmd, f, "Output format: table (default), json or sarif")
	f.BoolVar(&o.NoHeaders, "no-headers", false, "When using the table output format, don't print headers (default print headers).")
	f.StringVar(&o.AllowFile, "allow", "", "Allow-list file (default: "+DefaultAllowFile+" when it exists)")
	f.BoolVar(&o.Staged, "staged", false, "Scan the files staged in the git index, as staged (what the next commit holds)")
	f.BoolVar(&o.InstallHook, "install-hook", false, "Install a git pre-commit hook in the repository that runs scan --staged")
	f.BoolVar(&o.Force, "force", false, "With --install-hook: overwrite an existing, different pre-commit hook")
	return cmd
}

// Complete reads the allow-list.
func (o *ScanOptions) Complete(_ context.Context, _ *cobra.Command, args []string) error {
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
		return fmt.Errorf("reading the allow-list: %w", pathErr(err))
	}
	if o.allow, err = secretscan.ParseAllowList(data); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// Validate checks the flags.
func (o *ScanOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if o.Force && !o.InstallHook {
		return cli.Usagef("--force is for --install-hook")
	}
	if o.Staged && o.InstallHook {
		return cli.Usagef("--staged and --install-hook do not go together (the hook scans the staged files)")
	}
	return nil
}

// Run scans, or installs the hook.
func (o *ScanOptions) Run(ctx context.Context) error {
	if o.InstallHook {
		return o.installHook(ctx)
	}
	var all []secretscan.Finding
	if o.Staged {
		found, err := scanStaged(ctx, o.Paths)
		if err != nil {
			return err
		}
		all = found
	} else {
		for _, p := range o.Paths {
			found, err := scanPath(ctx, p)
			if err != nil {
				return err
			}
			all = append(all, found...)
		}
	}
	all = secretscan.Filter(all, o.allow)
	secretscan.Sort(all)
	var secrets, warnings []secretscan.Finding
	for _, f := range all {
		if f.IsWarning() {
			warnings = append(warnings, f)
		} else {
			secrets = append(secrets, f)
		}
	}
	w := o.env.Streams.Out
	switch o.Output.Format {
	case "sarif":
		if err := sarif.Write(w, scanSARIF(all)); err != nil {
			return err
		}
	case "json":
		if all == nil {
			all = []secretscan.Finding{}
		}
		if err := cli.WriteData(w, cli.FormatJSON, all); err != nil {
			return err
		}
	default:
		for _, f := range warnings {
			fmt.Fprintf(o.env.Streams.ErrOut, "warning: %s:%d: %s\n", f.File, f.Line, f.Message)
		}
		if len(secrets) > 0 {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			if !o.NoHeaders {
				fmt.Fprintln(tw, "FILE:LINE\tKIND\tNAME\tMESSAGE")
			}
			for _, f := range secrets {
				fmt.Fprintf(tw, "%s:%d\t%s\t%s\t%s\n", f.File, f.Line, dash(f.Kind), dash(f.Name), f.Message)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	if len(secrets) > 0 {
		return &cli.FindingsError{Summary: fmt.Sprintf("%d plaintext secret(s) found", len(secrets))}
	}
	// As gitleaks ("no leaks found") and kubectl ("No resources found"):
	// one line on stderr, so stdout stays the report (-o json, sarif).
	summary := "no plaintext secrets found"
	if n := len(warnings); n > 0 {
		summary += fmt.Sprintf(" (%d warning(s))", n)
	}
	_, err := fmt.Fprintln(o.env.Streams.ErrOut, summary)
	return err
}

// scanSARIF is the SARIF log of findings: secrets at level error, warnings
// at level warning. Findings name keys, never values.
func scanSARIF(findings []secretscan.Finding) sarif.Log {
	rules := make([]sarif.RuleInfo, 0, len(secretscan.Rules))
	for _, r := range secretscan.Rules {
		rules = append(rules, sarif.RuleInfo{ID: r.ID, Short: r.Summary, Help: r.Help, Level: r.Severity})
	}
	results := make([]sarif.Finding, 0, len(findings))
	for _, f := range findings {
		level := sarif.LevelError
		if f.IsWarning() {
			level = sarif.LevelWarning
		}
		msg := f.Message
		if f.Origin != "" {
			msg += " (from " + f.Origin + ")"
		}
		results = append(results, sarif.Finding{Rule: f.Rule, Level: level, Message: msg, File: filepath.ToSlash(f.File), Line: f.Line})
	}
	return sarif.Build("kubectl-gitops seal scan", version.Get().Version, "https://github.com/kubectl-gitops/kubectl-gitops", rules, results)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// realAbs is the absolute path of p with symbolic links resolved, as git
// reports the top of a work tree.
func realAbs(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// displayFrom shows a path relative to root as a path under shown, the
// path the user gave for the directory real.
func displayFrom(root, real, shown string) func(string) string {
	return func(name string) string {
		rel, err := filepath.Rel(real, filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			return name
		}
		return filepath.ToSlash(filepath.Join(shown, rel))
	}
}

// scanPath scans a file or a directory. Inside a git work tree the
// repository root is its top and directories are listed with git;
// outside, the root is the directory. secretGenerator references are
// followed only inside the root, through an os.Root (no symbolic link out).
func scanPath(ctx context.Context, p string) ([]secretscan.Finding, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("scanning: %w", pathErr(err))
	}
	dir := p
	if !st.IsDir() {
		dir = filepath.Dir(p)
	}
	real, err := realAbs(dir)
	if err != nil {
		return nil, err
	}
	top, inGit := gitTop(ctx, real)
	root := real
	if inGit {
		root = top
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	var files []string
	switch {
	case !st.IsDir():
		rel, err := filepath.Rel(root, filepath.Join(real, filepath.Base(p)))
		if err != nil {
			return nil, err
		}
		files = []string{filepath.ToSlash(rel)}
	case inGit:
		if files, err = gitFiles(ctx, real, top); err != nil {
			return nil, err
		}
	default:
		if files, err = secretscan.Walk(r.FS()); err != nil {
			return nil, err
		}
	}
	s := &secretscan.Scanner{FS: r.FS(), Display: displayFrom(root, real, dir)}
	if inGit {
		s.Ignored = ignoredBy(ctx, top)
	}
	return s.Scan(ctx, files)
}

// gitFiles lists the tracked and untracked, not ignored, candidate files
// under dir, relative to the top of its work tree.
func gitFiles(ctx context.Context, dir, top string) ([]string, error) {
	out, err := runGit(ctx, dir, nil, "ls-files", "-z", "-co", "--exclude-standard", "--full-name", "--", ".")
	if err != nil {
		return nil, fmt.Errorf("listing files in %s: %w", dir, err)
	}
	var files []string
	for _, f := range splitZ(out) {
		if !secretscan.IsCandidate(f) {
			continue
		}
		// Listed but deleted from the work tree.
		if _, err := os.Lstat(filepath.Join(top, filepath.FromSlash(f))); err != nil {
			continue
		}
		files = append(files, f)
	}
	return files, nil
}

// scanStaged scans what the next commit holds: the staged candidate files
// under pathspecs, as staged, read from the git index (never the work
// tree, so a partly staged file is judged by its staged part). The index's
// kustomizations are scanned too, so that a staged env file or file that
// a secretGenerator reads is found; only findings in, or originating from,
// a staged file are kept.
func scanStaged(ctx context.Context, pathspecs []string) ([]secretscan.Finding, error) {
	top, ok := gitTop(ctx, "")
	if !ok {
		return nil, errors.New("--staged: the working directory is not in a git work tree")
	}
	cwd, err := realAbs(".")
	if err != nil {
		return nil, err
	}
	staged, err := stagedFiles(ctx, pathspecs)
	if err != nil {
		return nil, fmt.Errorf("listing staged files: %w", err)
	}
	if len(staged) == 0 {
		return nil, nil
	}
	index, err := readIndex(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("reading the git index: %w", err)
	}
	display := displayFrom(top, cwd, ".")
	isStaged := map[string]bool{}
	targets := map[string]bool{}
	for _, f := range staged {
		isStaged[display(f)] = true
		if _, inIndex := index.entries[f]; inIndex && secretscan.IsCandidate(f) {
			targets[f] = true
		}
	}
	for f := range index.entries {
		if secretscan.IsKustomizationFile(f) {
			targets[f] = true
		}
	}
	files := make([]string, 0, len(targets))
	for f := range targets {
		files = append(files, f)
	}
	sort.Strings(files)
	if err := index.prefetch(files); err != nil {
		return nil, fmt.Errorf("reading the git index: %w", err)
	}
	ignored := ignoredBy(ctx, top)
	s := &secretscan.Scanner{
		FS:      index,
		Display: display,
		Where:   "in the git index",
		Ignored: func(name string) bool {
			_, inIndex := index.entries[name]
			return !inIndex && ignored(name)
		},
	}
	found, err := s.Scan(ctx, files)
	if err != nil {
		return nil, err
	}
	var out []secretscan.Finding
	for _, f := range found {
		origin := f.Origin
		if i := strings.LastIndexByte(origin, ':'); i >= 0 {
			origin = origin[:i]
		}
		if isStaged[f.File] || origin != "" && isStaged[origin] {
			out = append(out, f)
		}
	}
	return out, nil
}

const hookMarker = "# installed by kubectl gitops seal scan --install-hook"

const hookScript = "#!/bin/sh\n" + hookMarker + "\n" +
	"# Fails the commit when the staged files hold plaintext secrets; bypass with git commit --no-verify.\n" +
	"cd \"$(git rev-parse --show-toplevel)\" || exit 2\n" +
	"exec kubectl-gitops-seal scan --staged\n"

func (o *ScanOptions) installHook(ctx context.Context) error {
	dir := o.Paths[0]
	out, err := runGit(ctx, dir, nil, "rev-parse", "--git-path", "hooks")
	if err != nil {
		return fmt.Errorf("--install-hook: %s is not in a git repository", argPath(dir))
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
		// An older hook of ours is upgraded; someone else's needs --force.
		if !o.Force && !strings.Contains(string(old), hookMarker) {
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
