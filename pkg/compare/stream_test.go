package compare

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-gitops/kubectl-gitops/pkg/cluster"
)

// pagedCluster serves the fake cluster's LISTs in pages (the continue token
// is the next item's index); the page numbered failPage (from 1) fails with
// failErr.
type pagedCluster struct {
	*fakeCluster
	failPage int
	failErr  error
}

func (p *pagedCluster) ListPage(ctx context.Context, m *meta.RESTMapping, ns, sel string, page cluster.Page) ([]unstructured.Unstructured, string, error) {
	all, err := p.List(ctx, m, ns, sel)
	if err != nil {
		return nil, "", err
	}
	from := 0
	if page.Continue != "" {
		from, _ = strconv.Atoi(page.Continue)
	}
	if p.failPage > 0 && from/int(page.Limit)+1 == p.failPage {
		return nil, "", p.failErr
	}
	to := min(from+int(page.Limit), len(all))
	next := ""
	if to < len(all) {
		next = strconv.Itoa(to)
	}
	return all[from:to], next, nil
}

// TestListPageError: a LIST page that fails after the first leaves the
// objects of the pages before it compared; only the objects not yet read
// are errors (a missing one among them cannot be told missing). A fatal
// error on any page ends the run.
func TestListPageError(t *testing.T) {
	t.Parallel()
	var live, desired []*unstructured.Unstructured
	for i := range 8 {
		name := fmt.Sprintf("cm-%d", i)
		live = append(live, configMap("shop", name, withData("k", "v")))
		desired = append(desired, configMap("shop", name, withData("k", "v")))
	}
	desired = append(desired, configMap("shop", "cm-9-missing", withData("k", "v")))
	opts := Options{Mode: ModeLocal, MaxLive: 16} // pages of 4

	boom := apierrors.NewInternalError(errors.New("etcd leader changed"))
	p := &pagedCluster{fakeCluster: &fakeCluster{live: live}, failPage: 2, failErr: boom}
	rep, err := (&Engine{Reader: p, Applier: p}).Run(t.Context(), git(desired...), opts)
	if err != nil {
		t.Fatal(err)
	}
	var want []row
	for i := range 8 {
		r := row{ID: fmt.Sprintf("ConfigMap shop/cm-%d", i), Status: StatusUnchanged}
		if i >= 4 {
			r = row{ID: r.ID, Status: StatusError, Reason: "reading the live object: " + boom.Error()}
		}
		want = append(want, r)
	}
	want = append(want, row{ID: "ConfigMap shop/cm-9-missing", Status: StatusError, Reason: "reading the live object: " + boom.Error()})
	if diff := cmp.Diff(want, rows(rep)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}

	refused := errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	p = &pagedCluster{fakeCluster: &fakeCluster{live: live}, failPage: 2, failErr: refused}
	if rep, err := (&Engine{Reader: p, Applier: p}).Run(t.Context(), git(desired...), opts); !errors.Is(err, refused) || rep != nil {
		t.Errorf("Run = %v, %v; want no report and %v", rep, err, refused)
	}

	// Without a failure, pages give the report one LIST gives.
	p = &pagedCluster{fakeCluster: &fakeCluster{live: live}}
	oneList := rows(run(t, p.fakeCluster, opts, git(desired...)))
	rep, err = (&Engine{Reader: p, Applier: p}).Run(t.Context(), git(desired...), opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(oneList, rows(rep)); diff != "" {
		t.Errorf("paged report (-one LIST +pages):\n%s", diff)
	}
}
