package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml"
)

func TestOutputFlagValidate(t *testing.T) {
	const canary = "canary-s3cr3t-7f3a"
	tests := []struct {
		name    string
		flag    OutputFlag
		wantErr string
	}{
		{"allowed", NewOutputFlag("diff", "diff", "json"), ""},
		{"unnamed default", NewOutputFlag("", "", "json", "yaml"), ""},
		{"unknown", OutputFlag{Format: "xml", Allowed: []string{"yaml", "json", "name"}},
			`unable to match a printer suitable for the output format "x…", allowed formats are: json,name,yaml`},
		{"unnamed default not listed", OutputFlag{Format: "table", Allowed: []string{"", "wide", "json"}},
			`unable to match a printer suitable for the output format "ta…", allowed formats are: json,wide`},
		{"a secret typed as the format", OutputFlag{Format: canary, Allowed: []string{"json"}},
			`unable to match a printer suitable for the output format "cana…", allowed formats are: json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.flag.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var usage *UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("Validate() = %v, want a usage error", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("Validate() = %q, want %q", err.Error(), tt.wantErr)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the format is quoted whole: %q", err.Error())
			}
		})
	}
}

// TestOutputErrorAsKubectl: the wording is cli-runtime's own
// NoCompatiblePrinterError's for a value that masking leaves as it is.
func TestOutputErrorAsKubectl(t *testing.T) {
	format := ""
	want := genericclioptions.NoCompatiblePrinterError{OutputFormat: &format, AllowedFormats: []string{"yaml", "json"}}.Error()
	got := ValidateOutput(format, "yaml", "json")
	if got == nil || got.Error() != want {
		t.Errorf("ValidateOutput = %v, want %q", got, want)
	}
}

func TestOutputFlagCompletion(t *testing.T) {
	cmd := &cobra.Command{Use: "x", Run: func(*cobra.Command, []string) {}}
	root := &cobra.Command{Use: "root"}
	root.AddCommand(cmd)
	o := NewOutputFlag("", "", "wide", "json")
	o.AddFlag(cmd, cmd.Flags(), "Output format")
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"__complete", "x", "-o", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "wide\njson\n:4\n"; !strings.HasPrefix(got, want) {
		t.Errorf("completion = %q, want prefix %q", got, want)
	}
}

type doc struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Text       string            `json:"text"`
	Labels     map[string]string `json:"labels,omitempty"`
	Items      []int             `json:"items"`
}

var sample = doc{APIVersion: "gitops/v1", Kind: "Report", Text: "a <b> & \"c\"\nline: two", Labels: map[string]string{"z": "1", "a": "yes"}, Items: []int{1, 2}}

// TestWriteDataAsBefore: the bytes every plugin wrote with its own
// json.Encoder (two-space indent) and sigs.k8s.io/yaml, so every golden
// file stays as it is.
func TestWriteDataAsBefore(t *testing.T) {
	var wantJSON bytes.Buffer
	enc := json.NewEncoder(&wantJSON)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sample); err != nil {
		t.Fatal(err)
	}
	wantYAML, err := yaml.Marshal(sample)
	if err != nil {
		t.Fatal(err)
	}
	for format, want := range map[string]string{FormatJSON: wantJSON.String(), FormatYAML: string(wantYAML)} {
		var got bytes.Buffer
		if err := WriteData(&got, format, sample); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.String()); diff != "" {
			t.Errorf("-o %s (-want +got):\n%s", format, diff)
		}
	}
	if err := WriteData(&bytes.Buffer{}, "xml", sample); err == nil {
		t.Error("WriteData(xml) = nil, want an error")
	}
}

// TestJSONPrinterIndentsByFour pins why WriteData does not use
// cli-runtime's JSONPrinter: it indents by four spaces, the suite's
// documents by two.
func TestJSONPrinterIndentsByFour(t *testing.T) {
	raw, err := json.Marshal(sample)
	if err != nil {
		t.Fatal(err)
	}
	var printed, ours bytes.Buffer
	if err := (&printers.JSONPrinter{}).PrintObj(&runtime.Unknown{Raw: raw}, &printed); err != nil {
		t.Fatal(err)
	}
	if err := WriteData(&ours, FormatJSON, sample); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(printed.String(), "\n    \"apiVersion\"") || printed.String() == ours.String() {
		t.Errorf("JSONPrinter now prints as WriteData does; consider using it:\n%s", printed.String())
	}
}

type lifecycleProbe struct {
	calls                 []string
	failComplete, failVal bool
	completeArgs          []string
	completeCtx, runCtx   context.Context
}

func (p *lifecycleProbe) Complete(ctx context.Context, _ *cobra.Command, args []string) error {
	p.calls, p.completeCtx, p.completeArgs = append(p.calls, "complete"), ctx, args
	if p.failComplete {
		return errors.New("complete failed")
	}
	return nil
}

func (p *lifecycleProbe) Validate() error {
	p.calls = append(p.calls, "validate")
	if p.failVal {
		return Usagef("bad flags")
	}
	return nil
}

func (p *lifecycleProbe) Run(ctx context.Context) error {
	p.calls, p.runCtx = append(p.calls, "run"), ctx
	return nil
}

func TestRunE(t *testing.T) {
	type key struct{}
	tests := []struct {
		name  string
		probe *lifecycleProbe
		want  []string
	}{
		{"all three in order", &lifecycleProbe{}, []string{"complete", "validate", "run"}},
		{"complete fails", &lifecycleProbe{failComplete: true}, []string{"complete"}},
		{"validate fails", &lifecycleProbe{failVal: true}, []string{"complete", "validate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.WithValue(context.Background(), key{}, "v")
			cmd := &cobra.Command{Use: "x", RunE: RunE(tt.probe)}
			cmd.SetArgs([]string{"a", "b"})
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.ExecuteContext(ctx)
			if (err != nil) != (len(tt.want) < 3) {
				t.Errorf("err = %v", err)
			}
			if diff := cmp.Diff(tt.want, tt.probe.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"a", "b"}, tt.probe.completeArgs); diff != "" {
				t.Errorf("Complete's args (-want +got):\n%s", diff)
			}
			if tt.probe.completeCtx.Value(key{}) != "v" || (tt.probe.runCtx != nil && tt.probe.runCtx.Value(key{}) != "v") {
				t.Error("Complete and Run do not get the command's context")
			}
		})
	}
}

// TestOutputFlagAllowIn: a persistent -o whose subcommand prints one more
// format completes it there only.
func TestOutputFlagAllowIn(t *testing.T) {
	root := &cobra.Command{Use: "root"}
	status := &cobra.Command{Use: "status", Run: func(*cobra.Command, []string) {}}
	history := &cobra.Command{Use: "history", Run: func(*cobra.Command, []string) {}}
	root.AddCommand(status, history)
	o := NewOutputFlag("text", "text", "json")
	o.AddFlag(root, root.PersistentFlags(), "Output format")
	o.AllowIn(status, "text", "wide", "json")
	for _, tt := range []struct {
		sub  *cobra.Command
		want string
	}{{status, "text\nwide\njson\n:4\n"}, {history, "text\njson\n:4\n"}} {
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"__complete", tt.sub.Name(), "-o", ""})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), tt.want) {
			t.Errorf("%s: completion = %q, want prefix %q", tt.sub.Name(), out.String(), tt.want)
		}
	}
}
