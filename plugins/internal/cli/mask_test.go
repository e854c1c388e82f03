package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestUsageErrorsShowNoValues: a value typed in the wrong place on the
// command line — a stray space after `--from-literal password=`, a bad
// boolean, number or duration, letters after an unknown shorthand — is
// quoted in the usage error with at most a short masked prefix, whichever
// verb it is given to (Run rewrites cobra's and pflag's messages).
func TestUsageErrorsShowNoValues(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	newCmd := func(*Env) *cobra.Command {
		root := &cobra.Command{Use: "seal"}
		root.PersistentFlags().Bool("adopt", false, "")
		var literals []string
		create := &cobra.Command{Use: "create NAME", Args: cobra.ExactArgs(1), RunE: func(*cobra.Command, []string) error { return nil }}
		create.Flags().StringArrayVar(&literals, "from-literal", nil, "")
		create.Flags().Int("count", 0, "")
		create.Flags().Duration("interval", time.Second, "")
		create.Flags().StringP("password-file", "p", "", "")
		pick := &cobra.Command{Use: "pick", ValidArgs: []string{"a", "b"}, Args: cobra.OnlyValidArgs, RunE: func(*cobra.Command, []string) error { return nil }}
		root.AddCommand(create, pick)
		return root
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"stray space as a command", []string{canary}, `error: unknown command "cana…" for "kubectl gitops seal"`},
		{"stray space as an argument", []string{"create", "x", "--from-literal", "password=", canary}, "error: accepts 1 arg(s), received 2"},
		{"invalid argument", []string{"pick", canary}, `error: invalid argument "cana…" for "kubectl gitops seal pick"`},
		{"bad boolean", []string{"create", "x", "--adopt=" + canary}, `error: invalid argument "cana…" for "--adopt" flag: must be true or false`},
		{"bad number", []string{"create", "x", "--count", canary}, `error: invalid argument "cana…" for "--count" flag: must be an integer`},
		{"bad duration", []string{"create", "x", "--interval=" + canary}, `error: invalid argument "cana…" for "--interval" flag: must be a duration like "30s" or "5m"`},
		{"unknown shorthand", []string{"create", "x", "-q" + canary}, `error: unknown shorthand flag: 'q' in "-qca…"`},
		{"bad flag syntax", []string{"create", "x", "---" + canary}, `error: bad flag syntax: "---c…"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
			code := Run(context.Background(), append([]string{"kubectl-gitops-seal"}, tt.args...), streams, newCmd)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if strings.Contains(out.String()+errOut.String(), "canary") {
				t.Errorf("the value is printed:\n%s%s", out.String(), errOut.String())
			}
			if first, _, _ := strings.Cut(errOut.String(), "\n"); first != tt.want {
				t.Errorf("stderr:\n%s\nwant first line %s", errOut.String(), tt.want)
			}
		})
	}
}
