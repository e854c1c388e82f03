package seal

import (
	"strings"
	"testing"
)

// TestOutputFormatErrors: every seal command rejects an -o it does not
// print in kubectl's wording (the kit's OutputFlag), exit 2, before it
// decrypts or writes anything, the value masked (a value typed in the
// wrong place may be a secret: the canary must not appear).
func TestOutputFormatErrors(t *testing.T) {
	bad := canary
	const masked = `"cana…"`
	for _, tt := range []struct {
		args    []string
		allowed string
	}{
		{[]string{"-f", "secret.yaml", "--cert", "cert.pem"}, "json,yaml"},
		{[]string{"unseal", "-f", "sealed.yaml", "--private-key", "key.pem"}, "json,yaml"},
		{[]string{"reencrypt", "-f", "sealed.yaml", "--private-key", "key.pem", "--cert", "cert.pem"}, "json,yaml"},
		{[]string{"updatekeys", "-f", "secret.enc.yaml"}, "json,text"},
		{[]string{"rotate", "-f", "secret.enc.yaml"}, "json,text"},
		{[]string{"scan", "."}, "json,sarif,table"},
	} {
		t.Run(tt.args[0], func(t *testing.T) {
			t.Chdir(t.TempDir())
			// Inputs that are read (seal, unseal read -f before validating)
			// but never parsed: the -o error comes first.
			writeTestFile(t, ".", "secret.yaml", []byte("not yaml: ["))
			writeTestFile(t, ".", "sealed.yaml", []byte("not yaml: ["))
			r := runSeal(t, nil, "", append(tt.args, "-o", bad)...)
			want := "error: unable to match a printer suitable for the output format " + masked + ", allowed formats are: " + tt.allowed + "\n"
			if r.code != 2 || !strings.HasPrefix(r.stderr, want) || r.stdout != "" {
				t.Errorf("seal %v -o %s: exit %d, stderr %q, stdout %q; want exit 2, stderr starting %q", tt.args, bad, r.code, r.stderr, r.stdout, want)
			}
			if strings.Contains(r.stdout+r.stderr, canary) {
				t.Errorf("the -o value leaked: %s", r.stderr)
			}
		})
	}
}

// TestOutputCompletion: -o completes the formats each command prints
// (reencrypt had no completion before the kit's OutputFlag).
func TestOutputCompletion(t *testing.T) {
	for _, tt := range []struct {
		sub  []string
		want string
	}{
		{nil, "yaml\njson\n"},
		{[]string{"unseal"}, "yaml\njson\n"},
		{[]string{"reencrypt"}, "yaml\njson\n"},
		{[]string{"updatekeys"}, "text\njson\n"},
		{[]string{"rotate"}, "text\njson\n"},
		{[]string{"scan"}, "table\njson\nsarif\n"},
	} {
		r := runSeal(t, nil, "", append(append([]string{"__complete"}, tt.sub...), "-o", "")...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, tt.want+":4\n") {
			t.Errorf("seal %v -o <TAB>: exit %d, stdout %q; want %q then :4", tt.sub, r.code, r.stdout, tt.want)
		}
	}
}
