package tenant

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderIsIdempotentAndListed(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	work := t.TempDir()
	dir := filepath.Join(work, "tenants")
	spec := writeFile(t, work, "tenants.yaml", twoTenants)
	if r := runTenant(t, "", "render", "-f", spec, "--dir", dir); r.code != 0 {
		t.Fatalf("render: %d %s", r.code, r.stderr)
	}
	first := snapshot(t, dir)
	r := runTenant(t, "", "render", "-f", spec, "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "is up to date") {
		t.Fatalf("second render: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if diff := cmp.Diff(first, snapshot(t, dir)); diff != "" {
		t.Errorf("second render changed files (-first +second):\n%s", diff)
	}
	wantFiles := []string{"kustomization.yaml", "acme/namespaces.yaml", "acme/rbac.yaml", "acme/quota.yaml", "acme/networkpolicies.yaml",
		"acme/argocd.yaml", "acme/flux.yaml", "acme/kustomization.yaml", "acme/tenant.yaml", "globex/argocd.yaml", "globex/tenant.yaml"}
	for _, f := range wantFiles {
		if _, ok := first[f]; !ok {
			t.Errorf("no %s rendered", f)
		}
	}
	if _, ok := first["globex/flux.yaml"]; ok {
		t.Error("flux.yaml rendered for an argocd-only tenant")
	}
	for f := range first {
		if strings.Contains(f, ".tmp-") {
			t.Errorf("temporary file left behind: %s", f)
		}
	}
	var kust struct{ Resources []string }
	if err := yaml.Unmarshal([]byte(first["kustomization.yaml"]), &kust); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"acme", "globex"}, kust.Resources); diff != "" {
		t.Errorf("tenants kustomization resources (-want +got):\n%s", diff)
	}

	r = runTenant(t, "", "list", "--dir", dir, "-o", "json")
	var list []tenantSummary
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || r.code != 0 {
		t.Fatalf("list -o json: %d %v\n%s", r.code, err, r.stdout)
	}
	if len(list) != 2 || list[0].Name != "acme" || list[1].Name != "globex" || strings.Join(list[0].Namespaces, ",") != "acme-prod,acme-dev" {
		t.Errorf("list: %+v", list)
	}
	r = runTenant(t, "", "list", "--dir", dir)
	if !strings.Contains(r.stdout, "acme     acme-prod,acme-dev   both       group:acme-admins,alice") {
		t.Errorf("list table:\n%s", r.stdout)
	}
	if !strings.HasPrefix(r.stdout, "NAME ") {
		t.Errorf("list table without its header:\n%s", r.stdout)
	}
	// --no-headers as kubectl get: the same rows, no header line.
	r = runTenant(t, "", "list", "--dir", dir, "--no-headers")
	if lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n"); r.code != 0 || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "acme ") || !strings.HasPrefix(lines[1], "globex ") {
		t.Errorf("list --no-headers: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// -o name: the tenant names, one per line, nothing else.
	r = runTenant(t, "", "list", "--dir", dir, "-o", "name")
	if r.code != 0 || r.stdout != "acme\nglobex\n" {
		t.Errorf("list -o name: exit %d, stdout %q, want %q\n%s", r.code, r.stdout, "acme\nglobex\n", r.stderr)
	}
	// -o wide: the same columns, then REPOS and DIR on the right.
	r = runTenant(t, "", "list", "--dir", dir, "-o", "wide")
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME NAMESPACES OPERATOR OWNERS SOURCE REPOS DIR" {
		t.Fatalf("list -o wide: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if f := strings.Fields(lines[1]); len(f) != 7 || f[0] != "acme" || f[6] != filepath.Join(dir, "acme") {
		t.Errorf("list -o wide: acme's row %q, want 7 columns ending with its directory %s", lines[1], filepath.Join(dir, "acme"))
	}
}

func TestHandEditedFilesAreNotOverwritten(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	dir := filepath.Join(t.TempDir(), "tenants")
	create := []string{"create", "initech", "-n", "initech", "--admin-group", "g", "--dir", dir}
	if r := runTenant(t, "", create...); r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	p := filepath.Join(dir, "initech", "quota.yaml")
	data, _ := os.ReadFile(p)
	edited := strings.Replace(string(data), `pods: "50"`, `pods: "500"`, 1)
	if edited == string(data) {
		t.Fatal("the edit did not apply")
	}
	if err := os.WriteFile(p, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	// A changed spec that would rewrite quota.yaml is refused...
	r := runTenant(t, "", append(create, "--quota", "pods=60")...)
	if r.code != 2 || !strings.Contains(r.stderr, "refusing to overwrite "+p+": it was edited by hand (use --force)") {
		t.Fatalf("overwrite of an edited file: %d %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(p); string(got) != edited {
		t.Error("the edited file was changed")
	}
	// ... and nothing else was written either.
	if got, _ := os.ReadFile(filepath.Join(dir, "initech", "tenant.yaml")); strings.Contains(string(got), "60") {
		t.Error("tenant.yaml was rewritten although the command was refused")
	}
	// --dry-run lists, writes nothing.
	r = runTenant(t, "", append(create, "--quota", "pods=60", "--force", "--dry-run")...)
	if r.code != 0 || !strings.Contains(r.stdout, "updated "+p+" (dry run)") {
		t.Errorf("dry run: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(p); string(got) != edited {
		t.Error("--dry-run wrote the file")
	}
	r = runTenant(t, "", append(create, "--quota", "pods=60", "--force")...)
	if r.code != 0 {
		t.Fatalf("--force: %d %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(p); !strings.Contains(string(got), `pods: "60"`) {
		t.Errorf("--force did not rewrite:\n%s", got)
	}
	// Dropping an operator removes its stale, unedited file.
	r = runTenant(t, "", append(create, "--quota", "pods=60", "--operator", "flux", "--repo", "https://example.com/r.git")...)
	if r.code != 0 || !fileExists(filepath.Join(dir, "initech", "flux.yaml")) {
		t.Fatalf("flux: %d %s", r.code, r.stderr)
	}
	r = runTenant(t, "", append(create, "--quota", "pods=60")...)
	if r.code != 0 || fileExists(filepath.Join(dir, "initech", "flux.yaml")) || !strings.Contains(r.stdout, "removed") {
		t.Errorf("stale flux.yaml: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestDeleteRemovesDirectoryAndEntry(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	dir := filepath.Join(t.TempDir(), "tenants")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A hand-written tenants kustomization keeps its comment and entries.
	writeFile(t, dir, "kustomization.yaml", "# platform tenants\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../shared\n")
	for _, n := range []string{"one", "two"} {
		if r := runTenant(t, "", "create", n, "-n", n, "--admin-user", "u", "--dir", dir); r.code != 0 {
			t.Fatalf("create %s: %d %s", n, r.code, r.stderr)
		}
	}
	r := runTenant(t, "", "delete", "one", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("delete: %d %s", r.code, r.stderr)
	}
	if fileExists(filepath.Join(dir, "one")) {
		t.Error("directory still there")
	}
	got, _ := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	want := "# platform tenants\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../shared\n  - two\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("kustomization (-want +got):\n%s", diff)
	}
	if r := runTenant(t, "", "delete", "one", "--dir", dir); r.code != 2 || !strings.Contains(r.stderr, `no tenant "one"`) {
		t.Errorf("second delete: %d %s", r.code, r.stderr)
	}
}

func TestCreateErrorsNameTheFlag(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	dir := filepath.Join(t.TempDir(), "tenants")
	if r := runTenant(t, "", "create", "acme", "-n", "acme", "--admin-group", "g", "--dir", dir); r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	before := snapshot(t, dir)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"invalid name", []string{"create", "Acme_2", "-n", "x"}, []string{`NAME: invalid name "Acme_2"`}},
		{"invalid namespace", []string{"create", "b", "-n", "Bad.NS"}, []string{`--namespace: invalid name "Bad.NS"`}},
		{"overlap", []string{"create", "b", "-n", "acme"}, []string{`--namespace: namespace "acme" already belongs to tenant "acme"`}},
		{"unknown operator", []string{"create", "b", "-n", "b", "--operator", "argo"}, []string{`--operator: unknown operator "argo": must be one of none, argocd, flux, both`}},
		{"quota syntax", []string{"create", "b", "-n", "b", "--quota", "cpu=8cores"}, []string{`--quota cpu: invalid quantity "8cores"`}},
		{"limit syntax", []string{"create", "b", "-n", "b", "--limit", "default.memory=lots"}, []string{`--limit default.memory: invalid quantity "lots"`}},
		{"limit key", []string{"create", "b", "-n", "b", "--limit", "cpu=1"}, []string{`--limit cpu: want default|defaultRequest|max|min.RESOURCE=QUANTITY`}},
		{"no repo", []string{"create", "b", "-n", "b", "--operator", "flux"}, []string{`--repo: operator flux needs at least one source repository`}},
		{"no owner", []string{"create", "b", "-n", "b"}, []string{`--admin-group/--admin-user: at least one owner`}},
		{"pod security", []string{"create", "b", "-n", "b", "--pod-security", "privileged"}, []string{`--pod-security: unknown Pod Security level "privileged"`}},
		{"guard resource", []string{"create", "b", "-n", "b", "--allow-resource", "networkpolicies.networking.k8s.io"}, []string{`--allow-resource: "networkpolicies.networking.k8s.io" guards the tenant`}},
		{"reserved namespace", []string{"create", "b", "-n", "kube-system"}, []string{`--namespace: namespace "kube-system" is reserved`}},
		{"operator's namespace", []string{"create", "b", "-n", "argocd"}, []string{`--namespace: namespace "argocd" is reserved`}},
		{"suite's namespace", []string{"create", "b", "-n", "kubectl-gitops"}, []string{`--namespace: namespace "kubectl-gitops" is reserved`}},
		{"bad output", []string{"create", "b", "-n", "b", "-o", "xml"}, []string{`unable to match a printer suitable for the output format "x…", allowed formats are: json,yaml`}},
		{"reconciler name", []string{"create", "b", "-n", "b", "--reconciler-service-account", "Bad_SA"}, []string{`--reconciler-service-account: invalid name "Bad_SA"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--dir", dir)
			if !strings.Contains(strings.Join(args, " "), "--admin-") && tt.name != "no owner" {
				args = append(args, "--admin-group", "g")
			}
			r := runTenant(t, "", args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, "See 'kubectl gitops tenant create --help'") {
				t.Errorf("no usage hint:\n%s", r.stderr)
			}
		})
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("failed creates changed files (-before +after):\n%s", diff)
	}
}

func TestCreateOutputPrintsObjects(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	dir := filepath.Join(t.TempDir(), "tenants")
	r := runTenant(t, "", "create", "acme", "-n", "acme", "--admin-group", "g", "--operator", "argocd",
		"--repo", "https://example.com/a.git", "-o", "json", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	var list struct {
		Kind  string
		Items []struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	var kinds []string
	for _, it := range list.Items {
		kinds = append(kinds, it.Kind)
	}
	want := "Namespace,RoleBinding,ServiceAccount,Role,RoleBinding,ResourceQuota,LimitRange,NetworkPolicy,NetworkPolicy,NetworkPolicy,AppProject"
	if list.Kind != "List" || strings.Join(kinds, ",") != want {
		t.Errorf("kinds %v, want %s", kinds, want)
	}
	if fileExists(dir) {
		t.Error("-o json wrote files")
	}
	r = runTenant(t, "", "create", "acme", "-n", "acme", "--admin-group", "g", "-o", "yaml", "--dir", dir)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "apiVersion: v1\nkind: Namespace\n") || strings.Count(r.stdout, "\n---\n") != 9 {
		t.Errorf("-o yaml:\n%s", r.stdout)
	}
}

// TestCreateReconcilerServiceAccount: --reconciler-service-account names the
// reconciler in the written files and in tenant.yaml, so list, verify and
// apply read it back.
func TestCreateReconcilerServiceAccount(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	dir := filepath.Join(t.TempDir(), "tenants")
	r := runTenant(t, "", "create", "acme", "-n", "acme", "--admin-group", "g", "--operator", "flux",
		"--repo", "https://example.com/a.git", "--reconciler-service-account", "acme", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	files := snapshot(t, dir)
	if !strings.Contains(files[filepath.Join("acme", "tenant.yaml")], "reconcilerServiceAccount: acme\n") {
		t.Errorf("tenant.yaml does not record the name:\n%s", files[filepath.Join("acme", "tenant.yaml")])
	}
	for name, data := range files {
		if strings.Contains(data, "gitops-reconciler") {
			t.Errorf("%s still names gitops-reconciler", name)
		}
	}
	if !strings.Contains(files[filepath.Join("acme", "flux.yaml")], "serviceAccountName: acme\n") {
		t.Errorf("flux.yaml:\n%s", files[filepath.Join("acme", "flux.yaml")])
	}
}

// A repository URL goes into the tenant's files (AppProject, GitRepository,
// tenant.yaml): one holding credentials is refused, from flags and from a
// tenants file, without writing anything or echoing the secret.
func TestCredentialsInRepoURLAreRefused(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	const canary = "canary-s3cr3t-7f3a"
	work := t.TempDir()
	dir := filepath.Join(work, "tenants")
	spec := func(name, repos string) string {
		return writeFile(t, work, name, `apiVersion: kubectl-gitops.io/v1alpha1
kind: Tenants
tenants:
- name: acme
  namespaces: [acme]
  owners: {groups: [acme-admins]}
  operator: both
  repos: `+repos+`
`)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"password in --repo", []string{"create", "acme", "-n", "acme", "--admin-group", "g", "--operator", "both",
			"--repo", "https://bob:" + canary + "@github.com/example/acme.git"},
			`--repo: "https://github.com/example/acme.git": credentials do not belong in the URL`},
		{"token as user in a second --repo", []string{"create", "acme", "-n", "acme", "--admin-group", "g", "--operator", "argocd",
			"--repo", "https://github.com/example/acme.git", "--repo", "https://" + canary + "@github.com/example/acme-2.git"},
			`--repo: "https://github.com/example/acme-2.git": credentials do not belong in the URL`},
		{"password in --repo with -o yaml", []string{"create", "acme", "-n", "acme", "--admin-group", "g", "--operator", "flux",
			"--repo", "https://bob:" + canary + "@github.com/example/acme.git", "-o", "yaml"},
			`credentials do not belong in the URL`},
		{"password in tenants.yaml", []string{"render", "-f", spec("list.yaml", "[https://bob:"+canary+"@github.com/example/acme.git]")},
			`list.yaml:8:11: tenants[0].repos[0]: "https://github.com/example/acme.git": credentials do not belong in the URL`},
		{"password in a mistyped repos scalar", []string{"render", "-f", spec("scalar.yaml", "https://bob:"+canary+"@github.com/example/acme.git")},
			`scalar.yaml:8:10: tenants[0].repos: must be a list of strings, not a single value (write [https://github.com/example/acme.git])`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runTenant(t, "", append(tt.args, "--dir", dir)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, canary) {
				t.Errorf("the password is echoed:\n%s%s", r.stdout, r.stderr)
			}
			if fileExists(dir) {
				t.Errorf("files written: %v", snapshot(t, dir))
			}
		})
	}
}

// TestListOutputCompletion: completion of 'list -o' offers name and wide,
// and --help lists them.
func TestListOutputCompletion(t *testing.T) {
	r := runTenant(t, "", "__complete", "list", "-o", "")
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.HasPrefix(l, ":") {
			got = append(got, l)
		}
	}
	if strings.Join(got, ",") != "json,yaml,name,wide" {
		t.Errorf("list -o completions %v, want json,yaml,name,wide\n%s", got, r.stderr)
	}
	if r = runTenant(t, "", "list", "--help"); !strings.Contains(r.stdout, "json, yaml, name") || !strings.Contains(r.stdout, "wide") {
		t.Errorf("list --help does not list -o name and wide:\n%s", r.stdout)
	}
}

// TestListRedactsRepoURLs: a tenant.yaml is a repository file, so its repos
// may hold a password or a token in the query. list refuses such a spec
// (exit 2) and every -o shows no secret, in the error nor anywhere else; the
// URLs list prints go through gitrepo.RedactURL.
func TestListRedactsRepoURLs(t *testing.T) {
	t.Setenv("KUBECONFIG", os.DevNull)
	const canary = "canary-s3cr3t-7f3a"
	const clean = "https://git.example/acme.git"
	tests := []struct{ name, url, want string }{
		{"token in the query", clean + "?ref=main&token=" + canary + "&" + canary,
			`tenants[0].repos[0]: "` + clean + `?ref=main&token=***&***": credentials do not belong in the URL (a token in the query)`},
		{"password", "https://bob:" + canary + "@git.example/acme.git",
			`tenants[0].repos[0]: "` + clean + `": credentials do not belong in the URL`},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "tenants")
		if r := runTenant(t, "", "create", "acme", "-n", "acme", "--admin-group", "g", "--operator", "argocd",
			"--repo", clean, "--dir", dir); r.code != 0 {
			t.Fatalf("create: %d %s", r.code, r.stderr)
		}
		spec := filepath.Join(dir, "acme", "tenant.yaml")
		data, err := os.ReadFile(spec)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), clean) {
			t.Fatalf("tenant.yaml lacks %s:\n%s", clean, data)
		}
		// Hand-edited, as a pull request could.
		data = []byte(strings.Replace(string(data), clean, tt.url, 1))
		if err := os.WriteFile(spec, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, o := range []string{"", "wide", "json", "yaml", "name"} {
			t.Run(tt.name+"/o="+o, func(t *testing.T) {
				args := []string{"list", "--dir", dir}
				if o != "" {
					args = append(args, "-o", o)
				}
				r := runTenant(t, "", args...)
				if r.code != 2 {
					t.Errorf("exit %d, want 2:\n%s%s", r.code, r.stdout, r.stderr)
				}
				if !strings.Contains(r.stderr, tt.want) {
					t.Errorf("stderr lacks %s:\n%s", tt.want, r.stderr)
				}
				if strings.Contains(r.stdout+r.stderr, canary) {
					t.Errorf("the secret is printed:\n%s%s", r.stdout, r.stderr)
				}
			})
		}
	}
}
