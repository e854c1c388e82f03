package secretscan

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"
)

// TestScanExternalReferences: a Secret value (or a secret-like Helm value)
// that refers to a secret kept elsewhere is not plaintext; a substitution
// with a literal default is.
func TestScanExternalReferences(t *testing.T) {
	t.Parallel()
	secret := func(field, value string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n" + field + ":\n  password: " + value + "\n"
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name      string
		content   string
		plaintext bool
	}{
		{"1Password reference", secret("stringData", "op://prod/db/password"), false},
		{"1Password reference with section", secret("stringData", "'op://prod/db/admin/password'"), false},
		{"1Password reference in data, base64", secret("data", b64("op://prod/db/password")), false},
		{"vals reference", secret("stringData", "ref+vault://secret/data/db#/password"), false},
		{"vals awssecrets reference", secret("stringData", "ref+awssecrets://prod/db#/password"), false},
		{"bank-vaults reference", secret("stringData", "vault:secret/data/db#password"), false},
		{"argocd-vault-plugin placeholder", secret("stringData", "<path:secret/data/db#password>"), false},
		{"Flux substitution", secret("stringData", "${DB_PASSWORD}"), false},
		{"Flux substitution, quoted", secret("stringData", `"${DB_PASSWORD}"`), false},
		{"Flux substitution in data, base64", secret("data", b64("${DB_PASSWORD}")), false},
		{"substitution with an empty default", secret("stringData", "${DB_PASSWORD:=}"), false},
		{"substitution with a reference default", secret("stringData", "${DB_PASSWORD:=op://prod/db/password}"), false},
		{"substitution without a default value", secret("stringData", "${DB_PASSWORD^}"), false},
		{"two substitutions", secret("stringData", "${DB_USER}${DB_PASSWORD}"), false},
		{"nested substitution default", secret("stringData", "${DB_PASSWORD:=${FALLBACK}}"), false},
		{"!env_var tag", secret("stringData", "!env_var DB_PASSWORD"), false},
		{"!ENV tag", secret("stringData", "!ENV DB_PASSWORD"), false},
		{"!secret tag", secret("stringData", "!secret db_password"), false},

		{"substitution with a literal default :=", secret("stringData", "${DB_PASSWORD:="+canary+"}"), true},
		{"substitution with a literal default :-", secret("stringData", "${DB_PASSWORD:-"+canary+"}"), true},
		{"substitution with a literal default =", secret("stringData", "${DB_PASSWORD="+canary+"}"), true},
		{"substitution with a literal default -", secret("stringData", "${DB_PASSWORD-"+canary+"}"), true},
		{"literal between substitutions", secret("stringData", "${DB_USER}"+canary+"${DB_HOST}"), true},
		{"literal default of a second substitution", secret("stringData", "${DB_USER}${DB_PASSWORD:-"+canary+"}"), true},
		{"unterminated substitution", secret("stringData", "${DB_PASSWORD"+canary), true},
		{"substitution inside a value", secret("stringData", "postgres://app:"+canary+"@${DB_HOST}/db"), true},
		{"bare $NAME is a password in a Secret", secret("stringData", "$ecretPassw0rd"), true},
		{"op:// prefix with spaces", secret("stringData", `"op://prod/db `+canary+`"`), true},
		{"unknown tag", secret("stringData", "!custom "+canary), true},
		{"ref+ without a backend URL", secret("stringData", "ref+"+canary), true},

		{"Helm values: 1Password reference", "db:\n  password: op://prod/db/password\n", false},
		{"Helm values: !env_var tag", "db:\n  password: !env_var DB_PASSWORD\n", false},
		{"Helm values: Flux substitution", "db:\n  password: ${DB_PASSWORD}\n", false},
		{"Helm values: literal default", "db:\n  password: ${DB_PASSWORD:=" + canary + "}\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, map[string]string{"f.yaml": tt.content})
			fsys := os.DirFS(dir)
			files, err := Walk(fsys)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Scan(fsys, files)
			if err != nil {
				t.Fatal(err)
			}
			if tt.plaintext != (len(got) == 1) || len(got) > 1 {
				t.Fatalf("got %d findings %+v; want plaintext=%v (one finding or none)", len(got), got, tt.plaintext)
			}
			for _, f := range got {
				if strings.Contains(f.Message, canary) || strings.Contains(f.Key, canary) {
					t.Errorf("finding shows the value: %+v", f)
				}
			}
		})
	}
}
