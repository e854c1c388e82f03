package cli

// The help and usage layout below is ported from kubectl's
// k8s.io/kubectl/pkg/util/templates (v0.37.2: templates.go, templater.go,
// help_flags_printer.go; Apache-2.0, The Kubernetes Authors), so that
// 'kubectl gitops … --help' has the shape of 'kubectl diff --help':
// description, Examples:, Available Commands:, Options: (one flag per
// entry, "    -x, --flag='default':" then the usage on a tab-indented line),
// Usage:, and the footer pointing at the options subcommand for the
// kubeconfig flags. Ported rather than imported: that package pulls in
// kubectl's i18n catalogue and terminal helpers. Word wrapping (kubectl
// wraps only on a terminal) is left out.

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// useKubectlHelp gives root and all its subcommands kubectl's help layout,
// and adds the 'options' subcommand that lists the inherited (kubeconfig)
// flags, as 'kubectl options' does.
func useKubectlHelp(root *cobra.Command) {
	t := &templater{root: root}
	root.SetUsageFunc(func(c *cobra.Command) error {
		_, err := io.WriteString(c.OutOrStderr(), t.usage(c))
		return err
	})
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		if _, err := io.WriteString(c.OutOrStdout(), t.help(c)); err != nil {
			c.PrintErrln(err)
		}
	})

	opts := &cobra.Command{
		Use:   "options",
		Short: "Print the list of flags inherited by all commands",
		Long:  "Print the list of flags inherited by all commands",
		Example: fmt.Sprintf(`  # Print flags inherited by all commands
  %s options`, root.Annotations[cobra.CommandDisplayNameAnnotation]),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(root.OutOrStdout())
			return cmd.Usage()
		},
	}
	opts.SetUsageFunc(func(c *cobra.Command) error {
		if !c.HasInheritedFlags() {
			return nil
		}
		_, err := io.WriteString(c.OutOrStderr(), "The following options can be passed to any command:\n\n"+flagsUsages(c.InheritedFlags()))
		return err
	})
	opts.SetHelpFunc(func(*cobra.Command, []string) {})
	root.AddCommand(opts)
}

type templater struct {
	root *cobra.Command
}

// help is kubectl's help template as code (text/template would keep every
// exported method of every linked type alive, some 20 MB per binary, which
// is why cobra itself stopped using it): the description, then the usage
// when the command runs or has subcommands.
func (t *templater) help(c *cobra.Command) string {
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	out := strings.TrimSpace(desc)
	if c.Runnable() || c.HasSubCommands() {
		out += c.UsageString()
	}
	return out
}

// usage is kubectl's usage template as code: Aliases, Examples, Available
// Commands, Options, Usage, then the hints, each section followed by a
// blank line.
func (t *templater) usage(c *cobra.Command) string {
	var b strings.Builder
	b.WriteString("\n\n")
	trimRight := func(s string) string { return strings.TrimRightFunc(s, unicode.IsSpace) }
	if len(c.Aliases) > 0 {
		b.WriteString("Aliases:\n" + c.NameAndAliases() + "\n\n")
	}
	if c.HasExample() {
		b.WriteString("Examples:\n" + trimRight(c.Example) + "\n\n")
	}
	if c.HasAvailableSubCommands() {
		b.WriteString(cmdGroupsString(c) + "\n\n")
	}
	if visible := visibleFlags(flagsNotIntersected(c.LocalFlags(), c.PersistentFlags())); visible.HasFlags() {
		b.WriteString("Options:\n" + trimRight(flagsUsages(visible)) + "\n\n")
	}
	if c.Runnable() && c.UseLine() != "" && c.UseLine() != t.root.CommandPath() {
		b.WriteString("Usage:\n  " + usageLine(c) + "\n\n")
	}
	if c.HasSubCommands() {
		b.WriteString(`Use "`)
		for _, name := range t.reverseParentsNames(c) {
			b.WriteString(name + " ")
		}
		b.WriteString(`<command> --help" for more information about a given command.` + "\n")
	}
	if o := t.optionsCmdFor(c); o != "" {
		b.WriteString(`Use "` + o + `" for a list of global command-line options (applies to all commands).` + "\n")
	}
	return b.String()
}

func cmdGroupsString(c *cobra.Command) string {
	lines := []string{"Available Commands:"}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && sub.Name() != "options" {
			lines = append(lines, "  "+fmt.Sprintf("%-*s", sub.NamePadding(), sub.Name())+"   "+sub.Short)
		}
	}
	return strings.Join(lines, "\n")
}

func (t *templater) parents(c *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{c}
	for cur := c; cur != t.root && cur.HasParent(); {
		cur = cur.Parent()
		out = append(out, cur)
	}
	return out
}

// reverseParentsNames spells the command path as the user types it: the
// root by its display name ("kubectl gitops drift"), not its binary name.
func (t *templater) reverseParentsNames(c *cobra.Command) []string {
	ps := t.parents(c)
	names := make([]string, 0, len(ps))
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i] == t.root {
			names = append(names, t.root.CommandPath())
			continue
		}
		names = append(names, ps[i].Name())
	}
	return names
}

func (t *templater) optionsCmdFor(c *cobra.Command) string {
	if !c.Runnable() {
		return ""
	}
	if _, _, err := t.root.Find([]string{"options"}); err == nil {
		return t.root.CommandPath() + " options"
	}
	return ""
}

func usageLine(c *cobra.Command) string {
	usage := c.UseLine()
	if c.HasFlags() && !strings.Contains(usage, "[options]") {
		usage += " [options]"
	}
	return usage
}

// flagsUsages lists flags as kubectl does: "    -x, --name=default:" and
// the usage on the next line after a tab, an empty line between flags.
// String defaults are quoted; a usage of several lines becomes one line.
func flagsUsages(f *pflag.FlagSet) string {
	var b bytes.Buffer
	f.VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden {
			return
		}
		format := "--%s=%s:\n%s%s"
		if fl.Value.Type() == "string" {
			format = "--%s='%s':\n%s%s"
		}
		if fl.Shorthand != "" {
			format = "    -%s, " + format
		} else {
			format = "    %s" + format
		}
		deprecated := ""
		if fl.Deprecated != "" {
			deprecated = fmt.Sprintf(" (DEPRECATED: %s)", fl.Deprecated)
		}
		s := fmt.Sprintf(format, fl.Shorthand, fl.Name, fl.DefValue, fl.Usage, deprecated)
		head, usage, _ := strings.Cut(s, "\n")
		usage = strings.ReplaceAll(strings.TrimSpace(usage), "\n", " ")
		fmt.Fprint(&b, head+"\n\t"+usage+"\n\n")
	})
	return b.String()
}

func flagsNotIntersected(l, r *pflag.FlagSet) *pflag.FlagSet {
	f := pflag.NewFlagSet("notIntersected", pflag.ContinueOnError)
	l.VisitAll(func(fl *pflag.Flag) {
		if r.Lookup(fl.Name) == nil {
			f.AddFlag(fl)
		}
	})
	return f
}

func visibleFlags(l *pflag.FlagSet) *pflag.FlagSet {
	f := pflag.NewFlagSet("visible", pflag.ContinueOnError)
	l.VisitAll(func(fl *pflag.Flag) {
		if fl.Name != "help" {
			f.AddFlag(fl)
		}
	})
	return f
}
