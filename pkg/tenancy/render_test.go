package tenancy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func loadExample(t *testing.T) []*Tenant {
	t.Helper()
	data, err := os.ReadFile("testdata/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tenants, err := Parse("tenants.yaml", data)
	if err != nil {
		t.Fatalf("parsing the example: %v", err)
	}
	return tenants
}

// concat joins rendered files into one golden text with file headers.
func concat(files []RenderedFile) []byte {
	var b bytes.Buffer
	for _, f := range files {
		b.WriteString("=== " + f.Path + "\n")
		b.Write(f.Data)
	}
	return b.Bytes()
}

func TestRenderGolden(t *testing.T) {
	for _, tn := range loadExample(t) {
		t.Run(tn.Name, func(t *testing.T) {
			files, err := Render(tn)
			if err != nil {
				t.Fatal(err)
			}
			got := concat(files)
			golden := filepath.Join("testdata", tn.Name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("render differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	first := loadExample(t)
	for i := 0; i < 5; i++ {
		again := loadExample(t)
		for j := range first {
			a, err := Render(first[j])
			if err != nil {
				t.Fatal(err)
			}
			b, err := Render(again[j])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(concat(a), concat(b)) {
				t.Fatalf("render %d of %s differs", i, first[j].Name)
			}
		}
	}
}

func TestRenderedSpecRoundTrips(t *testing.T) {
	for _, tn := range loadExample(t) {
		files, err := Render(tn)
		if err != nil {
			t.Fatal(err)
		}
		var spec []byte
		for _, f := range files {
			if strings.HasSuffix(f.Path, "/"+FileSpec) {
				spec = f.Data
			}
		}
		back, err := Parse(FileSpec, spec)
		if err != nil {
			t.Fatalf("%s: reading back the written spec: %v", tn.Name, err)
		}
		again, err := Render(back[0])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(concat(files)), string(concat(again))); diff != "" {
			t.Errorf("%s: render from the written spec differs (-first +second):\n%s", tn.Name, diff)
		}
	}
}

func TestCheckFile(t *testing.T) {
	files, err := Render(loadExample(t)[1])
	if err != nil {
		t.Fatal(err)
	}
	data := files[0].Data
	if got := CheckFile(data); got != Pristine {
		t.Errorf("generated file: %v, want Pristine", got)
	}
	edited := bytes.Replace(data, []byte("team-b"), []byte("team-x"), 1)
	if bytes.Equal(edited, data) {
		t.Fatal("edit did not change the file")
	}
	if got := CheckFile(edited); got != Edited {
		t.Errorf("edited file: %v, want Edited", got)
	}
	if got := CheckFile([]byte("apiVersion: v1\nkind: Namespace\n")); got != Foreign {
		t.Errorf("hand-written file: %v, want Foreign", got)
	}
}
