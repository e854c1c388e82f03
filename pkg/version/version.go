package version

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
)

// Stamped at link time, e.g.
//
//	-ldflags "-X github.com/kubectl-gitops/kubectl-gitops/pkg/version.version=v0.1.0"
var (
	version   = ""
	gitCommit = ""
	buildDate = ""
)

// Info is the build identity of a binary.
type Info struct {
	Version   string `json:"version"`
	GitCommit string `json:"gitCommit"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the stamped build identity. Fields that were not stamped fall
// back to what the Go toolchain recorded (module version, VCS revision), and
// finally to "dev" / "unknown".
func Get() Info {
	info := Info{
		Version:   version,
		GitCommit: gitCommit,
		BuildDate: buildDate,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.GitCommit == "" {
					info.GitCommit = s.Value
				}
			case "vcs.time":
				if info.BuildDate == "" {
					info.BuildDate = s.Value
				}
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.GitCommit == "" {
		info.GitCommit = "unknown"
	}
	if info.BuildDate == "" {
		info.BuildDate = "unknown"
	}
	return info
}

// Formats accepted by Report.Write.
const (
	FormatText = ""
	FormatJSON = "json"
	FormatYAML = "yaml"
)

// Server is the part of the API server's version the version commands show.
type Server struct {
	GitVersion string `json:"gitVersion"`
	GoVersion  string `json:"goVersion"`
	Platform   string `json:"platform"`
}

// Report is what `version` prints: the client build and, when asked for, the
// server's version. Its JSON shape follows `kubectl version -o json`.
type Report struct {
	ClientVersion Info    `json:"clientVersion"`
	ServerVersion *Server `json:"serverVersion,omitempty"`
}

// Write renders the report for a binary called name in the given format.
func (r Report) Write(w io.Writer, name, format string) error {
	i := r.ClientVersion
	switch format {
	case FormatText:
		if _, err := fmt.Fprintf(w, "%s version %s (commit %s, built %s, %s, %s)\n",
			name, i.Version, i.GitCommit, i.BuildDate, i.GoVersion, i.Platform); err != nil {
			return err
		}
		if s := r.ServerVersion; s != nil {
			_, err := fmt.Fprintf(w, "Server Version: %s\n", s.GitVersion)
			return err
		}
		return nil
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatYAML:
		// Flat maps of strings: quoting each value keeps it valid YAML
		// without pulling a YAML library into the dispatcher.
		q := strconv.Quote
		if _, err := fmt.Fprintf(w, "clientVersion:\n  version: %s\n  gitCommit: %s\n  buildDate: %s\n  goVersion: %s\n  platform: %s\n",
			q(i.Version), q(i.GitCommit), q(i.BuildDate), q(i.GoVersion), q(i.Platform)); err != nil {
			return err
		}
		if s := r.ServerVersion; s != nil {
			_, err := fmt.Fprintf(w, "serverVersion:\n  gitVersion: %s\n  goVersion: %s\n  platform: %s\n",
				q(s.GitVersion), q(s.GoVersion), q(s.Platform))
			return err
		}
		return nil
	default:
		return fmt.Errorf("unknown output format %q (want json or yaml)", format)
	}
}
