// Package benchstat provides the statistics the benchmark tools under hack/
// share: reading a comma-separated series of numbers, and its median.
package benchstat

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Floats parses the comma-separated numbers of s (spaces around each
// trimmed). It returns every number it could parse, and an error naming the
// first item that is not one: a caller may refuse the series, or keep what
// parsed.
func Floats(s string) ([]float64, error) {
	var out []float64
	var bad error
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			if bad == nil {
				bad = fmt.Errorf("bad number %q", p)
			}
			continue
		}
		out = append(out, v)
	}
	return out, bad
}

// Median returns the median of v (the mean of the two middle values for an
// even count), 0 for none. v is not reordered.
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	switch {
	case len(s) == 0:
		return 0
	case len(s)%2 == 1:
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
