package seal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// An argument that names no file, no command and no valid choice may be a
// secret value typed in the wrong place (`seal scan hunter2`, `--from-file
// password=hunter2`). Messages quote such arguments masked: at most a short
// prefix, never the value.

// maskArg quotes s with at most its first three characters: none for
// short values, so that little of a password is ever shown.
func maskArg(s string) string {
	r := []rune(s)
	n := min(len(r)/4, 3)
	return strconv.Quote(string(r[:n]) + "…")
}

// argPath quotes a path the user gave: whole when it names an existing
// file or directory (it is a path, then), masked otherwise.
func argPath(p string) string {
	if _, err := os.Lstat(p); err == nil {
		return strconv.Quote(p)
	}
	return maskArg(p)
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
	msg := fmt.Sprintf("unknown command %s for %q", maskArg(args[0]), cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default
	}
	if sugg := cmd.SuggestionsFor(args[0]); len(sugg) > 0 {
		msg += " (did you mean " + strings.Join(sugg, " or ") + "?)"
	}
	return cli.Usagef("%s", msg)
}

// Compiled on first use: only a flag error needs them.
var (
	invalidFlagArgRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^invalid argument "(?:[^"\\]|\\.)*" for ("[^"]*") flag`)
	})
	shorthandRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(` in -(\S*)`) })
)

// flagError masks the values pflag quotes in its parse errors ("invalid
// argument \"v\" for \"--x\" flag: strconv…: parsing \"v\"", "unknown
// shorthand flag: 'p' in -pVALUE"), keeping the flag names.
func flagError(_ *cobra.Command, err error) error {
	msg := err.Error()
	switch {
	case invalidFlagArgRE().MatchString(msg):
		m := invalidFlagArgRE().FindStringSubmatch(msg)
		q := strings.TrimPrefix(msg, "invalid argument ")
		v, _ := strconv.QuotedPrefix(q)
		uq, _ := strconv.Unquote(v)
		msg = fmt.Sprintf("invalid argument %s for %s flag", maskArg(uq), m[1])
	case strings.HasPrefix(msg, "bad flag syntax: "):
		msg = "bad flag syntax: " + maskArg(strings.TrimPrefix(msg, "bad flag syntax: "))
	default:
		msg = shorthandRE().ReplaceAllStringFunc(msg, func(s string) string {
			tok := strings.TrimPrefix(s, " in ")
			if len(tok) <= 2 {
				return s // "-f": a flag alone, no value in it
			}
			return " in " + maskArg(tok)
		})
	}
	return &cli.UsageError{Err: errors.New(msg)}
}

// maskArgs makes cmd and its subcommands quote arguments masked: unknown
// positional arguments and flag parse errors.
func maskArgs(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(flagError)
	if cmd.Args == nil {
		cmd.Args = noArgs
	}
	for _, c := range cmd.Commands() {
		maskArgs(c)
	}
}
