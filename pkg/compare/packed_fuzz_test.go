package compare_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/compare"
	"github.com/kubectl-gitops/kubectl-gitops/pkg/manifest"
)

// FuzzPackRoundTrip: every object the manifest reader gives reads back
// from compare.Pack exactly as it was (the property the reports' byte
// identity rests on). Seeded with pkg/manifest's test data.
func FuzzPackRoundTrip(f *testing.F) {
	seeds, _ := filepath.Glob("../manifest/testdata/*.yaml")
	more, _ := filepath.Glob("../manifest/testdata/*.json")
	for _, p := range append(seeds, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := manifest.Load(context.Background(), manifest.Options{Filenames: []string{manifest.Stdin}, Stdin: bytes.NewReader(data)})
		if err != nil {
			return
		}
		for _, o := range set.Objects {
			d := compare.Pack(o.Obj, o.Source.String())
			if d.Object != nil {
				t.Fatalf("not packed: %#v", o.Obj.Object)
			}
			got, err := d.Load()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Object, o.Obj.Object) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got.Object, o.Obj.Object)
			}
			if d.Head() != (compare.Head{APIVersion: o.Obj.GetAPIVersion(), Kind: o.Obj.GetKind(), Namespace: o.Obj.GetNamespace(), Name: o.Obj.GetName()}) {
				t.Fatalf("head %+v", d.Head())
			}
		}
	})
}
