package drift

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
	"github.com/kubectl-gitops/kubectl-gitops/test/controlplane"
)

// writeRecorder is standard output, recording the largest single write.
type writeRecorder struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	largest int
	writes  int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.largest = max(w.largest, len(p))
	w.writes++
	return w.buf.Write(p)
}

// TestReportWrittenObjectByObject pins the memory shape of writing a large
// report (issue 17.2) on the real API server, from outside: with -o json
// and -o yaml, in every mode, the report of 1,600 objects (330 to 530 KB)
// reaches standard output in pieces of at most 96 KiB (the writer's 64 KiB
// buffer, or one object), so the document is never encoded whole in memory
// first (before, one write of all of it); so does -o markdown with 1,600
// drifted objects and their diffs. The bytes are those of the document
// encoded whole (TestWriteReportBytesAsWholeDocument checks the encoding
// itself).
func TestReportWrittenObjectByObject(t *testing.T) {
	cp := controlplane.ForTest(t)
	const ns, n = "stream-out", 1600
	kubectl(t, cp, "", "create", "namespace", ns)
	var git strings.Builder
	for i := range n {
		fmt.Fprintf(&git, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%04d, namespace: %s}\ndata: {i: %q, text: \"a value long enough to make the report large\"}\n", i, ns, fmt.Sprint(i))
	}
	kubectl(t, cp, git.String(), "apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-")
	kubectl(t, cp, "", "patch", "-n", ns, "configmap", "cm-0007", "--type=merge", "-p", `{"data":{"i":"changed"}}`)
	dir := writeFiles(t, map[string]string{"cms.yaml": git.String()})
	// -o markdown shows the drifted objects only, each with its diff: Git
	// changes every object there.
	drifted := writeFiles(t, map[string]string{"cms.yaml": strings.ReplaceAll(git.String(), "text: ", "text: changed ")})

	for _, mode := range []string{"local", "hybrid", "server"} {
		for _, format := range []string{"json", "yaml", "markdown"} {
			t.Run(mode+"/"+format, func(t *testing.T) {
				out, errOut := &writeRecorder{}, &bytes.Buffer{}
				files := dir
				if format == "markdown" {
					files = drifted
				}
				argv := []string{"kubectl-gitops-drift", "--kubeconfig", cp.Kubeconfig, "--mode", mode, "-f", files, "-o", format}
				code := cli.Run(t.Context(), argv, genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, NewCmd)
				if code != cli.ExitFindings {
					t.Fatalf("exit %d, want %d (drift); stderr:\n%s", code, cli.ExitFindings, errOut)
				}
				report := out.buf.String()
				each := "cm-" // once per object in JSON and YAML
				if format == "markdown" {
					each = "<details>" // once per drifted object
				}
				if c := strings.Count(report, each); c != n {
					t.Fatalf("%d objects in the report, want %d:\n%.2000s", c, n, report)
				}
				if out.buf.Len() < 256<<10 {
					t.Fatalf("report of %d bytes: too small to tell", out.buf.Len())
				}
				if out.largest > 96<<10 {
					t.Errorf("-o %s: largest write %d bytes of a %d-byte report (%d writes): the document is held whole before it is written",
						format, out.largest, out.buf.Len(), out.writes)
				}
			})
		}
	}
}
