package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"
	"unicode"
)

// waitDelay is how long a git process may take to exit after it was
// interrupted because its context ended, before it is killed and its pipes
// are closed. Git removes its lock files on an interrupt, so it gets a moment
// to do so.
const waitDelay = 5 * time.Second

// maxStderrLines bounds how much of git's stderr goes into an error message.
const maxStderrLines = 4

// GitError is a git command that failed: it exited with a non-zero status,
// could not be started, or was stopped because its context ended.
type GitError struct {
	// Args are the arguments after "git", with URL user information removed.
	Args []string
	// Stderr is git's standard error, with URL user information removed.
	Stderr string
	// ExitCode is the exit status, or -1 when git did not exit normally.
	ExitCode int
	// Err is the error from running the process (often an *exec.ExitError).
	Err error
	// Ctx is the context's error when the context ended, else nil.
	Ctx error
}

func (e *GitError) Error() string {
	var b strings.Builder
	b.WriteString("git ")
	b.WriteString(strings.Join(e.Args, " "))
	if s := firstLines(e.Stderr, maxStderrLines); s != "" {
		b.WriteString(": ")
		b.WriteString(s)
	}
	b.WriteString(": ")
	if e.Ctx != nil && errors.Is(e.Err, e.Ctx) {
		b.WriteString(e.Ctx.Error())
	} else if e.Ctx != nil {
		b.WriteString(e.Ctx.Error())
		b.WriteString(" (")
		b.WriteString(e.Err.Error())
		b.WriteString(")")
	} else {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the process error and, when the context ended, the
// context's error, so that errors.Is(err, context.Canceled) holds.
func (e *GitError) Unwrap() []error {
	if e.Ctx != nil && !errors.Is(e.Err, e.Ctx) {
		return []error{e.Err, e.Ctx}
	}
	return []error{e.Err}
}

func firstLines(s string, n int) string {
	var lines []string
	for line := range strings.Lines(s) {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "hint:") {
			continue
		}
		if len(lines) == n {
			lines = append(lines, "...")
			break
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "; ")
}

// userinfoRE matches the scheme and user information of a URL: everything up
// to the last "@" before the path, so a password holding an "@" goes whole.
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s]*@`)

// queryRE matches a URL up to its query ("…?"), then the query, which ends
// at a fragment, a space or a quote.
var queryRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s?#'"]*\?)([^\s#'"]*)`)

// plainQueryParams are query parameters whose values are shown: they name
// a revision or a version, never a credential. Every other value is masked.
var plainQueryParams = map[string]bool{"ref": true, "rev": true, "revision": true, "version": true, "branch": true, "tag": true, "depth": true, "timeout": true}

// scpUserinfoRE matches an scp-like address with a password,
// user:password@host:path, at the start of s or after a space, a quote,
// a bracket, "=" or ",": the user information goes up to the last "@"
// before the host, so a password holding an "@" goes whole. An image
// reference with a tag and a digest (name:tag@sha256:…) looks the same and
// stays (scpUserinfo).
var scpUserinfoRE = regexp.MustCompile(`(^|[\s'"(<\[=,;])[^\s'"(<\[=,;/@:]+:[^\s'"]*@([A-Za-z0-9_][A-Za-z0-9._-]*:)`)

// RedactURL removes the user information (user name, password, token) of
// every scheme://user:password@host URL in s and of every scp-like
// user:password@host:path (an scp-like user name alone, git@host:path, is
// no secret and stays), and masks ("***") the query parameter values that
// may be credentials (access_token, X-Amz-Signature, sig, …: all but ref,
// version and a few like them). Any text may be passed: an error message
// or a command line. It is the project's one URL redactor.
func RedactURL(s string) string {
	if strings.Contains(s, "@") {
		s = userinfoRE.ReplaceAllString(s, "$1")
		s = scpUserinfoRE.ReplaceAllStringFunc(s, scpUserinfo)
	}
	return redactQuery(s)
}

// scpUserinfo is an scpUserinfoRE match without its user information,
// unless its "host" is a digest algorithm: an image reference
// (nginx:1.25@sha256:…), no password.
func scpUserinfo(m string) string {
	sub := scpUserinfoRE.FindStringSubmatch(m)
	switch strings.ToLower(strings.TrimSuffix(sub[2], ":")) {
	case "sha256", "sha384", "sha512":
		return m
	}
	return sub[1] + sub[2]
}

// redactQuery masks the query parameter values of the URLs in s that may
// be credentials (RedactURL).
func redactQuery(s string) string {
	if !strings.Contains(s, "?") {
		return s
	}
	return queryRE.ReplaceAllStringFunc(s, func(m string) string {
		head, query, _ := strings.Cut(m, "?")
		params := strings.Split(query, "&")
		for i, p := range params {
			k, v, ok := strings.Cut(p, "=")
			switch {
			case !ok && p != "":
				params[i] = "***"
			case ok && v != "" && !plainQueryParams[strings.ToLower(k)]:
				params[i] = k + "=***"
			}
		}
		return head + "?" + strings.Join(params, "&")
	})
}

// scrubbedEnv lists variables that would make git use another repository,
// work tree or index than the one asked (they are set, for example, when
// this runs from within a git hook).
var scrubbedEnv = []string{
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
	"GIT_PREFIX", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
	"GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
	"GIT_TERMINAL_PROMPT", "LC_ALL", "LANGUAGE",
}

// Env is the environment git runs with here: the caller's, without the
// variables that would point it at another repository (scrubbedEnv), with
// no prompts and the C locale, then extra. Other packages running git (such
// as gitsource's clones) use it too.
func Env(extra ...string) []string { return gitEnv(extra) }

// hookGitEnv is gitEnv keeping the repository variables a hook runs with.
func hookGitEnv(extra []string) []string {
	env := make([]string, 0, len(os.Environ())+len(extra)+2)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "GIT_TERMINAL_PROMPT", "LC_ALL", "LANGUAGE":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	return append(env, extra...)
}

func gitEnv(extra []string) []string {
	env := make([]string, 0, len(os.Environ())+len(extra)+2)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, s := range scrubbedEnv {
			if strings.EqualFold(name, s) && (runtime.GOOS == "windows" || name == s) {
				drop = true
				break
			}
		}
		if !drop {
			env = append(env, kv)
		}
	}
	env = append(env, "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	return append(env, extra...)
}

// cmdOpts are the optional inputs of one git invocation.
type cmdOpts struct {
	dir   string    // working directory
	stdin io.Reader // standard input; empty when nil
	env   []string  // extra environment
	// hookEnv keeps the variables git sets for a hook (GIT_DIR,
	// GIT_INDEX_FILE, …) instead of scrubbing them.
	hookEnv bool
}

// RunOptions are the optional inputs of one git invocation through Run.
type RunOptions struct {
	// Dir is the working directory ("" for the process's).
	Dir string
	// Stdin is git's standard input; empty when nil.
	Stdin io.Reader
	// Env is added to the environment.
	Env []string
	// HookEnv keeps the variables git sets when it runs a hook (GIT_DIR,
	// GIT_INDEX_FILE, GIT_WORK_TREE, …), for a command that must read the
	// repository and index the hook runs for (seal scan --staged from a
	// pre-commit hook). Without it they are scrubbed (Env), so git works on
	// the repository of Dir and nothing else.
	HookEnv bool
}

// Installed reports whether a git executable is on PATH.
func Installed() bool {
	_, err := exec.LookPath("git")
	return err == nil
}

// Run runs git with args under ctx and returns its standard output: the one
// way this project runs git. Cancelling ctx interrupts git (then kills it
// after a grace period); the environment is Env's (no prompts, the C locale,
// the caller's repository variables scrubbed unless HookEnv); a failure is a
// *GitError whose arguments and standard error went through RedactURL.
func Run(ctx context.Context, o RunOptions, args ...string) ([]byte, error) {
	return git(ctx, cmdOpts{dir: o.Dir, stdin: o.Stdin, env: o.Env, hookEnv: o.HookEnv}, args...)
}

// git runs git with args in o.dir and returns its standard output.
func git(ctx context.Context, o cmdOpts, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, &GitError{Args: redactArgs(args), ExitCode: -1, Err: err, Ctx: err}
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = o.dir
	if o.hookEnv {
		cmd.Env = hookGitEnv(o.env)
	} else {
		cmd.Env = gitEnv(o.env)
	}
	cmd.Stdin = o.stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Cancel = func() error {
		if runtime.GOOS == "windows" {
			return cmd.Process.Kill()
		}
		return cmd.Process.Signal(os.Interrupt)
	}
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	ge := &GitError{
		Args:     redactArgs(args),
		Stderr:   RedactURL(stderr.String()),
		ExitCode: -1,
		Err:      err,
		Ctx:      ctx.Err(),
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ge.ExitCode = ee.ExitCode()
	}
	// Some commands (push --porcelain) report on stdout; keep it for callers.
	return stdout.Bytes(), ge
}

func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = RedactURL(a)
	}
	return out
}

// exitCode returns the exit status of a failed git command, or -1.
func exitCode(err error) int {
	var ge *GitError
	if errors.As(err, &ge) && ge.Ctx == nil {
		return ge.ExitCode
	}
	return -1
}

// stderrOf returns the stderr of a failed git command.
func stderrOf(err error) string {
	var ge *GitError
	if errors.As(err, &ge) {
		return ge.Stderr
	}
	return ""
}

// checkArg refuses a revision or name that git would read as an option.
func checkArg(kind, s string) error {
	if s == "" {
		return fmt.Errorf("empty %s", kind)
	}
	if strings.HasPrefix(s, "-") {
		return fmt.Errorf("invalid %s %q: starts with '-'", kind, s)
	}
	if strings.ContainsAny(s, "\x00\n") {
		return fmt.Errorf("invalid %s %q: contains a control character", kind, s)
	}
	return nil
}
