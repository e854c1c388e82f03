package remediate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objdiff"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/objpath"
)

// FuzzAdopt drives the --adopt YAML editor with arbitrary files: it picks a
// field of an object the file declares and adopts a live change to it (a new
// value, its removal, or a new key beside it). Adopt must not panic, and a
// file it agrees to edit must read back, as kubectl reads it, as the
// original objects with exactly that change.
//
//	go test -fuzz=FuzzAdopt -fuzztime=3m ./pkg/remediate/
func FuzzAdopt(f *testing.F) {
	for i, src := range []string{
		deployment,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop, labels: {team: a}}\ndata: {mode: production, level: info, \"port\": \"8080\"}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels:\n    gone: \"x\"\ndata:\n  enabled: \"false\"\n  mode: '0644'\n  script: |\n    echo one\n    echo two\n",
		"apiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: a}\r\ndata: {k: v}\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: b\r\ndata:\r\n  k: v\r\n",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data:\n    k: [1, 2]\n",
	} {
		for op := range 3 {
			f.Add([]byte(src), uint8(op), uint8(i*7), []string{"yes", "nginx:1.28", "multi\nline\n", "a: b", "", "0755"}[(i+op)%6])
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, op, pick uint8, value string) {
		if len(src) > 8<<10 || len(value) > 256 {
			return
		}
		objs, err := readObjects(t.Context(), src)
		if err != nil || len(objs) == 0 {
			return
		}
		target := objs[int(pick)%len(objs)]
		if target.Obj.GetName() == "" || target.Obj.GetKind() == "" || target.Obj.GetKind() == "Secret" {
			return
		}
		var leaves []objpath.Path
		objpath.Walk(target.Obj.Object, func(p objpath.Path, _ any) {
			if len(p) > 1 && p[0] != "apiVersion" && p[0] != "kind" && (p[0] != "metadata" || (p[1] != "name" && p[1] != "namespace")) {
				leaves = append(leaves, p)
			}
		})
		if len(leaves) == 0 {
			return
		}
		path := leaves[int(pick)%len(leaves)]
		old, _ := objpath.Get(target.Obj.Object, path)
		live := runtime.DeepCopyJSON(target.Obj.Object)
		var change objdiff.Change
		var v any = value
		if op&4 != 0 {
			v = int64(len(value))
		}
		switch op % 3 {
		case 0:
			if !objpath.Set(live, path, v) {
				return
			}
			change = modified(path, v, old)
		case 1:
			if !objpath.Delete(live, path) {
				return
			}
			change = missing(path, old)
		default:
			parent := path[:len(path)-1]
			if _, isKey := path[len(path)-1].(string); !isKey {
				return
			}
			path = parent.Key("fuzz-" + fmt.Sprint(pick))
			if _, exists := objpath.Get(live, path); exists || !objpath.Set(live, path, v) {
				return
			}
			change = extra(path, v)
		}

		dir := t.TempDir()
		file := filepath.Join(dir, "f.yaml")
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
		o := target.Obj
		rep := &compare.Report{Objects: []compare.ObjectReport{{
			APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName(),
			Source: fmt.Sprintf("%s:%d", file, target.Source.Line), Status: compare.StatusModified,
			Live: live, After: runtime.DeepCopyJSON(o.Object), Changes: []objdiff.Change{change},
		}}}
		a, err := Adopt(t.Context(), rep)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Files) == 0 {
			return
		}
		if len(a.Files) != 1 || len(a.Adopted) != 1 || len(a.Refused) != 0 {
			t.Fatalf("one change: files %d, adopted %v, refused %v", len(a.Files), a.Adopted, a.Refused)
		}
		got, err := readObjects(t.Context(), a.Files[0].After)
		if err != nil {
			t.Fatalf("the edited file does not read back: %v\n%s", err, a.Files[0].After)
		}
		if len(got) != len(objs) {
			t.Fatalf("%d objects after, %d before:\n%s", len(got), len(objs), a.Files[0].After)
		}
		for i := range objs {
			want := objs[i].Obj.Object
			if objs[i].Source == target.Source {
				want = live
			}
			if !objdiff.Equal(want, got[i].Obj.Object) {
				t.Fatalf("object %d reads back as\n%v\nwant\n%v\nfile:\n%s", i, got[i].Obj.Object, want, a.Files[0].After)
			}
		}
		if !strings.Contains(string(a.Files[0].Before), string(src)) {
			t.Fatal("Before is not the file read")
		}
	})
}
