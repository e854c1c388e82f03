package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// helpSections are the headings of kubectl's help, in the order kubectl
// prints them (k8s.io/kubectl/pkg/util/templates.MainUsageTemplate).
var helpSections = []string{"Aliases:", "Examples:", "Available Commands:", "Options:", "Usage:"}

// cobraSections are cobra's default headings, which kubectl never prints.
var cobraSections = []string{"Flags:", "Global Flags:", "Additional help topics:"}

// kubectlFlag is how kubectl lists a flag: "    -x, --name=default:" (a
// string default in single quotes), the usage on the next line after a tab.
var kubectlFlag = regexp.MustCompile(`^    (-[0-9A-Za-z], )?--[0-9a-z][0-9a-z-]*=.*:$`)

// helpShape lists how the help text out of the command cmdPath differs in
// shape from kubectl's, whose global options are listed by optionsCmd:
//   - it starts with the description, before any section;
//   - the sections present are kubectl's, in kubectl's order, each once, and
//     none of cobra's own ("Flags:", "Global Flags:");
//   - every line of Examples: is indented by (at least) two spaces;
//   - Options: lists every flag as kubectl does (see kubectlFlag), the usage
//     on one tab-indented line, an empty line after each flag;
//   - Usage: is one line, "  <cmdPath> …", ending in "[options]" when the
//     command has options;
//   - it ends with the 'options' hint when the command runs, preceded by the
//     "<command> --help" hint when it has subcommands.
func helpShape(out, cmdPath, optionsCmd string) []string {
	var bad []string
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" || slices.Contains(helpSections, lines[0]) {
		bad = append(bad, "does not start with a description")
	}
	body := map[string][]string{}
	var order []string
	cur := ""
	for _, l := range lines {
		if slices.Contains(cobraSections, l) {
			bad = append(bad, fmt.Sprintf("cobra's section %q, not kubectl's", l))
		}
		if slices.Contains(helpSections, l) {
			if slices.Contains(order, l) {
				bad = append(bad, fmt.Sprintf("section %q twice", l))
			}
			order = append(order, l)
			cur = l
			continue
		}
		if cur != "" {
			body[cur] = append(body[cur], l)
		}
	}
	want := slices.DeleteFunc(slices.Clone(helpSections), func(s string) bool { return !slices.Contains(order, s) })
	if !slices.Equal(order, want) {
		bad = append(bad, fmt.Sprintf("sections in order %q, kubectl's is %q", order, want))
	}
	trim := func(ls []string) []string { // a section ends at its last line before an empty line
		for len(ls) > 0 && strings.TrimSpace(ls[len(ls)-1]) == "" {
			ls = ls[:len(ls)-1]
		}
		return ls
	}
	for _, l := range trim(body["Examples:"]) {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "  ") {
			bad = append(bad, fmt.Sprintf("example line not indented by two spaces: %q", l))
		}
	}
	opts := trim(body["Options:"])
	for i := 0; i < len(opts); i += 3 {
		if !kubectlFlag.MatchString(opts[i]) || strings.Contains(opts[i], "[=") {
			bad = append(bad, fmt.Sprintf("option not listed as kubectl does (    -x, --flag=default:): %q", opts[i]))
			break
		}
		if i+1 >= len(opts) || !strings.HasPrefix(opts[i+1], "\t") || (i+2 < len(opts) && opts[i+2] != "") {
			bad = append(bad, fmt.Sprintf("option %q: usage not on one tab-indented line followed by an empty line", opts[i]))
			break
		}
	}
	// The hints at the end: the last lines starting with `Use "`.
	var tail []string
	for i := len(lines) - 1; i >= 0 && strings.HasPrefix(lines[i], `Use "`); i-- {
		tail = append([]string{lines[i]}, tail...)
	}
	usage := trim(body["Usage:"])
	if len(usage) > 0 {
		if !strings.HasPrefix(usage[0], "  "+cmdPath+" ") && usage[0] != "  "+cmdPath {
			bad = append(bad, fmt.Sprintf("usage line %q does not start with %q", usage[0], "  "+cmdPath))
		}
		if len(opts) > 0 && !strings.HasSuffix(usage[0], "[options]") {
			bad = append(bad, fmt.Sprintf("usage line %q does not end in [options]", usage[0]))
		}
		if len(usage) != 2+len(tail) || usage[1] != "" {
			bad = append(bad, fmt.Sprintf("usage is not one line followed by the hints: %q", usage))
		}
	}
	var wantTail []string
	if slices.Contains(order, "Available Commands:") {
		wantTail = append(wantTail, fmt.Sprintf(`Use "%s <command> --help" for more information about a given command.`, cmdPath))
	}
	if len(usage) > 0 {
		wantTail = append(wantTail, fmt.Sprintf(`Use "%s" for a list of global command-line options (applies to all commands).`, optionsCmd))
	}
	if !slices.Equal(tail, wantTail) {
		bad = append(bad, fmt.Sprintf("ends with %q, kubectl's shape ends with %q", tail, wantTail))
	}
	return bad
}

// subcommands lists the names under "Available Commands:".
func subcommands(out string) []string {
	_, rest, ok := strings.Cut(out, "\nAvailable Commands:\n")
	if !ok {
		return nil
	}
	var names []string
	for _, l := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		names = append(names, strings.Fields(l)[0])
	}
	return names
}

// The checker is kubectl's shape: kubectl's own help passes it.
func TestHelpShapeCheckerAcceptsKubectl(t *testing.T) {
	cp := controlplane.ForTest(t)
	for _, args := range [][]string{{"diff"}, {"get"}, {"config"}, {"config", "view"}, {"rollout"}} {
		r := run(t, cp, nil, kubectl(cp), append(args, "--help")...)
		if r.code != 0 {
			t.Fatalf("kubectl %v --help: exit %d: %s", args, r.code, r.stderr)
		}
		if bad := helpShape(r.stdout, "kubectl "+strings.Join(args, " "), "kubectl options"); len(bad) > 0 {
			t.Errorf("kubectl %v --help:\n  %s", args, strings.Join(bad, "\n  "))
		}
	}
}

// Every verb's --help, every subcommand's too, has kubectl's shape.
func TestHelpShapeLikeKubectl(t *testing.T) {
	cp := controlplane.ForTest(t)
	for _, bin := range []string{"kubectl-gitops-drift", "kubectl-gitops-promote", "kubectl-gitops-tenant", "kubectl-gitops-seal", "kubectl-gitops-repo"} {
		root := strings.ReplaceAll(bin, "-", " ")
		var walk func(args []string)
		walk = func(args []string) {
			path := strings.TrimSpace(root + " " + strings.Join(args, " "))
			r := run(t, cp, []string{binDir}, filepath.Join(binDir, bin), append(slices.Clone(args), "--help")...)
			if r.code != 0 {
				t.Errorf("%s --help: exit %d: %s", path, r.code, r.stderr)
				return
			}
			if bad := helpShape(r.stdout, path, root+" options"); len(bad) > 0 {
				t.Errorf("%s --help differs from kubectl's shape:\n  %s", path, strings.Join(bad, "\n  "))
			}
			for _, sub := range subcommands(r.stdout) {
				if sub != "help" {
					walk(append(slices.Clone(args), sub))
				}
			}
		}
		walk(nil)

		// 'kubectl options' lists the global flags; so does '<plugin> options'.
		r := run(t, cp, []string{binDir}, filepath.Join(binDir, bin), "options")
		first, rest, _ := strings.Cut(r.stdout, "\n\n")
		if r.code != 0 || first != "The following options can be passed to any command:" || !kubectlFlag.MatchString(strings.Split(rest, "\n")[0]) ||
			!strings.Contains(rest, "    --kubeconfig='':\n\t") {
			t.Errorf("%s options: exit %d, want kubectl's 'options' listing:\n%s%s", root, r.code, r.stdout, r.stderr)
		}
	}
}
