package secretscan

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/test/builders"
)

// writeTree is test/builders' WriteTree.
var writeTree = builders.WriteTree

const canary = "CANARY-s3cr3t-VALUE-7f3a"

func TestScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		content string
		want    []Finding // File, Line, Rule, Name, Key compared
	}{
		{
			name:    "plaintext Secret",
			file:    "app/secret.yaml",
			content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: " + canary + "\n",
			want:    []Finding{{File: "app/secret.yaml", Line: 7, Rule: RulePlaintextSecret, Kind: "Secret", Name: "db", Key: "password"}},
		},
		{
			name:    "plaintext Secret data in second document",
			file:    "multi.yml",
			content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  token: Q0FOQVJZ\n",
			want:    []Finding{{File: "multi.yml", Line: 11, Rule: RulePlaintextSecret, Kind: "Secret", Name: "s", Key: "token"}},
		},
		{
			name:    "SOPS-encrypted Secret",
			file:    "enc.yaml",
			content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n  version: 3.9.0\n",
		},
		{
			name:    "ENC values without metadata",
			file:    "enc2.yaml",
			content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str]\n",
		},
		{
			name:    "SealedSecret",
			file:    "sealed.yaml",
			content: "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA==\n",
		},
		{
			name:    "ExternalSecret",
			file:    "es.yaml",
			content: "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: db\nspec:\n  data:\n  - secretKey: password\n    remoteRef:\n      key: db\n",
		},
		{
			name:    "empty Secret",
			file:    "empty.yaml",
			content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata: {}\n",
		},
		{
			name:    "secretGenerator literals",
			file:    "overlay/kustomization.yaml",
			content: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n- name: creds\n  literals:\n  - user=admin\n  - password=" + canary + "\n",
			want: []Finding{
				{File: "overlay/kustomization.yaml", Line: 6, Rule: RuleSecretGeneratorLiteral, Kind: "secretGenerator", Name: "creds", Key: "user"},
				{File: "overlay/kustomization.yaml", Line: 7, Rule: RuleSecretGeneratorLiteral, Kind: "secretGenerator", Name: "creds", Key: "password"},
			},
		},
		{
			name:    "PEM key in Helm values",
			file:    "values.yaml",
			content: "image: nginx\ntls:\n  key: |\n    -----BEGIN RSA PRIVATE KEY-----\n    " + canary + "\n    -----END RSA PRIVATE KEY-----\n",
			want:    []Finding{{File: "values.yaml", Line: 4, Rule: RulePrivateKey, Key: "key"}},
		},
		{
			name:    "tokens in a ConfigMap",
			file:    "cm.json",
			content: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"aws":"AKIAABCDEFGHIJKLMNOP","gh":"ghp_` + strings.Repeat("a", 36) + `","slack":"xoxb-1234567890-abcdef"}}`,
			want: []Finding{
				{File: "cm.json", Line: 1, Rule: RuleAWSAccessKey, Kind: "ConfigMap", Name: "c", Key: "aws"},
				{File: "cm.json", Line: 1, Rule: RuleGitHubToken, Kind: "ConfigMap", Name: "c", Key: "gh"},
				{File: "cm.json", Line: 1, Rule: RuleSlackToken, Kind: "ConfigMap", Name: "c", Key: "slack"},
			},
		},
		{
			name:    "Helm template falls back to lines",
			file:    "templates/x.yaml",
			content: "{{- if .Values.x }}\nkey: AKIAABCDEFGHIJKLMNOP\n{{- end }}\n",
			want:    []Finding{{File: "templates/x.yaml", Line: 2, Rule: RuleAWSAccessKey}},
		},
		{
			name: "SOPS-encrypted Secret with the last-applied copy in clear",
			file: "flux.yaml",
			content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n" +
				"      {\"apiVersion\":\"v1\",\"data\":{\"password\":\"Q0FOQVJZ\",\"empty\":\"\"},\"kind\":\"Secret\",\"stringData\":{\"token\":\"" + canary + "\"}}\n" +
				"stringData:\n  token: ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n  encrypted_regex: ^(data|stringData)$\n  version: 3.13.3\n",
			want: []Finding{
				{File: "flux.yaml", Line: 6, Rule: RulePlaintextSecret, Kind: "Secret", Name: "db", Key: "password"},
				{File: "flux.yaml", Line: 6, Rule: RulePlaintextSecret, Kind: "Secret", Name: "db", Key: "token"},
			},
		},
		{
			name: "SOPS file whose rule left stringData in clear",
			file: "partial.yaml",
			content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  a: ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str]\nstringData:\n  token: " + canary + "\n" +
				"sops:\n  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n  encrypted_regex: ^data$\n  version: 3.13.3\n",
			want: []Finding{{File: "partial.yaml", Line: 8, Rule: RulePlaintextSecret, Kind: "Secret", Name: "db", Key: "token"}},
		},
		{
			name: "SOPS-encrypted List of Secrets with a last-applied copy in clear",
			file: "list.yaml",
			content: "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: db\n      annotations:\n" +
				"        kubectl.kubernetes.io/last-applied-configuration: '{\"stringData\":{\"token\":\"" + canary + "\"}}'\n" +
				"    data:\n      token: ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str]\n  - apiVersion: v1\n    kind: Secret\n    metadata: {name: plain}\n    stringData: {key: " + canary + "}\n" +
				"sops:\n  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n  encrypted_regex: ^data$\n  version: 3.13.3\n",
			want: []Finding{
				{File: "list.yaml", Line: 9, Rule: RulePlaintextSecret, Kind: "Secret", Name: "db", Key: "token"},
				{File: "list.yaml", Line: 15, Rule: RulePlaintextSecret, Kind: "Secret", Name: "plain", Key: "key"},
			},
		},
		{
			name: "SealedSecret whose template keeps the last-applied copy",
			file: "sealed-copy.yaml",
			content: "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA==\n  template:\n    metadata:\n      annotations:\n" +
				"        kubectl.kubernetes.io/last-applied-configuration: '{\"stringData\":{\"password\":\"" + canary + "\"}}'\n",
			want: []Finding{{File: "sealed-copy.yaml", Line: 11, Rule: RulePlaintextSecret, Kind: "SealedSecret", Name: "db", Key: "password"}},
		},
		{
			name: "ExternalSecret whose target template keeps kapp's copy",
			file: "es-copy.yaml",
			content: "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: db\nspec:\n  target:\n    name: db\n    template:\n      metadata:\n        annotations:\n" +
				"          kapp.k14s.io/original: '{\"data\":{\"password\":\"Q0FOQVJZ\"}}'\n",
			want: []Finding{{File: "es-copy.yaml", Line: 11, Rule: RulePlaintextSecret, Kind: "ExternalSecret", Name: "db", Key: "password"}},
		},
		{
			name:    "plain Secret whose value is only in kapp's copy",
			file:    "kapp.yaml",
			content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    kapp.k14s.io/original: '{\"data\":{\"password\":\"Q0FOQVJZ\"}}'\ndata: {}\n",
			want:    []Finding{{File: "kapp.yaml", Line: 6, Rule: RulePlaintextSecret, Kind: "Secret", Name: "db", Key: "password"}},
		},
		{
			name: "SOPS-encrypted Secret with the copy encrypted too",
			file: "all.yaml",
			content: "apiVersion: ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]\nkind: ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]\nmetadata:\n  annotations:\n" +
				"    kubectl.kubernetes.io/last-applied-configuration: ENC[AES256_GCM,data:abcd,iv:efgh,tag:ijkl,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n  version: 3.13.3\n",
		},
		{
			name:    "ConfigMap's last-applied copy",
			file:    "cm.yaml",
			content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"k\":\"v\"}}'\ndata:\n  k: v\n",
		},
		{
			name:    "not a candidate",
			file:    "notes.txt",
			content: "AKIAABCDEFGHIJKLMNOP\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, map[string]string{tt.file: tt.content})
			fsys := os.DirFS(dir)
			files, err := Walk(fsys)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Scan(fsys, files)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.File != w.File || g.Line != w.Line || g.Rule != w.Rule || g.Name != w.Name || g.Key != w.Key || (w.Kind != "" && g.Kind != w.Kind) {
					t.Errorf("finding %d = %+v, want %+v", i, g, w)
				}
				if g.Message == "" {
					t.Errorf("finding %d has no message", i)
				}
			}
			b, _ := json.Marshal(got)
			if strings.Contains(string(b), canary) || strings.Contains(string(b), "AKIAABCDEFGHIJKLMNOP") {
				t.Errorf("a secret value leaked into the findings: %s", b)
			}
		})
	}
}

func TestWalkSkipsGit(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{".git/config.yaml": "a: b", "a.yaml": "a: b", "kustomization": "resources: []"})
	files, err := Walk(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(files, ",") != "a.yaml,kustomization" {
		t.Errorf("Walk = %v", files)
	}
}

func TestAllowList(t *testing.T) {
	t.Parallel()
	rules, err := ParseAllowList([]byte("- path: test/**/*.yaml\n  reason: fixtures\n- path: apps/secret.yaml\n  name: demo\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    Finding
		want bool
	}{
		{Finding{File: "test/a/b/x.yaml"}, true},
		{Finding{File: "test/x.yaml"}, true},
		{Finding{File: "./test/x.yaml"}, true},
		{Finding{File: "prod/x.yaml"}, false},
		{Finding{File: "apps/secret.yaml", Name: "demo"}, true},
		{Finding{File: "apps/secret.yaml", Name: "prod"}, false},
	}
	for _, tt := range tests {
		if got := Allowed(tt.f, rules); got != tt.want {
			t.Errorf("Allowed(%+v) = %v, want %v", tt.f, got, tt.want)
		}
	}
	if _, err := ParseAllowList([]byte("- name: x\n")); err == nil {
		t.Error("an entry without path was accepted")
	}
	wrapped, err := ParseAllowList([]byte("allow:\n- path: a.yaml\n"))
	if err != nil || len(wrapped) != 1 {
		t.Errorf("wrapped allow-list = %v, %v", wrapped, err)
	}
}

// TestMalformedLiteralNotShown: a literal without "=" names no key, and
// nothing of its value is shown.
func TestMalformedLiteralNotShown(t *testing.T) {
	got := ScanBytes("kustomization.yaml", []byte("secretGenerator:\n- name: db\n  literals:\n  - password:SuperSecretValue1\n"))
	if len(got) != 1 || got[0].Line != 4 || got[0].Rule != RuleSecretGeneratorLiteral {
		t.Fatalf("findings: %+v", got)
	}
	if s := fmt.Sprintf("%+v", got[0]); strings.Contains(s, "SuperSecret") {
		t.Fatalf("the value leaks: %s", s)
	}
}
