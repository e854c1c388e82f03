package versionedit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/yamlsplice"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, tag, digest, semver string
	}{
		{in: "1.4.2", tag: "1.4.2", semver: "1.4.2"},
		{in: "v1.4.2", tag: "v1.4.2", semver: "1.4.2"},
		{in: "1.4", tag: "1.4", semver: "1.4.0"},
		{in: "2.0.0-rc.1", tag: "2.0.0-rc.1", semver: "2.0.0-rc.1"},
		{in: "latest", tag: "latest"},
		{in: "main-abc1234", tag: "main-abc1234"},
		{in: digest1, digest: digest1},
		{in: "1.4.2@" + digest1, tag: "1.4.2", digest: digest1, semver: "1.4.2"},
		{in: "sha256:abc", tag: "sha256:abc"},
		{in: "1.4.2@sha256:abc", tag: "1.4.2@sha256:abc"},
		{in: "sha256:" + strings.Repeat("A", 64), tag: "sha256:" + strings.Repeat("A", 64)},
	}
	for _, tc := range tests {
		v := ParseVersion(tc.in)
		got := ""
		if v.Semver != nil {
			got = v.Semver.String()
		}
		if v.Raw != tc.in || v.Tag != tc.tag || v.Digest != tc.digest || got != tc.semver {
			t.Errorf("ParseVersion(%q) = {tag %q digest %q semver %q}, want {%q %q %q}", tc.in, v.Tag, v.Digest, got, tc.tag, tc.digest, tc.semver)
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b       string
		cmp        int
		comparable bool
	}{
		{"1.4.1", "1.4.2", -1, true},
		{"1.4.2", "1.4.1", 1, true},
		{"v1.10.0", "v1.9.0", 1, true},
		{"1.4.2", "v1.4.2", 0, true},
		{"1.4", "1.4.0", 0, true},
		{"2.0.0-rc.1", "2.0.0", -1, true},
		{"latest", "latest", 0, true},
		{"latest", "1.4.2", 0, false},
		{"main", "develop", 0, false},
		{digest1, digest9, 0, false},
		{digest1, digest1, 0, true},
		{"1.4.2@" + digest1, "1.4.3@" + digest9, -1, true},
		{"1.4.2@" + digest1, "1.4.2@" + digest9, 0, false},
		{"1.4.2@" + digest1, "1.4.2", 0, false},
	}
	for _, tc := range tests {
		c, ok := Compare(tc.a, tc.b)
		if c != tc.cmp || ok != tc.comparable {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d, %v", tc.a, tc.b, c, ok, tc.cmp, tc.comparable)
		}
	}
}

func TestLocationValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loc     Location
		str     string
		wantErr string
	}{
		{loc: Location{KustomizeImage: "ghcr.io/acme/web"}, str: "kustomize image ghcr.io/acme/web"},
		{loc: Location{KustomizeImage: "localhost:5000/web"}, str: "kustomize image localhost:5000/web"},
		{loc: Location{HelmValues: "image.tag"}, str: "helm values image.tag"},
		{loc: Location{HelmValues: "a.b[0][2].c"}, str: "helm values a.b[0][2].c"},
		{loc: Location{HelmReleaseChart: true}, str: "HelmRelease spec.chart.spec.version"},
		{loc: Location{HelmReleaseChart: true, Name: "web"}, str: "HelmRelease web spec.chart.spec.version"},
		{loc: Location{ArgoTargetRevision: true}, str: "Application spec.source.targetRevision"},
		{loc: Location{ArgoTargetRevision: true, Name: "web", ArgoSourceIndex: intp(1)}, str: "Application web spec.sources[1].targetRevision"},
		{loc: Location{Setter: "flux-system:web"}, str: "setter flux-system:web"},
		{loc: Location{}, wantErr: "set one of"},
		{loc: Location{KustomizeImage: "a", Setter: "a:b"}, wantErr: "kustomizeImage, setter are mutually exclusive"},
		{loc: Location{KustomizeImage: "ghcr.io/acme/web:1.0"}, wantErr: "carries a tag or digest"},
		{loc: Location{KustomizeImage: "web app"}, wantErr: "white space"},
		{loc: Location{HelmValues: "image..tag"}, wantErr: `bad key ""`},
		{loc: Location{HelmValues: "image.tag[x]"}, wantErr: "bad index"},
		{loc: Location{HelmValues: "image.tag[1"}, wantErr: "bad index"},
		{loc: Location{HelmValues: "image.tag]"}, wantErr: "bad key"},
		{loc: Location{HelmValues: "image.tag[-1]"}, wantErr: "bad index"},
		{loc: Location{Setter: "web"}, wantErr: "not namespace:name"},
		{loc: Location{Setter: "flux-system:web:tag"}, wantErr: "not namespace:name"},
		{loc: Location{KustomizeImage: "web", Name: "web"}, wantErr: "name applies only"},
		{loc: Location{HelmValues: "a", ArgoSourceIndex: intp(0)}, wantErr: "argoSourceIndex applies only"},
		{loc: Location{ArgoTargetRevision: true, ArgoSourceIndex: intp(-1)}, wantErr: "negative"},
	}
	for _, tc := range tests {
		err := tc.loc.Validate()
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("Validate(%+v) = %v", tc.loc, err)
			}
			if got := tc.loc.String(); got != tc.str {
				t.Errorf("String() = %q, want %q", got, tc.str)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "invalid version location: ") {
			t.Errorf("Validate(%+v) = %v, want error containing %q", tc.loc, err, tc.wantErr)
		}
	}
}

func TestReadFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		loc  Location
		want []Found
	}{{
		name: "kustomize entry with newName",
		data: "images:\n  - name: ghcr.io/acme/web\n    newName: mirror/web\n    newTag: '1.4.1'\n",
		loc:  Location{KustomizeImage: "ghcr.io/acme/web"},
		want: []Found{{Version: "1.4.1", Image: "mirror/web", Path: "images[0].newTag", Line: 4, Column: 13}},
	}, {
		name: "kustomize entry without version",
		data: "images:\n- name: web\n",
		loc:  Location{KustomizeImage: "web"},
		want: []Found{{Version: "", Image: "web", Path: "images[0].name", Line: 2, Column: 9}},
	}, {
		name: "kustomize duplicates are all read",
		data: "images:\n- {name: web, digest: " + digest1 + "}\n- {name: web, newTag: v2, digest: " + digest9 + "}\n",
		loc:  Location{KustomizeImage: "web"},
		want: []Found{
			{Version: digest1, Image: "web", Path: "images[0].digest", Line: 2, Column: 23},
			{Version: "v2@" + digest9, Image: "web", Path: "images[1].newTag", Line: 3, Column: 23},
		},
	}, {
		name: "columns count characters after a BOM",
		data: yamlsplice.BOM + "é:\n  ü: &a !!str 1.4.1\n",
		loc:  Location{HelmValues: "é.ü"},
		want: []Found{{Version: "1.4.1", Path: "é.ü", Line: 2, Column: 15}},
	}, {
		name: "alias is read at its anchor",
		data: "v: &v 1.4.1\nimage:\n  tag: *v\n",
		loc:  Location{HelmValues: "image.tag"},
		want: []Found{{Version: "1.4.1", Path: "image.tag", Line: 1, Column: 7}},
	}, {
		name: "merge key",
		data: "base: &b {tag: 1.4.1}\nimage:\n  <<: *b\n  repository: web\n",
		loc:  Location{HelmValues: "image.tag"},
		want: []Found{{Version: "1.4.1", Path: "image.tag", Line: 1, Column: 16}},
	}, {
		name: "null value reads empty",
		data: "image:\n  tag: ~\n",
		loc:  Location{HelmValues: "image.tag"},
		want: []Found{{Version: "", Path: "image.tag", Line: 2, Column: 8}},
	}, {
		name: "HelmRelease documents without filter",
		data: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: a}\nspec: {chart: {spec: {version: 1.0.0}}}\n---\n" +
			"apiVersion: example.com/v1\nkind: HelmRelease\nspec: {chart: {spec: {version: 9.9.9}}}\n---\n" +
			"apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata: {name: b}\nspec: {chart: {spec: {version: \"2.0.0\"}}}\n",
		loc: Location{HelmReleaseChart: true},
		want: []Found{
			{Version: "1.0.0", Path: "spec.chart.spec.version", Line: 4, Column: 32},
			{Version: "2.0.0", Path: "spec.chart.spec.version", Line: 13, Column: 32},
		},
	}, {
		name: "Argo single entry in sources",
		data: "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web}\nspec:\n  sources:\n  - targetRevision: HEAD\n",
		loc:  Location{ArgoTargetRevision: true},
		want: []Found{{Version: "HEAD", Path: "spec.sources[0].targetRevision", Line: 6, Column: 21}},
	}, {
		name: "setter forms",
		data: "a: r:5000/web:1.0@" + digest1 + " # {\"$imagepolicy\": \"ns:web\"}\nb: r/web # {\"$imagepolicy\": \"ns:web\"}\nc: r/web # {\"$imagepolicy\": \"ns:web:name\"}\nd: x # {\"$imagepolicy\": \"ns:other:tag\"}\n",
		loc:  Location{Setter: "ns:web"},
		want: []Found{
			{Version: "1.0@" + digest1, Image: "r:5000/web", Path: "a", Line: 1, Column: 4},
			{Version: "", Image: "r/web", Path: "b", Line: 2, Column: 4},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Read([]byte(tc.data), tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Read (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSet covers edits that are not worth a golden directory: one-line
// inputs whose whole output is easy to read in the table.
func TestSet(t *testing.T) {
	t.Parallel()
	values := Location{HelmValues: "image.tag"}
	web := Location{KustomizeImage: "web"}
	tests := []struct {
		name    string
		data    string
		loc     Location
		version string
		want    string
		changes []Change
	}{
		{name: "plain stays plain", data: "image: {tag: 1.4.1}\n", loc: values, version: "1.4.2", want: "image: {tag: 1.4.2}\n",
			changes: []Change{{Path: "image.tag", Line: 1, Old: "1.4.1", New: "1.4.2"}}},
		{name: "plain number is quoted", data: "image:\n  tag: 1.4.1\n", loc: values, version: "2", want: "image:\n  tag: \"2\"\n"},
		{name: "plain bool is quoted", data: "image:\n  tag: x\n", loc: values, version: "true", want: "image:\n  tag: \"true\"\n"},
		{name: "plain comment char is quoted", data: "image:\n  tag: x\n", loc: values, version: "a #b", want: "image:\n  tag: \"a #b\"\n"},
		{name: "plain indicator is quoted", data: "image:\n  tag: x\n", loc: values, version: "@sha", want: "image:\n  tag: \"@sha\"\n"},
		{name: "plain mapping text is quoted", data: "image:\n  tag: x\n", loc: values, version: "a: b", want: "image:\n  tag: \"a: b\"\n"},
		{name: "flow comma is quoted", data: "image: {tag: x}\n", loc: values, version: "a,b", want: "image: {tag: \"a,b\"}\n"},
		{name: "block comma stays plain", data: "image:\n  tag: x\n", loc: values, version: "a,b", want: "image:\n  tag: a,b\n"},
		{name: "single quotes doubled", data: "image:\n  tag: 'x'\n", loc: values, version: "it's", want: "image:\n  tag: 'it''s'\n"},
		{name: "double quotes escaped", data: "image:\n  tag: \"x\"\n", loc: values, version: `a"b\c`, want: "image:\n  tag: \"a\\\"b\\\\c\"\n"},
		{name: "non-ASCII kept", data: "image:\n  tag: \"x\"\n", loc: values, version: "ünï", want: "image:\n  tag: \"ünï\"\n"},
		{name: "anchor and tag kept", data: "image:\n  tag: &t !!str 1.4.1 # c\nother: *t\n", loc: values, version: "1.4.2",
			want: "image:\n  tag: &t !!str 1.4.2 # c\nother: *t\n"},
		{name: "null replaced", data: "image:\n  tag: ~\n", loc: values, version: "1.0.0", want: "image:\n  tag: 1.0.0\n"},
		{name: "same version is a no-op", data: "image:\n  tag: \"1.4.1\"\n", loc: values, version: "1.4.1", want: "image:\n  tag: \"1.4.1\"\n"},
		{name: "no trailing newline", data: "image:\n  tag: 1.4.1", loc: values, version: "1.4.2", want: "image:\n  tag: 1.4.2"},
		{name: "lone CR line breaks", data: "a: 1\rimage:\r  tag: 1.4.1\r", loc: values, version: "1.4.2", want: "a: 1\rimage:\r  tag: 1.4.2\r"},
		{name: "indexed path in nested sequences", data: "a:\n- - {b: 1}\n  - {b: 2}\n", loc: Location{HelmValues: "a[0][1].b"}, version: "3", want: "a:\n- - {b: 1}\n  - {b: \"3\"}\n"},
		{name: "kustomize insert at end of file without newline", data: "images:\n- name: web", loc: web, version: "1.0.0",
			want: "images:\n- name: web\n  newTag: 1.0.0", changes: []Change{{Path: "images[0].newTag", Line: 3, New: "1.0.0"}}},
		{name: "kustomize insert uses the file's line break", data: "images:\r\n- name: 'web'", loc: web, version: "1.0.0",
			want: "images:\r\n- name: 'web'\r\n  newTag: '1.0.0'"},
		{name: "kustomize insert tag and digest", data: "images:\n  -   name: web # c\n  - name: api\n", loc: web, version: "1.0@" + digest1,
			want:    "images:\n  -   name: web # c\n      newTag: \"1.0\"\n      digest: " + digest1 + "\n  - name: api\n",
			changes: []Change{{Path: "images[0].newTag", Line: 3, New: "1.0"}, {Path: "images[0].digest", Line: 4, New: digest1}}},
		{name: "kustomize digest replaces tag line", data: "images:\n- name: web\n  newTag: 1.0\n  digest: " + digest1 + "\n", loc: web, version: digest9,
			want:    "images:\n- name: web\n  digest: " + digest9 + "\n",
			changes: []Change{{Path: "images[0].newTag", Line: 3, Old: "1.0"}, {Path: "images[0].digest", Line: 4, Old: digest1, New: digest9}}},
		{name: "kustomize digest rename to tag", data: "images:\n- name: web\n  digest: " + digest1 + "\n", loc: web, version: "1.1",
			want: "images:\n- name: web\n  newTag: \"1.1\"\n"},
		{name: "kustomize remove last line without newline", data: "images:\n- name: web\n  newTag: v1\n  digest: " + digest1, loc: web, version: "v2",
			want: "images:\n- name: web\n  newTag: v2"},
		{name: "kustomize flow remove middle", data: "images: [{name: web, newTag: v1, digest: " + digest1 + ", newName: x}]\n", loc: web, version: "v2",
			want: "images: [{name: web, newTag: v2, newName: x}]\n"},
		{name: "kustomize flow remove first", data: "images: [{digest: " + digest1 + ", newTag: v1, name: web}]\n", loc: web, version: "v2",
			want: "images: [{newTag: v2, name: web}]\n"},
		{name: "setter full ref to digest only", data: "image: r/web:1.0 # {\"$imagepolicy\": \"ns:web\"}\n", loc: Location{Setter: "ns:web"}, version: digest1,
			want: "image: r/web@" + digest1 + " # {\"$imagepolicy\": \"ns:web\"}\n"},
		{name: "setter in block sequence", data: "images:\n- r/web:1.0 # {\"$imagepolicy\": \"ns:web\"}\n- r/web:1.0\n", loc: Location{Setter: "ns:web"}, version: "1.1",
			want: "images:\n- r/web:1.1 # {\"$imagepolicy\": \"ns:web\"}\n- r/web:1.0\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, changes, err := Set([]byte(tc.data), tc.loc, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("Set (-want +got):\n%s", diff)
			}
			if tc.changes != nil {
				if diff := cmp.Diff(tc.changes, changes); diff != "" {
					t.Errorf("changes (-want +got):\n%s", diff)
				}
			}
			if tc.data == tc.want && changes != nil {
				t.Errorf("no-op reported changes %v", changes)
			}
			if tc.data != tc.want {
				checkOnlyVersionLines(t, []byte(tc.data), got, tc.loc)
			}
		})
	}
}

func TestSetImageName(t *testing.T) {
	t.Parallel()
	got, changes, err := SetImageName([]byte("images:\n- name: web\n  newTag: v1\n"), Location{KustomizeImage: "web"}, "mirror/web")
	if err != nil {
		t.Fatal(err)
	}
	if want := "images:\n- name: web\n  newName: mirror/web\n  newTag: v1\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if want := []Change{{Path: "images[0].newName", Line: 3, New: "mirror/web"}}; !cmp.Equal(want, changes) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	for _, tc := range []struct {
		loc     Location
		name    string
		wantErr string
	}{
		{Location{HelmValues: "image.tag"}, "x", "carries no image name"},
		{Location{KustomizeImage: "web"}, "x:1.0", "carries a tag or digest"},
		{Location{Setter: "ns:web"}, "x", "setter ns:web not found: no image reference or name marker"},
	} {
		_, _, err := SetImageName([]byte("a: b # {\"$imagepolicy\": \"ns:web:tag\"}\nimages: [{name: web}]\n"), tc.loc, tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("SetImageName(%v, %q) = %v, want %q", tc.loc, tc.name, err, tc.wantErr)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	web := Location{KustomizeImage: "ghcr.io/acme/web"}
	values := Location{HelmValues: "image.tag"}
	hr := "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: %s\nspec:\n  chart:\n    spec:\n      version: 1.0.0\n"
	argo := "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  sources:\n  - targetRevision: 1.0.0\n  - targetRevision: main\n"
	tests := []struct {
		name    string
		data    string
		loc     Location
		version string
		read    bool // test Read instead of Set
		wantErr string
		is      error
	}{
		{name: "missing image", data: "images:\n- name: ghcr.io/acme/api\n  newTag: v1\n", loc: web, version: "v2",
			wantErr: "kustomize image ghcr.io/acme/web not found", is: ErrNotFound},
		{name: "missing image read", read: true, data: "kind: Kustomization\n", loc: web,
			wantErr: "kustomize image ghcr.io/acme/web not found", is: ErrNotFound},
		{name: "ambiguous image", data: "images:\n- name: ghcr.io/acme/web\n  newTag: v1\n- name: ghcr.io/acme/web\n  newTag: v1\n", loc: web, version: "v2",
			wantErr: "kustomize image ghcr.io/acme/web is ambiguous: 2 matches, at lines 2, 4", is: ErrAmbiguous},
		{name: "images entry not a mapping", data: "images:\n- name: ghcr.io/acme/web\n- web\n", loc: web, version: "v2",
			wantErr: "line 3: images[1] is a scalar, not a mapping"},
		{name: "images not a sequence", data: "images: {name: web}\n", loc: web, version: "v2",
			wantErr: "line 1: images is a mapping, not a sequence"},
		{name: "newTag not a scalar", data: "images:\n- name: ghcr.io/acme/web\n  newTag: [v1]\n", loc: web, version: "v2",
			wantErr: "line 3: images[0].newTag is a sequence, not a scalar"},
		{name: "bad path", data: "a: b\n", loc: Location{HelmValues: "image.[0]"}, version: "v2",
			wantErr: "invalid version location: helmValues: path \"image.[0]\": bad key"},
		{name: "non-scalar at path", data: "image:\n  tag:\n    name: x\n", loc: values, version: "v2",
			wantErr: "line 3: image.tag is a mapping, not a scalar"},
		{name: "non-mapping on the path", data: "image:\n  - tag: x\n", loc: values, version: "v2",
			wantErr: "line 2: image is a sequence, not a mapping"},
		{name: "non-sequence on the path", data: "a: {b: c}\n", loc: Location{HelmValues: "a[0].b"}, version: "v2",
			wantErr: "line 1: a is a mapping, not a sequence"},
		{name: "values path missing", data: "image:\n  repository: x\n", loc: values, version: "v2",
			wantErr: "helm values image.tag not found", is: ErrNotFound},
		{name: "values ambiguous over documents", data: "image: {tag: a}\n---\nimage: {tag: b}\n", loc: values, version: "v2",
			wantErr: "helm values image.tag is ambiguous: 2 matches, at lines 1, 3", is: ErrAmbiguous},
		{name: "duplicate key", data: "image:\n  tag: a\n  tag: b\n", loc: values, version: "v2",
			wantErr: "line 3: duplicate key \"tag\""},
		{name: "block scalar", data: "image:\n  tag: |\n    v1\n", loc: values, version: "v2",
			wantErr: "image.tag: line 2: block scalar (| or >) not supported"},
		{name: "multi-line plain", data: "image:\n  tag: v1\n    more\n", loc: values, version: "v2",
			wantErr: "image.tag: line 2: multi-line value not supported"},
		{name: "multi-line quoted", data: "image:\n  tag: \"v1\n    more\"\n", loc: values, version: "v2",
			wantErr: "image.tag: line 2: multi-line value not supported"},
		{name: "empty value", data: "image:\n  tag:\n", loc: values, version: "v2",
			wantErr: "image.tag: line 2: the value is empty"},
		{name: "explicit non-string tag", data: "image:\n  tag: !!int 5\n", loc: values, version: "v2",
			wantErr: "line 2: image.tag is tagged !!int, not a string"},
		{name: "invalid YAML", data: "image: [\n", loc: values, version: "v2", wantErr: "parsing YAML: "},
		{name: "version with newline", data: "image: {tag: a}\n", loc: values, version: "1.0\n", wantErr: "setting helm values image.tag: version \"1.0\\n\" contains a control or line-break character"},
		{name: "version with tab", data: "image: {tag: a}\n", loc: values, version: "1\t0", wantErr: "contains a control"},
		{name: "version with line separator", data: "image: {tag: a}\n", loc: values, version: "1\u20280", wantErr: "contains a control"},
		{name: "version with leading space", data: "image: {tag: a}\n", loc: values, version: " 1.0", wantErr: "has leading or trailing white space"},
		{name: "version with trailing space", data: "image: {tag: a}\n", loc: values, version: "1.0 ", wantErr: "has leading or trailing white space"},
		{name: "empty version", data: "image: {tag: a}\n", loc: values, version: "", wantErr: "version is empty"},
		{name: "bad image tag", data: "images: [{name: ghcr.io/acme/web}]\n", loc: web, version: "feature/x", wantErr: "version \"feature/x\" is not a valid image tag or digest"},
		{name: "remove on the dash line", data: "images:\n- digest: " + digest1 + "\n  name: ghcr.io/acme/web\n  newTag: v1\n", loc: web, version: "v2",
			wantErr: "line 2: cannot remove images[0].digest: it shares its line with the entry's dash"},
		{name: "HelmRelease missing", data: "kind: ConfigMap\n", loc: Location{HelmReleaseChart: true}, version: "2.0.0",
			wantErr: "HelmRelease spec.chart.spec.version not found: no HelmRelease document", is: ErrNotFound},
		{name: "HelmRelease name missing", data: strings.ReplaceAll(hr, "%s", "api"), loc: Location{HelmReleaseChart: true, Name: "web"}, version: "2.0.0",
			wantErr: "HelmRelease web spec.chart.spec.version not found: no HelmRelease named web", is: ErrNotFound},
		{name: "HelmRelease chartRef", data: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\nspec:\n  chartRef: {kind: OCIRepository, name: web}\n",
			loc: Location{HelmReleaseChart: true}, version: "2.0.0",
			wantErr: "not found: HelmRelease web (line 1) uses spec.chartRef; its version is in the referenced source", is: ErrNotFound},
		{name: "HelmRelease ambiguous", data: strings.ReplaceAll(hr, "%s", "web") + "---\n" + strings.ReplaceAll(hr, "%s", "api"), loc: Location{HelmReleaseChart: true}, version: "2.0.0",
			wantErr: "HelmRelease spec.chart.spec.version is ambiguous: 2 matches, at lines 8, 17; set name to choose one", is: ErrAmbiguous},
		{name: "HelmRelease chart not a mapping", read: true, data: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\nspec:\n  chart: web\n",
			loc: Location{HelmReleaseChart: true}, wantErr: "HelmRelease web (line 1): line 5: spec.chart is a scalar, not a mapping"},
		{name: "Argo sources ambiguous", read: true, data: argo, loc: Location{ArgoTargetRevision: true},
			wantErr: "Application spec.source.targetRevision is ambiguous: 2 matches, at lines 7, 8; Application web (line 1) has 2 sources, set argoSourceIndex to choose one", is: ErrAmbiguous},
		{name: "Argo index out of range", data: argo, loc: Location{ArgoTargetRevision: true, ArgoSourceIndex: intp(2)}, version: "2.0.0",
			wantErr: "Application spec.sources[2].targetRevision not found: Application web (line 1) has no spec.sources[2].targetRevision", is: ErrNotFound},
		{name: "Argo no revision", read: true, data: "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web}\nspec:\n  source: {repoURL: x}\n", loc: Location{ArgoTargetRevision: true},
			wantErr: "Application web (line 1) has no spec.source.targetRevision", is: ErrNotFound},
		{name: "setter tag marker needs a tag", data: "t: 1.0 # {\"$imagepolicy\": \"ns:web:tag\"}\n", loc: Location{Setter: "ns:web"}, version: digest1,
			wantErr: "line 1: setter ns:web:tag needs a tag, version " + digest1 + " has none"},
		{name: "setter digest marker needs a digest", data: "d: x # {\"$imagepolicy\": \"ns:web:digest\"}\n", loc: Location{Setter: "ns:web"}, version: "1.0",
			wantErr: "line 1: setter ns:web:digest needs a digest"},
		{name: "setter unknown field", read: true, data: "t: 1.0 # {\"$imagepolicy\": \"ns:web:version\"}\n", loc: Location{Setter: "ns:web"},
			wantErr: "line 1: unsupported $imagepolicy marker \"ns:web:version\""},
		{name: "setter marker without value", data: "image: # {\"$imagepolicy\": \"ns:web\"}\n", loc: Location{Setter: "ns:web"}, version: "1.0",
			wantErr: "setter ns:web: line 1: the value is empty"},
		{name: "setter marker on a key line", read: true, data: "image: # {\"$imagepolicy\": \"ns:web\"}\n  a: b\n", loc: Location{Setter: "ns:web"},
			wantErr: "line 1: setter ns:web: the marker is not a comment after a scalar value"},
		{name: "setter only a name marker", data: "i: r/web # {\"$imagepolicy\": \"ns:web:name\"}\n", loc: Location{Setter: "ns:web"}, version: "1.0",
			wantErr: "setter ns:web not found", is: ErrNotFound},
		{name: "setter after a flow sequence", data: "images: [r/web:1.0] # {\"$imagepolicy\": \"ns:web\"}\n", loc: Location{Setter: "ns:web"}, read: true,
			wantErr: "line 1: setter ns:web: the marker is not a comment after a scalar value"},
		{name: "setter other policy", read: true, data: "i: r/web:1 # {\"$imagepolicy\": \"ns:api\"}\n", loc: Location{Setter: "ns:web"},
			wantErr: "setter ns:web not found", is: ErrNotFound},
		{name: "UTF-16", read: true, data: "\xff\xfei\x00", loc: values, wantErr: "UTF-16 is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tc.read {
				_, err = Read([]byte(tc.data), tc.loc)
			} else {
				var out []byte
				out, _, err = Set([]byte(tc.data), tc.loc, tc.version)
				if out != nil {
					t.Errorf("data returned with an error")
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

func TestChangeString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    Change
		want string
	}{
		{Change{Path: "images[0].newTag", Line: 7, Old: "1.4.1", New: "1.4.2"}, "line 7 images[0].newTag: 1.4.1 → 1.4.2"},
		{Change{Path: "images[0].newTag", Line: 7, New: "1.4.2"}, "line 7 images[0].newTag: (none) → 1.4.2"},
		{Change{Path: "images[0].digest", Line: 8, Old: digest1}, "line 8 images[0].digest: " + digest1 + " → (removed)"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// TestMergeBomb: merge keys nested so that a naive lookup visits 2^40
// mappings must still be answered (each mapping is visited once).
func TestMergeBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("m0: &m0 {a: 1}\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "m%d: &m%d {<<: [*m%d, *m%d]}\n", i, i, i-1, i-1)
	}
	b.WriteString("image:\n  <<: *m40\n")
	_, err := Read([]byte(b.String()), Location{HelmValues: "image.tag"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
}
