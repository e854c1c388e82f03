package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster/lite"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/version"
)

// Setup turns a plugin's root command into a kubectl plugin: display name
// from argv[0], kubeconfig flags, the version and completion subcommands,
// usage errors for flag mistakes, and silence (Run prints errors itself).
// The returned flag becomes true once any command's Run starts, so errors
// raised by cobra before that are known to be usage errors.
func Setup(root *cobra.Command, env *Env) *bool {
	_, args, _ := strings.Cut(root.Use, " ")
	root.Use = strings.TrimSpace(env.Binary + " " + args)
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = env.Name
	root.SilenceUsage = true
	root.SilenceErrors = true
	root.SetIn(env.Streams.In)
	root.SetOut(env.Streams.Out)
	root.SetErr(env.Streams.ErrOut)
	// A plugin's own flag error function (one that masks values, say) runs
	// first; the result is a usage error either way.
	prev := root.FlagErrorFunc()
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		err = prev(c, err)
		var usage *UsageError
		if errors.As(err, &usage) {
			return err
		}
		return &UsageError{Err: maskFlagError(err)}
	})

	env.ConfigFlags.AddFlags(root.PersistentFlags())
	registerKubeconfigCompletion(root, env)

	root.AddCommand(newVersionCmd(env))
	root.CompletionOptions.HiddenDefaultCmd = false
	useKubectlHelp(root)

	ran := new(bool)
	markRuns(root, ran)
	warnToStderr(root, env.Streams.ErrOut)
	return ran
}

// warnToStderr sends pflag's warnings (a deprecated flag used) to stderr:
// cobra would print them on standard output, into a JSON report.
func warnToStderr(c *cobra.Command, w io.Writer) {
	c.Flags().SetOutput(w)
	for _, sub := range c.Commands() {
		warnToStderr(sub, w)
	}
}

// markRuns wraps every command's Run/RunE so that *ran is set when one starts.
func markRuns(c *cobra.Command, ran *bool) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*ran = true
			return run(cmd, args)
		}
	} else if run := c.Run; run != nil {
		c.Run = nil
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*ran = true
			run(cmd, args)
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markRuns(sub, ran)
	}
}

func newVersionCmd(env *Env) *cobra.Command {
	output := NewOutputFlag(version.FormatText, version.FormatText, version.FormatJSON, version.FormatYAML)
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of this plugin and of the API server",
		Long: `Print the version of this plugin and, unless --client is given, of the API server
of the current context (like 'kubectl version').`,
		Example: fmt.Sprintf(`  %[1]s version --client
  %[1]s version -o json
  %[1]s version --context prod`, env.Name),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.Validate(); err != nil {
				return err
			}
			report := version.Report{ClientVersion: version.Get()}
			var serverErr error
			if !clientOnly {
				report.ServerVersion, serverErr = serverVersion(cmd.Context(), env)
			}
			if err := report.Write(env.Streams.Out, env.Name, output.Format); err != nil {
				return err
			}
			return serverErr
		},
	}
	output.AddFlag(cmd, cmd.Flags(), "Output format: json or yaml (default: text)")
	cmd.Flags().BoolVar(&clientOnly, "client", false, "Print the plugin's version only; do not contact the API server")
	return cmd
}

// Client builds a client for the kubeconfig flags' context through
// pkg/cluster/lite, so that it follows the suite's one client policy
// (no client-side rate limit, --request-timeout as the per-request
// timeout) and links no discovery or typed clientset: every plugin's
// start-up pays for what this package links (seal is called once per
// Secret from scripts).
func (env *Env) Client() (*lite.Client, error) {
	cfg, err := env.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return lite.New(cfg)
}

func serverVersion(ctx context.Context, env *Env) (*version.Server, error) {
	cl, err := env.Client()
	if err != nil {
		return nil, err
	}
	// Under ctx: Ctrl-C leaves a hung API server at once.
	sv, err := cl.ServerVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("getting server version: %w", err)
	}
	return &version.Server{GitVersion: sv.GitVersion, GoVersion: sv.GoVersion, Platform: sv.Platform}, nil
}

// namespaces is the core v1 Namespace resource, served by every API server
// (not discovered).
var namespaces = &meta.RESTMapping{Resource: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, Scope: meta.RESTScopeRoot}

// registerKubeconfigCompletion completes --context, --cluster and --user from
// the kubeconfig, and --namespace from the API server.
func registerKubeconfigCompletion(root *cobra.Command, env *Env) {
	fromConfig := func(pick func(names *kubeconfigNames) []string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			raw, err := env.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			names := &kubeconfigNames{}
			for n := range raw.Contexts {
				names.contexts = append(names.contexts, n)
			}
			for n := range raw.Clusters {
				names.clusters = append(names.clusters, n)
			}
			for n := range raw.AuthInfos {
				names.users = append(names.users, n)
			}
			out := pick(names)
			sort.Strings(out)
			return out, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = root.RegisterFlagCompletionFunc("context", fromConfig(func(n *kubeconfigNames) []string { return n.contexts }))
	_ = root.RegisterFlagCompletionFunc("cluster", fromConfig(func(n *kubeconfigNames) []string { return n.clusters }))
	_ = root.RegisterFlagCompletionFunc("user", fromConfig(func(n *kubeconfigNames) []string { return n.users }))
	_ = root.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cl, err := env.Client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err := cl.Resource(namespaces, "").List(cmd.Context(), metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out := make([]string, 0, len(list.Items))
		for _, ns := range list.Items {
			out = append(out, ns.GetName())
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

type kubeconfigNames struct {
	contexts, clusters, users []string
}
