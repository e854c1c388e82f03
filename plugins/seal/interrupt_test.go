package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigSecrets is a multi-document input of n Secrets with keys values each,
// every value holding the canary.
func bigSecrets(n, keys int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: prod\ndata:\n", i)
		for k := range keys {
			fmt.Fprintf(&b, "  k%d: %s\n", k, base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s-%d-%d", canary, i, k)))
		}
	}
	return b.Bytes()
}

// TestSealInterruptedBySIGINT runs the real binary on a large input and
// sends SIGINT while it works: it exits 130 saying it was interrupted,
// writes nothing (no output file, no temporary file) and prints no value.
// Before, it ignored the signal, sealed everything and exited 0.
func TestSealInterruptedBySIGINT(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGINT")
	}
	bin := filepath.Join(t.TempDir(), "kubectl-gitops-seal")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/kubectl-gitops-seal").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f := newFixture(t)
	// 100,000 values: tens of seconds of RSA work on one core, far more
	// than the moment before the signal.
	big := bigSecrets(5000, 20)

	tests := []struct {
		name    string
		args    func(dir string) []string
		stdin   bool
		holdIn  bool // keep stdin open: the signal comes while reading
		sigWait time.Duration
	}{
		{name: "large file", args: func(dir string) []string {
			return []string{"-f", writeTestFile(t, dir, "big.yaml", big), "--cert", f.cert, "--output-file", filepath.Join(dir, "out.yaml")}
		}, sigWait: 500 * time.Millisecond},
		{name: "large file in place", args: func(dir string) []string {
			return []string{"-f", writeTestFile(t, dir, "big.yaml", big), "--cert", f.cert, "-i"}
		}, sigWait: 500 * time.Millisecond},
		{name: "stdin still open", args: func(dir string) []string {
			return []string{"-f", "-", "--cert", f.cert, "--output-file", filepath.Join(dir, "out.yaml")}
		}, stdin: true, holdIn: true, sigWait: 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"--kubeconfig", os.DevNull}, tt.args(dir)...)
			cmd := exec.Command(bin, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			var in io.WriteCloser
			if tt.stdin {
				var err error
				if in, err = cmd.StdinPipe(); err != nil {
					t.Fatal(err)
				}
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if in != nil {
				if _, err := in.Write(big); err != nil {
					t.Fatal(err)
				}
				if !tt.holdIn {
					_ = in.Close()
				}
			}
			time.Sleep(tt.sigWait)
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatalf("the command ended before the signal (%v): the input is too small for this machine", err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("still running 60 s after SIGINT (then killed: %v); stderr %q", <-done, stderr.String())
			}
			if in != nil {
				_ = in.Close()
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 {
				t.Errorf("exit %v, want 130", err)
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr %q: want the interruption reported", stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("%d bytes on stdout", stdout.Len())
			}
			if strings.Contains(stdout.String()+stderr.String(), canary) {
				t.Error("the canary leaked")
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "big.yaml" {
					t.Errorf("%s written by an interrupted command", e.Name())
				}
			}
			if b, err := os.ReadFile(filepath.Join(dir, "big.yaml")); err == nil && !bytes.Equal(b, big) {
				t.Error("the input changed")
			}
		})
	}
}
