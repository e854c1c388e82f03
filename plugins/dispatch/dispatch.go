package dispatch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
)

// Prefix is the name every verb binary starts with.
const Prefix = "kubectl-gitops-"

// Exit codes the dispatcher itself uses; a verb's own exit code passes through.
const (
	exitOK      = 0
	exitUsage   = 2
	exitFailure = 2
)

// known verbs and what they do, for the listing. Verbs found on disk that are
// not listed here are shown too.
var known = map[string]string{
	"drift":   "Compare the live cluster with the desired state in Git",
	"promote": "Promote versions between environments through Git commits",
	"tenant":  "Generate hardened multi-tenant GitOps manifests and verify isolation",
	"seal":    "Encrypt Secrets for Git with Sealed Secrets or SOPS, and scan for plaintext",
	"repo":    "Scaffold a GitOps repository for Argo CD or Flux, lint it, and show its structure",
}

// Hosts are the CLIs that run the dispatcher as a plugin, each by its own
// name: kubectl-gitops (kubectl, krew), argocd-gitops (Argo CD v3, on PATH)
// and flux-gitops (Flux v2.9, in ~/.fluxcd/plugins). Argo CD and Flux pass
// the binary's full path as argv[0].
var Hosts = []string{"kubectl", "argocd", "flux"}

// ParseName splits a binary's argv[0] into the host that runs it and the verb
// its name selects: "/home/u/.fluxcd/plugins/flux-gitops" is ("flux", ""),
// "argocd-gitops-drift.exe" is ("argocd", "drift"). Any other name is
// ("kubectl", "").
func ParseName(argv0 string) (host, verb string) {
	base := filepath.Base(argv0)
	if len(base) > 4 && strings.EqualFold(base[len(base)-4:], ".exe") {
		base = base[:len(base)-4]
	}
	for _, h := range Hosts {
		if base == h+"-gitops" {
			return h, ""
		}
		if v, ok := strings.CutPrefix(base, h+"-gitops-"); ok && v != "" {
			return h, v
		}
	}
	return "kubectl", ""
}

// Dispatcher finds and runs verb binaries.
type Dispatcher struct {
	// Host is the CLI the dispatcher runs under ("kubectl" when empty): it
	// names the dispatcher in messages ("flux gitops") and is passed to a
	// verb as its argv[0] ("flux-gitops-drift"), from which the verb derives
	// its usage lines and hints (cli.DisplayName).
	Host string
	// Builtin holds verbs compiled into this binary (the multicall build);
	// each runs in process with argv[0] "HOST-gitops-VERB". They come before
	// binaries found on disk.
	Builtin map[string]func(argv []string) int
	// Self is the dispatcher's own executable path (symlinks are resolved).
	Self string
	// Path is the PATH to search after the dispatcher's own directory.
	Path   string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Exec runs a verb binary and returns its exit code; on Unix the default
	// replaces the process (syscall.Exec).
	Exec func(path string, argv []string) (int, error)
}

// Main runs the dispatcher for os.Args and returns its exit code.
func Main(argv []string) int { return MainWith(argv, nil) }

// MainWith is Main for a binary that holds the verbs in builtin (the
// multicall build): started under a verb's name (a copy or symlink named
// kubectl-gitops-drift, flux-gitops-drift, …) it runs that verb; otherwise it
// dispatches on its first argument, to a builtin verb first.
func MainWith(argv []string, builtin map[string]func(argv []string) int) int {
	if len(argv) == 0 {
		argv = []string{"kubectl-gitops"}
	}
	host, verb := ParseName(argv[0])
	if run, ok := builtin[verb]; ok {
		return run(argv)
	}
	self, err := os.Executable()
	if err != nil {
		self = argv[0]
	}
	d := &Dispatcher{
		Host: host, Builtin: builtin,
		Self: self, Path: os.Getenv("PATH"),
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Exec: execVerb,
	}
	return d.Run(argv[1:])
}

func (d *Dispatcher) host() string {
	if d.Host == "" {
		return "kubectl"
	}
	return d.Host
}

// name is the dispatcher's display name, e.g. "flux gitops".
func (d *Dispatcher) name() string { return d.host() + " gitops" }

// verbArgv0 is the argv[0] a verb is run with: its name under the host.
func (d *Dispatcher) verbArgv0(verb string) string { return d.host() + "-gitops-" + verb }

// runVerb runs verb (a builtin or the binary at path) with args after its
// argv[0].
func (d *Dispatcher) runVerb(verb, path string, args []string) (int, error) {
	argv := append([]string{d.verbArgv0(verb)}, args...)
	if run, ok := d.Builtin[verb]; ok {
		return run(argv), nil
	}
	return d.Exec(path, argv)
}

// Run dispatches args (without the program name).
func (d *Dispatcher) Run(args []string) int {
	if len(args) == 0 {
		d.usage(d.Stdout)
		return exitOK
	}
	verb := args[0]
	switch verb {
	case "-h", "--help", "help":
		d.usage(d.Stdout)
		return exitOK
	case "version":
		return d.version(args[1:])
	case "completion":
		return d.completion(args[1:])
	case "__complete", "__completeNoDesc":
		return d.complete(verb, args[1:])
	}
	if strings.HasPrefix(verb, "-") {
		fmt.Fprintf(d.Stderr, "error: unknown flag %s: a verb must come first\n", quoteArg(verb))
		d.hint()
		return exitUsage
	}
	path, ok := d.Find(verb)
	if !ok {
		fmt.Fprintf(d.Stderr, "error: unknown verb %s for %q\n", quoteArg(verb), d.name())
		d.listVerbs(d.Stderr)
		d.hint()
		return exitUsage
	}
	code, err := d.runVerb(verb, path, args[1:])
	if err != nil {
		fmt.Fprintf(d.Stderr, "error: running %s: %v\n", path, err)
		return exitFailure
	}
	return code
}

func (d *Dispatcher) hint() {
	fmt.Fprintf(d.Stderr, "See '%s --help' for usage.\n", d.name())
}

// dirs returns the directories searched, in order: the dispatcher's own
// (resolved) directory, then PATH.
func (d *Dispatcher) dirs() []string {
	var dirs []string
	if d.Self != "" {
		self := d.Self
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		dirs = append(dirs, filepath.Dir(self))
	}
	for _, dir := range filepath.SplitList(d.Path) {
		if dir == "" {
			dir = "."
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

func exeName(verb string) string {
	if runtime.GOOS == "windows" {
		return Prefix + verb + ".exe"
	}
	return Prefix + verb
}

// Find returns the path of the binary for verb ("" for a builtin verb).
func (d *Dispatcher) Find(verb string) (string, bool) {
	if verb == "" || strings.ContainsAny(verb, `/\`) {
		return "", false
	}
	if _, ok := d.Builtin[verb]; ok {
		return "", true
	}
	for _, dir := range d.dirs() {
		p := filepath.Join(dir, exeName(verb))
		if isExecutable(p) {
			return p, true
		}
	}
	return "", false
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() {
		return false
	}
	if runtime.GOOS == "windows" {
		return true
	}
	return fi.Mode()&0o111 != 0
}

// Verbs lists the verbs whose binaries can be found, sorted.
func (d *Dispatcher) Verbs() []string {
	seen := map[string]bool{}
	for v := range d.Builtin {
		seen[v] = true
	}
	for _, dir := range d.dirs() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := strings.TrimSuffix(e.Name(), ".exe")
			verb, ok := strings.CutPrefix(name, Prefix)
			if !ok || verb == "" || seen[verb] || e.Type()&fs.ModeDir != 0 {
				continue
			}
			if isExecutable(filepath.Join(dir, e.Name())) {
				seen[verb] = true
			}
		}
	}
	verbs := make([]string, 0, len(seen))
	for v := range seen {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	return verbs
}

// completionHint is how `HOST gitops …` gets shell completion under a host
// other than kubectl, where the dispatcher's own completion scripts (written
// for the command kubectl-gitops) do not apply (docs/install.md).
var completionHint = map[string]string{
	"flux":   "Completion of 'flux gitops …' comes with Flux's own: source <(flux completion bash).",
	"argocd": "The argocd CLI does not complete plugins' arguments (see docs/install.md, Shell completion).",
}

func (d *Dispatcher) usage(w io.Writer) {
	n := d.name()
	fmt.Fprintf(w, `%s: GitOps for Kubernetes with Argo CD or Flux, as %s plugins.

Usage:
  %s VERB [flags]
  %s version [-o json|yaml]
`, n, d.host(), n, n)
	hint := completionHint[d.host()]
	if hint == "" {
		fmt.Fprintf(w, "  %s completion bash|zsh|fish|powershell\n", n)
	}
	fmt.Fprintln(w)
	d.listVerbs(w)
	fmt.Fprintf(w, `
Run '%s VERB --help' for a verb's flags and examples.
`, n)
	if hint != "" {
		fmt.Fprintln(w, hint)
	}
}

func (d *Dispatcher) listVerbs(w io.Writer) {
	verbs := d.Verbs()
	if len(verbs) == 0 {
		fmt.Fprintf(w, "No verbs found: install the %s* binaries next to kubectl-gitops or on PATH.\n", Prefix)
		return
	}
	fmt.Fprintln(w, "Verbs found:")
	for _, v := range verbs {
		desc := known[v]
		if desc == "" {
			desc = "(found as " + Prefix + v + ")"
		}
		fmt.Fprintf(w, "  %-10s %s\n", v, desc)
	}
}

func (d *Dispatcher) version(args []string) int {
	format := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "--output":
			if i+1 >= len(args) {
				fmt.Fprintf(d.Stderr, "error: flag needs an argument: %s\n", a)
				d.hint()
				return exitUsage
			}
			i++
			format = args[i]
		case strings.HasPrefix(a, "-o="), strings.HasPrefix(a, "--output="):
			_, format, _ = strings.Cut(a, "=")
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			format = a[2:]
		default:
			fmt.Fprintf(d.Stderr, "error: unknown argument %q for \"%s version\"\n", a, d.name())
			d.hint()
			return exitUsage
		}
	}
	if format != version.FormatText && format != version.FormatJSON && format != version.FormatYAML {
		fmt.Fprintf(d.Stderr, "error: --output must be json or yaml, not %q\n", format)
		d.hint()
		return exitUsage
	}
	if err := (version.Report{ClientVersion: version.Get()}).Write(d.Stdout, d.name(), format); err != nil {
		fmt.Fprintf(d.Stderr, "error: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// complete implements cobra's hidden completion protocol for kubectl's plugin
// completion (kubectl runs `kubectl_complete-gitops __complete ARGS…`): the
// verb is completed here, everything after it by the verb binary.
func (d *Dispatcher) complete(mode string, args []string) int {
	if len(args) >= 2 {
		if path, ok := d.Find(args[0]); ok {
			code, err := d.runVerb(args[0], path, append([]string{mode}, args[1:]...))
			if err != nil {
				return exitFailure
			}
			return code
		}
	}
	prefix := ""
	if len(args) == 1 {
		prefix = args[0]
	}
	for _, v := range append(d.Verbs(), "completion", "version") {
		if !strings.HasPrefix(v, prefix) {
			continue
		}
		if desc := known[v]; desc != "" && mode == "__complete" {
			fmt.Fprintf(d.Stdout, "%s\t%s\n", v, desc)
		} else {
			fmt.Fprintln(d.Stdout, v)
		}
	}
	fmt.Fprintln(d.Stdout, ":4") // cobra.ShellCompDirectiveNoFileComp
	return exitOK
}

// errExec reports that the verb binary could not be started.
var errExec = errors.New("cannot start verb binary")

// quoteArg renders a command-line argument that is not a verb for an error
// message, where it may be a secret typed in the wrong place: the rule of
// pkg/redact's Quote (at most 4 characters, never more than half, then "…"),
// written here because the dispatcher links the standard library only.
func quoteArg(s string) string {
	if s == "" {
		return `""`
	}
	n := min(4, utf8.RuneCountInString(s)/2)
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return strconv.Quote(s[:i] + "…")
}
