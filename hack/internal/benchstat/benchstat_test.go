package benchstat

import (
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := slices.Clone(tc.in)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("Median reordered its input: %v, was %v", in, tc.in)
		}
	}
}

func TestFloatsKeepsWhatParsesAndNamesTheFirstBadItem(t *testing.T) {
	t.Parallel()
	got, err := Floats("1.5, 2,x,3,y")
	if want := []float64{1.5, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("Floats = %v, want %v", got, want)
	}
	if err == nil || err.Error() != `bad number "x"` {
		t.Errorf("error %v, want bad number \"x\"", err)
	}
	if got, err := Floats("4,5"); err != nil || !slices.Equal(got, []float64{4, 5}) {
		t.Errorf("Floats(4,5) = %v, %v", got, err)
	}
}
