package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
)

// Output formats that WriteData writes.
const (
	FormatJSON = "json"
	FormatYAML = "yaml"
)

// OutputFlag is a command's -o/--output flag: the format asked for and the
// formats the command prints. AddFlag binds it and completes the formats;
// Validate rejects any other in one wording, kubectl's.
type OutputFlag struct {
	// Format is the value of the flag, or the default.
	Format string
	// Allowed are the formats the command prints, in the order completion
	// offers them. "" stands for a default format that has no name.
	Allowed []string
	// in are the formats of subcommands that print others than Allowed,
	// for a persistent -o (AllowIn).
	in map[*cobra.Command][]string
}

// NewOutputFlag returns an -o flag defaulting to def that allows the given
// formats.
func NewOutputFlag(def string, allowed ...string) OutputFlag {
	return OutputFlag{Format: def, Allowed: allowed}
}

// AddFlag binds -o/--output in flags (cmd's own or persistent flags) and
// completes the allowed formats.
func (f *OutputFlag) AddFlag(cmd *cobra.Command, flags *pflag.FlagSet, usage string) {
	flags.StringVarP(&f.Format, "output", "o", f.Format, usage)
	_ = cmd.RegisterFlagCompletionFunc("output", func(c *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return slices.DeleteFunc(slices.Clone(f.allowed(c)), func(s string) bool { return s == "" }), cobra.ShellCompDirectiveNoFileComp
	})
}

// AllowIn sets the formats completion offers in sub instead of Allowed: a
// subcommand of the command whose persistent -o this is, which prints
// other formats (and validates them with ValidateOutput).
func (f *OutputFlag) AllowIn(sub *cobra.Command, formats ...string) {
	if f.in == nil {
		f.in = map[*cobra.Command][]string{}
	}
	f.in[sub] = formats
}

func (f *OutputFlag) allowed(cmd *cobra.Command) []string {
	if formats, ok := f.in[cmd]; ok {
		return formats
	}
	return f.Allowed
}

// Validate returns a usage error unless Format is one of Allowed.
func (f *OutputFlag) Validate() error { return ValidateOutput(f.Format, f.Allowed...) }

// Is reports whether Format is one of formats.
func (f *OutputFlag) Is(formats ...string) bool { return slices.Contains(formats, f.Format) }

// ValidateOutput returns a usage error unless format is one of allowed, in
// kubectl's wording (cli-runtime's NoCompatiblePrinterError: the allowed
// formats sorted, comma-separated), the format quoted masked as every
// message quoting a command-line value is (a value typed in the wrong
// place may be a secret).
func ValidateOutput(format string, allowed ...string) error {
	if slices.Contains(allowed, format) {
		return nil
	}
	named := slices.DeleteFunc(slices.Clone(allowed), func(s string) bool { return s == "" })
	sort.Strings(named)
	return Usagef("unable to match a printer suitable for the output format %s, allowed formats are: %s",
		redact.Quote(format), strings.Join(named, ","))
}

// WriteData writes v as an -o json or -o yaml document: JSON indented by
// two spaces (cli-runtime's JSONPrinter indents by four, and the suite's
// documents and golden files have always used two), YAML through
// sigs.k8s.io/yaml (v's JSON turned into YAML: the bytes cli-runtime's
// YAMLPrinter writes for a runtime.Unknown).
func WriteData(w io.Writer, format string, v any) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case FormatYAML:
		data, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	return fmt.Errorf("writing %s: not a data format (json or yaml)", format)
}
