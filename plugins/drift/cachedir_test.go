package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// TestCacheDirDeprecated: --cache-dir (kubectl's discovery cache, which the
// plugins do not keep on disk) is still accepted, but warns on stderr that
// it has no effect, and the JSON on stdout stays clean; `options` no
// longer lists it.
func TestCacheDirDeprecated(t *testing.T) {
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := cli.Run(context.Background(), []string{"kubectl-gitops-drift", "--cache-dir", t.TempDir(), "version", "--client", "-o", "json"}, streams, NewCmd)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "Flag --cache-dir has been deprecated, it has no effect") {
		t.Errorf("no deprecation warning on stderr:\n%s", errOut.String())
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Errorf("stdout is not JSON: %v\n%s", err, out.String())
	}

	out.Reset()
	errOut.Reset()
	if code := cli.Run(context.Background(), []string{"kubectl-gitops-drift", "options"}, streams, NewCmd); code != cli.ExitOK {
		t.Fatalf("options: exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), "cache-dir") {
		t.Errorf("options lists --cache-dir:\n%s", out.String())
	}
}
