package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// Command-line values in error messages: a value typed in the wrong place
// (`--from-literal password= s3cr3t` makes "s3cr3t" an argument,
// `--adopt=s3cr3t` a bad boolean) may be a secret, and cobra and pflag quote
// it whole. These rewrite their messages to show at most a short masked
// prefix of it (redact.Quote), the rule every message quoting user data
// follows.

// maskFlagError rewrites pflag's errors that quote a value.
func maskFlagError(err error) error {
	var (
		iv *pflag.InvalidValueError
		is *pflag.InvalidSyntaxError
		ne *pflag.NotExistError
	)
	switch {
	case errors.As(err, &iv):
		f := iv.GetFlag()
		name := "--" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			name = "-" + f.Shorthand + ", " + name
		}
		msg := fmt.Sprintf("invalid argument %s for %q flag", redact.Quote(iv.GetValue()), name)
		if cause := maskedCause(iv.Unwrap(), iv.GetValue()); cause != "" {
			msg += ": " + cause
		}
		return errors.New(msg)
	case errors.As(err, &is):
		return fmt.Errorf("bad flag syntax: %s", redact.Quote(is.GetSpecifiedFlag()))
	case errors.As(err, &ne) && ne.GetSpecifiedShortnames() != "":
		// -pS3cret: the letters after an unknown shorthand may be a value.
		return fmt.Errorf("unknown shorthand flag: %q in %s", rune(ne.GetSpecifiedName()[0]), redact.Quote("-"+ne.GetSpecifiedShortnames()))
	}
	return err
}

// maskedCause is a flag value's parse error without the value: strconv's
// function and reason, or the message with the value masked.
func maskedCause(cause error, value string) string {
	if cause == nil {
		return ""
	}
	var ne *strconv.NumError
	if errors.As(cause, &ne) {
		return ne.Func + ": " + ne.Err.Error()
	}
	msg := cause.Error()
	if value == "" {
		return msg
	}
	quoted := strconv.Quote(value)
	masked := redact.Quote(value)
	msg = strings.ReplaceAll(msg, quoted, masked)
	return strings.ReplaceAll(msg, value, masked[1:len(masked)-1])
}

// argValueRE matches cobra's errors quoting an argument: unknown command
// (legacyArgs) and invalid argument (OnlyValidArgs).
var argValueRE = regexp.MustCompile(`^(unknown command|invalid argument) ("(?:[^"\\]|\\.)*")( for .*)$`)

// maskArgError rewrites cobra's argument errors that quote an argument.
func maskArgError(err error) error {
	first, rest, _ := strings.Cut(err.Error(), "\n")
	m := argValueRE.FindStringSubmatch(first)
	if m == nil {
		return err
	}
	arg, uerr := strconv.Unquote(m[2])
	if uerr != nil {
		arg = m[2]
	}
	msg := m[1] + " " + redact.Quote(arg) + m[3]
	if rest != "" {
		msg += "\n" + rest // "Did you mean this?" names commands, not the argument
	}
	return errors.New(msg)
}
