package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

// Env is what a plugin's command constructor receives: the streams to write
// to, the kubeconfig flags (--kubeconfig, --context, -n, …) bound on the root
// command, and the names the binary is known by.
type Env struct {
	Streams     genericiooptions.IOStreams
	ConfigFlags *ConfigFlags
	// Name is the display name, e.g. "kubectl gitops drift".
	Name string
	// Binary is the executable's base name, e.g. "kubectl-gitops-drift".
	Binary string
}

// NewEnv builds the Env for a binary started as argv0.
func NewEnv(argv0 string, streams genericiooptions.IOStreams) *Env {
	return &Env{
		Streams:     streams,
		ConfigFlags: NewConfigFlags(),
		Name:        DisplayName(argv0),
		Binary:      strings.TrimSuffix(filepath.Base(argv0), ".exe"),
	}
}

// Color reports whether the command's standard output may carry colour.
func (e *Env) Color() bool { return ColorEnabled(e.Streams.Out) }

// NewCommand builds a plugin's root command. It is called once per run, so
// tests build their own commands; plugins keep no package-level state.
type NewCommand func(env *Env) *cobra.Command

// Main runs a plugin binary and returns its exit code; cmd/ mains pass it to
// os.Exit. SIGINT and SIGTERM cancel the command's context, and the command
// returns (exit 130) once what it waits for gives up; a second signal kills
// the process at once, as the signal's default action.
func Main(argv []string, newCmd NewCommand) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	code := Run(ctx, argv, streams, newCmd)
	if code != ExitOK && ctx.Err() != nil {
		return ExitInterrupted
	}
	return code
}

var silenceKlog sync.Once

// Run is Main with the context and streams injected, for tests.
func Run(ctx context.Context, argv []string, streams genericiooptions.IOStreams, newCmd NewCommand) int {
	if len(argv) == 0 {
		argv = []string{"kubectl-gitops"}
	}
	// client-go reports some failures through klog as well as by returning
	// them; the returned error is printed once, in kubectl's wording.
	silenceKlog.Do(func() { klog.SetLogger(logr.Discard()) })
	env := NewEnv(argv[0], streams)
	root := newCmd(env)
	ran := Setup(root, env)
	root.SetArgs(argv[1:])

	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if !*ran {
		// Cobra failed before any command ran: unknown flag or command,
		// wrong arguments, missing required flag.
		if !errors.As(err, new(*UsageError)) { // flag errors are masked already
			err = maskArgError(err)
		}
		err = &UsageError{Err: err}
	}
	report(env, cmd, err)
	return ExitCodeOf(err)
}

// report prints err on stderr: one line, plus a hint for usage errors.
func report(env *Env, cmd *cobra.Command, err error) {
	w := env.Streams.ErrOut
	var findings *FindingsError
	if errors.As(err, &findings) {
		if findings.Summary != "" {
			fmt.Fprintln(w, findings.Summary)
		}
		return
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "error: interrupted")
		return
	}
	msg := FormatError(err)
	var usage *UsageError
	if !errors.As(err, &usage) {
		fmt.Fprintln(w, msg)
		return
	}
	// Cobra appends suggestions on extra lines ("Did you mean this?\n\tx");
	// fold them into the one-line message. Other multi-line messages (every
	// mistake of a manifest or pipeline file) are printed whole.
	if first, rest, ok := strings.Cut(msg, "\n"); ok && strings.HasPrefix(strings.TrimSpace(rest), "Did you mean this?") {
		if sugg := suggestions(rest); sugg != "" {
			first += " (did you mean " + sugg + "?)"
		}
		msg = first
	}
	fmt.Fprintln(w, strings.TrimRight(msg, "\n"))
	path := env.Name
	if cmd != nil {
		path = cmd.CommandPath()
	}
	fmt.Fprintf(w, "See '%s --help' for usage.\n", path)
}

func suggestions(rest string) string {
	var out []string
	for _, l := range strings.Split(rest, "\n") {
		if strings.HasPrefix(l, "\t") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(out, " or ")
}
