package seal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// An argument that names no file, no command and no valid choice may be a
// secret value typed in the wrong place (`seal scan hunter2`, `--from-file
// password=hunter2`). Messages quote such arguments masked by the suite's
// one rule, redact.Quote: at most a short prefix, never the value. Flag
// parse errors are masked by the CLI kit (cli.Setup), which every seal
// command inherits.

// argPath quotes a path the user gave: whole when it names an existing
// file or directory (it is a path, then), masked otherwise.
func argPath(p string) string {
	if _, err := os.Lstat(p); err == nil {
		return strconv.Quote(p)
	}
	return redact.Quote(p)
}

// pathErr rewrites the path of err, a *fs.PathError straight from an os
// call on a path the user gave (not yet wrapped: a wrapping message is
// already formatted), with argPath, so that an argument naming no file is
// not echoed.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		pe.Path = argPath(pe.Path)
	}
	return err
}

// noArgs is cobra.NoArgs without echoing the argument: cobra's message
// quotes it whole ("unknown command \"hunter2\"").
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %s for %q", redact.Quote(args[0]), cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default
	}
	if sugg := cmd.SuggestionsFor(args[0]); len(sugg) > 0 {
		msg += " (did you mean " + strings.Join(sugg, " or ") + "?)"
	}
	return cli.Usagef("%s", msg)
}

// maskArgs makes cmd and its subcommands refuse unknown positional
// arguments without echoing them.
func maskArgs(cmd *cobra.Command) {
	if cmd.Args == nil {
		cmd.Args = noArgs
	}
	for _, c := range cmd.Commands() {
		maskArgs(c)
	}
}
