package seal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/redact"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/safefile"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/sealing"
	"github.com/kubectl-gitops/kubectl-gitops/plugins/internal/cli"
)

// maxInput bounds what is read from one file or stdin.
const maxInput = 64 << 20

// readInput reads a file, or stdin for "-". Input over maxInput is an
// error, never truncated: a cut file must not be encrypted in place. The
// end of ctx (Ctrl-C) stops a read that waits on stdin.
func readInput(ctx context.Context, path string, stdin io.Reader) ([]byte, error) {
	name, r := "stdin", stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reading %w", pathErr(err))
		}
		defer f.Close()
		name, r = path, f
	}
	b, err := readAllCtx(ctx, io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("reading %s: larger than %d MiB", name, maxInput>>20)
	}
	return b, nil
}

// readAllCtx is io.ReadAll that returns ctx's error when ctx ends first. A
// read blocked on a terminal or a pipe cannot be interrupted: it is left
// to finish on its own (the process is about to exit).
func readAllCtx(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		done <- result{b, err}
	}()
	select {
	case res := <-done:
		if res.err == nil {
			res.err = ctx.Err()
		}
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// output is where a command writes its result: stdout, a file written
// atomically with mode 0600, or the input file itself (--in-place; written
// through a symbolic link, refused when hard-linked: safefile.Rewrite).
type output struct {
	stdout  io.Writer
	file    string
	inPlace bool
}

// write writes data, unless ctx ended (Ctrl-C): an interrupted command
// writes nothing, and a file is replaced whole or not at all.
func (o output) write(ctx context.Context, data []byte) error {
	return o.writeMode(ctx, data, safefile.Private)
}

func (o output) writeMode(ctx context.Context, data []byte, perm os.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.file == "" {
		_, err := o.stdout.Write(data)
		return err
	}
	if o.inPlace {
		return safefile.Rewrite(o.file, data, perm)
	}
	return safefile.WriteFile(o.file, data, perm)
}

// outputFor resolves --output-file and --in-place for one input file.
func outputFor(stdout io.Writer, input, outputFile string, inPlace bool) (output, error) {
	switch {
	case inPlace && input == "-":
		return output{}, cli.Usagef("--in-place needs a file, not stdin")
	case inPlace:
		return output{file: input, inPlace: true}, nil
	default:
		return output{stdout: stdout, file: outputFile}, nil
	}
}

// secretFromFlags builds a Secret like `kubectl create secret generic`
// from --from-literal KEY=VALUE and --from-file [KEY=]PATH.
func secretFromFlags(name, namespace, typ string, literals, files []string) (*corev1.Secret, error) {
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Type:       corev1.SecretType(typ),
		Data:       map[string][]byte{},
	}
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	for _, l := range literals {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			// Never echo the argument: it holds a value.
			return nil, cli.Usagef("--from-literal must be KEY=VALUE")
		}
		if _, dup := s.Data[k]; dup {
			return nil, cli.Usagef("key %q given twice", k)
		}
		s.Data[k] = []byte(v)
	}
	for _, f := range files {
		k, p, ok := strings.Cut(f, "=")
		if !ok {
			k, p = filepath.Base(f), f
		}
		if k == "" || p == "" {
			return nil, cli.Usagef("--from-file must be [KEY=]PATH, not %s", redact.Quote(f))
		}
		if _, dup := s.Data[k]; dup {
			return nil, cli.Usagef("key %q given twice", k)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading --from-file: %w", pathErr(err))
		}
		s.Data[k] = b
	}
	return s, nil
}

// defaultCertTimeout bounds fetching a --cert URL when --request-timeout is
// not given: a server that accepts the connection and never answers must
// not hang a CI job.
const defaultCertTimeout = time.Minute

// certClient is the HTTP client for a --cert URL: --request-timeout (as
// kubectl parses it; 0 means none) bounds the whole fetch, and the
// command's context (Ctrl-C) still cancels it.
func certClient(requestTimeout *pflag.Flag) (*http.Client, error) {
	timeout := defaultCertTimeout
	if f := requestTimeout; f != nil && f.Changed {
		t, err := clientcmd.ParseTimeout(f.Value.String())
		if err != nil {
			return nil, cli.Usagef("--request-timeout: %v", err)
		}
		timeout = t
	}
	return &http.Client{Timeout: timeout}, nil
}

// readCertificate loads --cert (a file or a URL) within the command's
// --request-timeout flag (nil: none).
func readCertificate(ctx context.Context, requestTimeout *pflag.Flag, source string) (*sealing.Certificate, error) {
	client, err := certClient(requestTimeout)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(source, "://") {
		if _, err := os.Lstat(source); err != nil {
			return nil, fmt.Errorf("reading the certificate: %w", pathErr(err))
		}
	}
	return sealing.ReadCertificate(ctx, source, client)
}

// marshal renders objects (SealedSecrets, Secrets, ExternalSecrets) with
// the kit's -o writer: YAML documents separated by "---", or JSON (one
// object, or a v1 List of several).
func marshal(format string, objs ...any) ([]byte, error) {
	if format == cli.FormatJSON && len(objs) != 1 {
		objs = []any{map[string]any{"apiVersion": "v1", "kind": "List", "items": objs}}
	}
	var buf bytes.Buffer
	for i, obj := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		if err := cli.WriteData(&buf, format, obj); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
