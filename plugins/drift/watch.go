package drift

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/driftwatch"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/remediate"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// Watch defaults and limits.
const (
	defaultWatchInterval = 5 * time.Minute
	minWatchInterval     = 10 * time.Second
	// defaultListenAddress serves on the loopback interface only: a terminal
	// should not expose metrics to the network. In a pod, use :9090.
	defaultListenAddress = "127.0.0.1:9090"
	// watchSourceName names the -f/-k desired state in metrics and events.
	watchSourceName = sourceFiles
)

var logFormats = []string{"text", "json"}

// watchOptions are the options of `drift watch`. The desired-state flags
// are the drift command's own: its Options are shared.
type watchOptions struct {
	*Options

	Interval      time.Duration
	CheckTimeout  time.Duration
	ListenAddress string
	Events        bool
	LogFormat     string

	// listening, when set, is told the metrics server's address (tests).
	listening func(net.Addr)
}

// watchSharesFlag says whether one of drift's own flags applies to watch too:
// all of them but the output ones (watch reports through metrics, events
// and logs, which never carry values), --adopt (it edits files) and the
// fleet flags (one watch per cluster).
func watchSharesFlag(name string) bool {
	switch name {
	case "output", "exit-code", "list-ignore-rules", "show-secrets",
		"adopt",
		"contexts", "all-contexts", "context-timeout", "parallel",
		"comment-on-pr", "comment-key", "forge-remote", "forge-type", "forge-url", "trust-forge-host", "allow-http-forge":
		return false
	}
	return true
}

// newWatchCmd builds `drift watch`. It shares parent's flags as they are
// when it is called, so NewCmd adds it after registering them all.
func newWatchCmd(parent *cobra.Command, o *Options) *cobra.Command {
	w := &watchOptions{Options: o, Interval: defaultWatchInterval, ListenAddress: defaultListenAddress, Events: true, LogFormat: "text"}
	cmd := &cobra.Command{
		Use:   "watch (-f FILENAME | -k DIRECTORY | --repo URL | --argocd-app NAME | --flux-kustomization NAME | --all-argocd-apps | --all-flux)",
		Short: "Check for drift continuously, with Prometheus metrics and Kubernetes Events",
		Long: `Check for drift immediately and then every --interval, until interrupted (SIGINT, SIGTERM).

Each check compares the desired state with the cluster as 'drift' does (the same flags) and:
  - updates the Prometheus metrics served on --listen-address at /metrics (drifted objects
    by source, kind, namespace, status and who changed them; last success; duration; errors);
  - records a Kubernetes Event when an object starts drifting (Warning DriftDetected, naming the
    fields and who changed them) and when it matches Git again (Normal DriftResolved), unless
    --events=false;
  - logs one line on stderr (--log-format json for log collectors);
  - with --fix and/or --prune (and --yes: watch never asks), applies Git's state to the drifted
    objects and deletes the extraneous ones, as 'drift --fix --prune' does; fields people
    changed are taken over only with --force-conflicts.

/healthz answers 200 while checks succeed, 503 when the last 3 checks failed or none succeeded
for 3 intervals; /readyz answers 200 once the first check completed. Run it in a cluster with
the manifests under deploy/ (see docs/drift.md, "Deploying in-cluster").

Exit status: 0 when stopped by a signal; 2 when it cannot start (bad flags, port in use).`,
		Example: fmt.Sprintf(`  # Watch ./deploy every 5 minutes; metrics on http://127.0.0.1:9090/metrics
  %[1]s watch -f ./deploy -R

  # Every minute, read-only, JSON logs, metrics on every interface (in a pod)
  %[1]s watch -k overlays/prod --mode=local --interval 1m --log-format json --listen-address :9090

  # What Argo CD and Flux declare, and a Git revision (cloned again at every check)
  %[1]s watch --all-argocd-apps --all-flux
  %[1]s watch --repo https://github.com/org/fleet.git --revision main --path apps/web

  # A remediation loop: revert drift and delete extraneous objects after each check
  %[1]s watch -f ./deploy -R --fix --prune --yes`, o.env.Name),
		Args: cobra.NoArgs,
		RunE: cli.RunE(w),
	}
	parent.Flags().VisitAll(func(f *pflag.Flag) {
		if watchSharesFlag(f.Name) {
			cmd.Flags().AddFlag(f)
		}
	})
	f := cmd.Flags()
	f.DurationVar(&w.Interval, "interval", w.Interval, "Time between the starts of two checks (at least "+minWatchInterval.String()+"); a slow check delays the next")
	f.DurationVar(&w.CheckTimeout, "check-timeout", 0, "Time allowed for one check before it fails and the loop goes on (default: three intervals)")
	f.StringVar(&w.ListenAddress, "listen-address", w.ListenAddress, "Address to serve /metrics, /healthz and /readyz on (:9090 for every interface, as in a pod)")
	f.BoolVar(&w.Events, "events", w.Events, "Record a Kubernetes Event when an object starts or stops drifting")
	f.StringVar(&w.LogFormat, "log-format", w.LogFormat, "Log format on stderr: "+strings.Join(logFormats, " or "))
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions(logFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Validate checks drift's flags and watch's own.
func (w *watchOptions) Validate() error {
	if err := w.Options.Validate(); err != nil {
		return err
	}
	for _, f := range w.Filenames {
		if f == "-" {
			return cli.Usagef("-f - cannot be used with watch: the manifests are read again at every check")
		}
	}
	if w.CheckTimeout < 0 {
		return cli.Usagef("--check-timeout must not be negative")
	}
	if w.Interval < minWatchInterval {
		return cli.Usagef("--interval must be at least %s, not %s", minWatchInterval, w.Interval)
	}
	if _, _, err := net.SplitHostPort(w.ListenAddress); err != nil {
		return cli.Usagef("invalid --listen-address %q: %v", w.ListenAddress, err)
	}
	if (w.Fix || w.Prune) && !w.Yes {
		return cli.Usagef("drift watch --fix/--prune remediates without asking: pass --yes to confirm that policy")
	}
	if w.LogFormat != "text" && w.LogFormat != "json" {
		return cli.Usagef("--log-format must be text or json, not %q", w.LogFormat)
	}
	return nil
}

// Run serves the metrics and runs the checks until ctx is done; then it
// shuts the server down and returns nil.
func (w *watchOptions) Run(ctx context.Context) error {
	logger := newLogger(w.Streams.ErrOut, w.LogFormat)
	// Warnings the loaders print (skipped files…) become log lines.
	w.Streams.ErrOut = &logWriter{log: logger}

	client, err := w.newClient(w.env.ConfigFlags)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := driftwatch.Config{
		Interval: w.Interval,
		Check:    w.check(client, logger),
		Registry: reg,
		Logger:   logger,
	}
	if w.Fix || w.Prune {
		cfg.Fix = w.remediation(client, logger)
	}
	if w.Events {
		cfg.Recorder = &driftwatch.KubeEvents{Client: client, Reader: client, Instance: reportingInstance()}
	}
	ln, err := net.Listen("tcp", w.ListenAddress)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", w.ListenAddress, err)
	}
	cfg.Listener = ln
	watcher, err := driftwatch.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("watching", "interval", w.Interval.String(), "mode", w.Mode, "events", w.Events,
		"metrics", "http://"+ln.Addr().String()+"/metrics")
	if w.listening != nil {
		w.listening(ln.Addr())
	}
	if err := watcher.Run(ctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// check returns the check the loop runs: every source read again (a fresh
// clone for Git sources) and compared with the cluster. Warnings and notes
// are logged once each.
func (w *watchOptions) check(client *cluster.Client, logger *slog.Logger) func(context.Context) ([]driftwatch.SourceResult, error) {
	said := map[string]bool{}
	once := func(level slog.Level, source, msg string) {
		if key := source + "\x00" + msg; !said[key] {
			said[key] = true
			logger.Log(context.Background(), level, msg, "source", source)
		}
	}
	return func(ctx context.Context) ([]driftwatch.SourceResult, error) {
		cctx, cancel := context.WithTimeout(ctx, w.checkTimeout())
		defer cancel()
		reports, err := w.checkAll(cctx, client)
		if err != nil && ctx.Err() == nil && cctx.Err() != nil {
			err = fmt.Errorf("check did not finish within --check-timeout %s: %w", w.checkTimeout(), err)
		}
		if err != nil {
			if ctx.Err() == nil && !w.sourceMode() {
				// -f/-k: the only source failed (bad manifests, cluster unreachable).
				return []driftwatch.SourceResult{{Source: watchSourceName, Err: err}}, nil
			}
			return nil, err
		}
		defer cleanupReports(reports)
		out := make([]driftwatch.SourceResult, 0, len(reports))
		for _, r := range reports {
			name := r.Source.Name
			if name == "" {
				name = watchSourceName
			}
			for _, msg := range r.Source.Warnings {
				once(slog.LevelWarn, name, msg)
			}
			if r.Report != nil {
				for _, msg := range r.Report.Warnings {
					once(slog.LevelWarn, name, msg)
				}
			}
			if r.Err == nil && r.Report == nil {
				// Skipped (e.g. reconcile disabled): not checked, no series.
				if r.Source.Skip != "" {
					once(slog.LevelInfo, name, "skipped: "+r.Source.Skip)
				}
				continue
			}
			out = append(out, driftwatch.SourceResult{Source: name, Report: r.Report, Desired: r.Source.Desired, Err: r.Err})
		}
		return out, nil
	}
}

func newLogger(out io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(out, nil))
	}
	return slog.New(slog.NewTextHandler(out, nil))
}

// reportingInstance names this process in events: the pod's name in a
// cluster (its host name).
func reportingInstance() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return driftwatch.ReportingController
}

// logWriter turns the lines written to it into warning log lines.
type logWriter struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimPrefix(strings.TrimSpace(string(l.buf[:i])), "warning: ")
		l.buf = l.buf[i+1:]
		if line != "" {
			l.log.Warn(line)
		}
	}
}

// remediation is the --fix/--prune policy of watch: after each check with
// drift, apply Git's state to the drifted objects and/or delete the
// extraneous ones, logging one line per object acted on.
func (w *watchOptions) remediation(client *cluster.Client, logger *slog.Logger) driftwatch.FixFunc {
	return func(ctx context.Context, r driftwatch.SourceResult) (driftwatch.FixResult, error) {
		var outcomes []remediate.Outcome
		if w.Fix && remediate.ToFix(r.Report) > 0 {
			out, err := remediate.Fix(ctx, client, r.Report, r.Desired, remediate.Options{ForceConflicts: w.ForceConflicts, Concurrency: w.Concurrency})
			outcomes = append(outcomes, out...)
			if err != nil {
				return driftwatch.FixFailed, err
			}
		}
		if w.Prune && remediate.ToPrune(r.Report) > 0 {
			// Never asks, so never confirms: Argo CD's Prune=confirm
			// objects stay.
			out, err := remediate.Prune(ctx, client, r.Report, remediate.Options{})
			outcomes = append(outcomes, out...)
			if err != nil {
				return driftwatch.FixFailed, err
			}
		}
		if len(outcomes) == 0 {
			return driftwatch.FixSkipped, nil
		}
		failed := 0
		for i := range outcomes {
			o := &outcomes[i]
			logger.Info("remediation", "source", r.Source, "object", o.ID(), "action", string(o.Action), "message", o.Message)
			if o.Failed() {
				failed++
			}
		}
		if failed > 0 {
			return driftwatch.FixFailed, fmt.Errorf("%d of %d objects could not be remediated", failed, len(outcomes))
		}
		return driftwatch.FixApplied, nil
	}
}

// checkTimeout bounds one check (a Git server or cluster that never answers
// must not stall the loop): --check-timeout, by default three intervals.
func (w *watchOptions) checkTimeout() time.Duration {
	if w.CheckTimeout > 0 {
		return w.CheckTimeout
	}
	return 3 * w.Interval
}
