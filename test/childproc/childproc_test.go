package childproc

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOutputErrorCarriesStderr: a failing tool says why on stderr; the
// error must show it (exec.Cmd.Output's "exit status 1" does not), and
// stdout stays only what the tool printed there, for the caller to parse.
func TestOutputErrorCarriesStderr(t *testing.T) {
	out, err := Output(exec.Command("sh", "-c", "echo '{\"digest\":\"\"}'; echo 'the-reason-7f3a' >&2; exit 3"))
	if err == nil {
		t.Fatal("no error from a command that exited 3")
	}
	for _, want := range []string{"the-reason-7f3a", "exit status 3", `{"digest":""}`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(string(out), "the-reason-7f3a") {
		t.Errorf("stdout %q has stderr mixed in", out)
	}

	out, err = Output(exec.Command("sh", "-c", "echo ok; echo noise >&2"))
	if err != nil || string(out) != "ok\n" {
		t.Errorf("Output = %q, %v; want \"ok\\n\", nil", out, err)
	}
}
